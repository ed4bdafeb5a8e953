from typing import List, Optional

import torch
import torch.nn.functional as F

from mmssl.registry import MODELS
from mmssl.structures import DataSample

from .base import BaseSelfSupervisor


def sample_negatives(indices: torch.Tensor, length: int, num_negatives: int) -> torch.Tensor:
    """(B, K) bank indices drawn uniformly from the *other* entries of a bank of ``length``.

    Drawing from all entries lets the sample's own entry act as a negative about ``K / length`` times;
    each copy cancels part of the pull towards the positive, and when ``K`` approaches the data set size
    (small data sets, e.g. the demo) the positive term stops teaching anything.
    """
    if length < 2:
        raise ValueError(f'the memory bank needs at least 2 entries to draw negatives, got {length}')
    draws = torch.randint(0, length - 1, (len(indices), num_negatives), device=indices.device)
    return draws + (draws >= indices[:, None]).long()


@MODELS.register_module()
class NPID(BaseSelfSupervisor):
    """Non-parametric instance discrimination (Wu et al., CVPR 2018).

    Each image (B, C, H, W) is embedded by backbone → neck (e.g. :class:`LinearNeck` 2048 → 128) → L2
    normalisation, and classified as its own instance against a memory bank of every training image's
    embedding (:class:`SimpleMemory`, which the dataset's ``sample_idx`` indexes). Negatives are
    ``head.num_negatives`` entries drawn uniformly per sample from the bank's other entries. After the loss, the
    batch's embeddings are blended into the bank (momentum 0.5 by default), on every process alike.

    Args:
        memory_bank: config of the bank; its ``length`` must equal the training set size
            (checked at the start of training by :class:`MemoryBankSizeCheckHook`).
        Other args as in :class:`BaseSelfSupervisor`.
    """

    def __init__(self, backbone: dict, neck: dict, head: dict, memory_bank: dict,
                 data_preprocessor: Optional[dict] = None, init_cfg=None):
        super().__init__(backbone, neck, head, data_preprocessor, init_cfg)
        self.memory_bank = MODELS.build(memory_bank)

    def embed(self, inputs: torch.Tensor) -> torch.Tensor:
        """L2-normalised embeddings (B, feat_dim) of images (B, C, H, W)."""
        return F.normalize(self.neck(self.backbone(inputs))[0], dim=1)

    def loss(self, inputs: torch.Tensor, data_samples: List[DataSample]) -> dict:
        indices = torch.tensor([sample.sample_idx for sample in data_samples], device=inputs.device)
        embeddings = self.embed(inputs)
        bank = self.memory_bank
        negative_idx = sample_negatives(indices, bank.length, self.head.num_negatives)
        negatives = bank.get(negative_idx.flatten()).view(len(indices), self.head.num_negatives, -1)
        losses = self.head.loss(embeddings, bank.get(indices), negatives, bank.length)
        bank.update(indices, embeddings)
        return losses

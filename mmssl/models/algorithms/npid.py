from typing import List, Optional

import torch
import torch.nn.functional as F

from mmssl.registry import MODELS
from mmssl.structures import DataSample

from .base import BaseSelfSupervisor


@MODELS.register_module()
class NPID(BaseSelfSupervisor):
    """Non-parametric instance discrimination (Wu et al., CVPR 2018).

    Each image (B, C, H, W) is embedded by backbone → neck (e.g. :class:`LinearNeck` 2048 → 128) → L2
    normalisation, and classified as its own instance against a memory bank of every training image's
    embedding (:class:`SimpleMemory`, which the dataset's ``sample_idx`` indexes). Negatives are
    ``head.num_negatives`` bank entries drawn uniformly per sample. After the loss, the batch's embeddings
    are blended into the bank (momentum 0.5 by default), on every process alike.

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
        negative_idx = torch.randint(0, bank.length, (len(indices), self.head.num_negatives), device=inputs.device)
        negatives = bank.get(negative_idx.flatten()).view(len(indices), self.head.num_negatives, -1)
        losses = self.head.loss(embeddings, bank.get(indices), negatives, bank.length)
        bank.update(indices, embeddings)
        return losses

from typing import List, Optional

import torch
import torch.nn.functional as F

from mmssl.registry import MODELS
from mmssl.structures import DataSample

from .base import BaseSelfSupervisor


def sample_negatives(indices: torch.Tensor, length: int, num_negatives: int, ensure_neg: bool = False) -> torch.Tensor:
    """(B, K) bank indices drawn uniformly per sample from a bank of ``length`` entries.

    ``ensure_neg=False`` (mmselfsup 0.x/1.x default, ``mmselfsup/models/algorithms/npid.py``): uniform over **all**
    entries, so a sample's own entry is drawn as a "negative" about ``K / length`` times per step (rare for
    ImageNet; when ``K`` approaches the data set size, e.g. small demo sets, each copy cancels part of the pull
    towards the positive). ``ensure_neg=True`` (the toolbox's ``npid-ensure-neg`` config): uniform over the
    *other* entries; the toolbox redraws collisions until none is left, which gives the same distribution as
    drawing from the ``length - 1`` others directly, as done here.
    """
    if not ensure_neg:
        if length < 1:
            raise ValueError(f'the memory bank needs at least 1 entry to draw negatives, got {length}')
        return torch.randint(0, length, (len(indices), num_negatives), device=indices.device)
    if length < 2:
        raise ValueError(f'the memory bank needs at least 2 entries to draw negatives with ensure_neg, got {length}')
    draws = torch.randint(0, length - 1, (len(indices), num_negatives), device=indices.device)
    return draws + (draws >= indices[:, None]).long()


@MODELS.register_module()
class NPID(BaseSelfSupervisor):
    """Non-parametric instance discrimination (Wu et al., CVPR 2018).

    Each image (B, C, H, W) is embedded by backbone → neck (e.g. :class:`LinearNeck` 2048 → 128) → L2
    normalisation, and classified as its own instance against a memory bank of every training image's
    embedding (:class:`SimpleMemory`, which the dataset's ``sample_idx`` indexes). Negatives are
    ``head.num_negatives`` entries drawn uniformly per sample from all bank entries (``ensure_neg=False``, the
    toolbox default) or from the other entries only (``ensure_neg=True``); see :func:`sample_negatives`. After
    the loss, the batch's embeddings are blended into the bank, ``(1 − m)·old + m·new`` with m = 0.5, on every
    process alike.

    Args:
        memory_bank: config of the bank; its ``length`` must equal the training set size
            (checked at the start of training by :class:`MemoryBankSizeCheckHook`).
        ensure_neg: never draw a sample's own entry as one of its negatives (mmselfsup's ``ensure_neg``).
        Other args as in :class:`BaseSelfSupervisor`.
    """

    def __init__(self, backbone: dict, neck: dict, head: dict, memory_bank: dict, ensure_neg: bool = False,
                 data_preprocessor: Optional[dict] = None, init_cfg=None):
        super().__init__(backbone, neck, head, data_preprocessor, init_cfg)
        self.memory_bank = MODELS.build(memory_bank)
        self.ensure_neg = ensure_neg

    def embed(self, inputs: torch.Tensor) -> torch.Tensor:
        """L2-normalised embeddings (B, feat_dim) of images (B, C, H, W)."""
        return F.normalize(self.neck(self.backbone(inputs))[0], dim=1)

    def loss(self, inputs: torch.Tensor, data_samples: List[DataSample]) -> dict:
        indices = torch.tensor([sample.sample_idx for sample in data_samples], device=inputs.device)
        embeddings = self.embed(inputs)
        bank = self.memory_bank
        negative_idx = sample_negatives(indices, bank.length, self.head.num_negatives, self.ensure_neg)
        negatives = bank.get(negative_idx.flatten()).view(len(indices), self.head.num_negatives, -1)
        losses = self.head.loss(embeddings, bank.get(indices), negatives, bank.length)
        bank.update(indices, embeddings)
        return losses

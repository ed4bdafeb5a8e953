import torch
import torch.distributed as dist
import torch.nn.functional as F
from mmengine.dist import get_world_size
from mmengine.model import BaseModule

from mmssl.registry import MODELS


def _all_gather_cat(tensor: torch.Tensor) -> torch.Tensor:
    """Concatenate ``tensor`` (same shape on every rank) from all ranks, rank order."""
    if get_world_size() == 1:
        return tensor
    gathered = [torch.empty_like(tensor) for _ in range(get_world_size())]
    dist.all_gather(gathered, tensor.contiguous())
    return torch.cat(gathered)


@MODELS.register_module()
class SimpleMemory(BaseModule):
    """Memory bank of one L2-normalised embedding per training sample (NPID).

    The bank is the buffer ``feature_bank`` of shape (length, feat_dim), so it is saved in and restored from
    checkpoints with the model. :meth:`update` blends in new (L2-normalised) embeddings with ``momentum`` and
    re-normalises, as mmselfsup 0.x/1.x ``mmselfsup/models/memories/simple_memory.py``;
    under distributed training the indices and embeddings of all ranks are gathered first, so every rank
    applies the same update and the banks stay identical.

    Args:
        length: number of samples (the training set size).
        feat_dim: embedding width.
        momentum: weight m of the *new* embedding, bank ← normalise((1 − m) · bank + m · normalise(new)) (the
            toolbox's meaning; 0.5 in every NPID config).
    """

    def __init__(self, length: int, feat_dim: int = 128, momentum: float = 0.5):
        super().__init__()
        if length <= 0:
            raise ValueError(f'SimpleMemory length must be positive, got {length}')
        self.length = length
        self.feat_dim = feat_dim
        self.momentum = momentum
        self.register_buffer('feature_bank', F.normalize(torch.randn(length, feat_dim), dim=1))

    def _check_indices(self, indices: torch.Tensor) -> None:
        if indices.numel() and (indices.min() < 0 or indices.max() >= self.length):
            raise IndexError(f'memory bank of {self.length} entries got sample indices in '
                             f'[{indices.min().item()}, {indices.max().item()}]; the bank length must equal '
                             'the training set size')

    def get(self, indices: torch.Tensor) -> torch.Tensor:
        """Entries (len(indices), feat_dim) for sample indices."""
        self._check_indices(indices)
        return self.feature_bank[indices]

    @torch.no_grad()
    def update(self, indices: torch.Tensor, features: torch.Tensor) -> None:
        """Blend ``features`` (N, feat_dim) into the entries ``indices`` (N,), on every rank alike."""
        indices = _all_gather_cat(indices)
        features = _all_gather_cat(F.normalize(features.detach(), dim=1))
        self._check_indices(indices)
        blended = (1 - self.momentum) * self.feature_bank[indices] + self.momentum * features
        self.feature_bank[indices] = F.normalize(blended, dim=1)

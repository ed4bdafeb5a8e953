from typing import Sequence, Union

import numpy as np
import torch
from mmengine.structures import BaseDataElement

LabelLike = Union[torch.Tensor, np.ndarray, Sequence[int], int]


def to_label_tensor(value: LabelLike) -> torch.Tensor:
    """Labels as a 1-D long tensor (a scalar becomes one element)."""
    if isinstance(value, torch.Tensor):
        tensor = value.long()
    else:
        tensor = torch.as_tensor(np.asarray(value), dtype=torch.long)
    return tensor.reshape(-1)


class DataSample(BaseDataElement):
    """Per-sample annotations and predictions passed between datasets, models and metrics.

    Fields used in mmssl (all optional):

    - ``gt_label``: (L,) long tensor; one class index for classification, L pair labels for relative location,
      or a VOC-encoded vector (1 positive, -1 negative, 0 difficult) for multi-label data.
    - ``pred_score``: (L, num_classes) or (num_classes,) float tensor of class scores.
    - ``pred_label``: (L,) long tensor, argmax of ``pred_score``.
    - ``sample_idx``: index of the sample in its dataset (NPID's memory bank uses it).

    Multi-head classifiers store one score tensor per head in the ``pred_scores`` dict field.
    """

    def set_gt_label(self, value: LabelLike) -> 'DataSample':
        self.set_field(to_label_tensor(value), 'gt_label', dtype=torch.Tensor)
        return self

    def set_pred_score(self, value: torch.Tensor) -> 'DataSample':
        self.set_field(value, 'pred_score', dtype=torch.Tensor)
        self.set_field(value.argmax(dim=-1).reshape(-1), 'pred_label', dtype=torch.Tensor)
        return self

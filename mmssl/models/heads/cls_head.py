from typing import Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn

from mmssl.registry import MODELS


@MODELS.register_module()
class ClsHead(BaseModule):
    """Linear classifier with cross-entropy loss, optionally on globally average-pooled features.

    Input: a tuple whose last element is (N, in_channels) or, with ``with_avg_pool``, (N, in_channels, h, w).
    ``forward`` returns logits (N, num_classes); ``loss`` returns ``{'loss': scalar}`` for (N,) integer labels.

    Args:
        in_channels: feature width.
        num_classes: number of classes.
        with_avg_pool: average-pool a feature map to a vector first.
        loss_weight: scale of the cross-entropy loss.
        fc_name: name of the Linear layer, so checkpoints carry the keys of the toolbox a model follows: ``fc``
            (mmpretrain's linear heads, the benchmarks) or ``fc_cls`` (mmselfsup 0.x / 1.x ``ClsHead``, relative
            location).
        init_cfg: initialisation; relative location uses ``Normal`` std 0.005, linear probes std 0.01.
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 with_avg_pool: bool = False,
                 loss_weight: float = 1.0,
                 fc_name: str = 'fc',
                 init_cfg: Optional[Union[dict, list]] = dict(type='Normal', std=0.01, layer='Linear')):
        super().__init__(init_cfg=init_cfg)
        self.with_avg_pool = with_avg_pool
        self.avgpool = nn.AdaptiveAvgPool2d(1) if with_avg_pool else nn.Identity()
        self.fc_name = fc_name
        self.num_classes = num_classes  # checked against the training labels before training (DataCheckHook)
        self.add_module(fc_name, nn.Linear(in_channels, num_classes))
        self.loss_weight = loss_weight

    @property
    def classifier(self) -> nn.Linear:
        return getattr(self, self.fc_name)

    def forward(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        x = feats[-1]
        if self.with_avg_pool:
            x = self.avgpool(x)
        return self.classifier(torch.flatten(x, 1))

    def loss(self, feats: Sequence[torch.Tensor], labels: torch.Tensor) -> dict:
        return dict(loss=self.loss_weight * F.cross_entropy(self(feats), labels))

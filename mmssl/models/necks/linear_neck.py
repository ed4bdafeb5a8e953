from typing import Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule
from torch import nn

from mmssl.registry import MODELS


@MODELS.register_module()
class LinearNeck(BaseModule):
    """Global average pool (optional) → Linear: the embedding neck of NPID.

    Input: a tuple whose last element is (N, in_channels, h, w) (or (N, in_channels) without pooling).
    Output: a 1-tuple with (N, out_channels).

    ``init_cfg=None`` (default) keeps PyTorch's default Linear initialisation, as mmselfsup 0.x/1.x
    ``mmselfsup/models/necks/linear_neck.py`` does.
    """

    def __init__(self, in_channels: int = 2048, out_channels: int = 128, with_avg_pool: bool = True,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.avgpool = nn.AdaptiveAvgPool2d(1) if with_avg_pool else nn.Identity()
        self.fc = nn.Linear(in_channels, out_channels)

    def forward(self, x: Sequence[torch.Tensor]) -> Tuple[torch.Tensor]:
        return (self.fc(torch.flatten(self.avgpool(x[-1]), 1)), )

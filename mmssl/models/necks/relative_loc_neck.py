from typing import Optional, Sequence, Tuple, Union

import torch
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from torch import nn

from mmssl.registry import MODELS


@MODELS.register_module()
class RelativeLocNeck(BaseModule):
    """Pair neck of relative-location prediction: pool → FC → BN1d → ReLU → Dropout.

    Input: a 1-tuple with the channel-wise concatenation of the centre and neighbour feature maps,
    (N, 2 * in_channels, h, w). Output: a 1-tuple with (N, out_channels).

    Args:
        in_channels: channels of one patch's feature map (2048 for ResNet-50's feature5).
        out_channels: width of the FC layer (4096 in the toolbox).
        with_avg_pool: global-average-pool the map first (otherwise it is flattened).
        norm_cfg: norm after the FC layer; the toolbox uses BN1d with momentum 0.003.
        dropout: dropout probability after the ReLU.
    """

    def __init__(self,
                 in_channels: int = 2048,
                 out_channels: int = 4096,
                 with_avg_pool: bool = True,
                 norm_cfg: dict = dict(type='BN1d', momentum=0.003),
                 dropout: float = 0.5,
                 init_cfg: Optional[Union[dict, list]] = (
                     dict(type='Normal', std=0.01, layer='Linear'),
                     dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm']))):
        super().__init__(init_cfg=list(init_cfg) if init_cfg is not None else None)
        self.with_avg_pool = with_avg_pool
        self.avgpool = nn.AdaptiveAvgPool2d(1) if with_avg_pool else nn.Identity()
        self.fc = nn.Linear(in_channels * 2, out_channels)
        self.bn = build_norm_layer(norm_cfg, out_channels)[1]
        self.relu = nn.ReLU(inplace=True)
        self.drop = nn.Dropout(p=dropout)

    def forward(self, x: Sequence[torch.Tensor]) -> Tuple[torch.Tensor]:
        if len(x) != 1:
            raise ValueError(f'RelativeLocNeck expects one feature map, got {len(x)}')
        out = torch.flatten(self.avgpool(x[0]), 1)
        return (self.drop(self.relu(self.bn(self.fc(out)))), )

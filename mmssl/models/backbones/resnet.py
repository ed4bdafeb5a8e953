from typing import Optional, Sequence, Tuple, Union

import torch
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmssl.registry import MODELS

from ..utils.taps import Tap, TapsMixin

#: The five ResNet taps: name, stride, and the SVM / multi-head linear protocol's AvgPool2d (kernel, stride,
#: padding) with the output side it reaches at 224 px, which ``'adaptive'`` pooling reaches at any input size
#: (FAIR benchmark ``extra_scripts``; mmselfsup 0.x ``configs/benchmarks/classification/svm_voc07``): 12x12, 6x6,
#: 4x4, 3x3 and 2x2 maps, 9216 / 9216 / 8192 / 9216 / 8192 dims for ResNet-50.
RESNET_TAPS = (
    ('feature1', 2, (10, 10, 4), 12),  # stem: conv1 -> bn1 -> ReLU, before the max-pool
    ('feature2', 4, (16, 8, 0), 6),  # layer1
    ('feature3', 8, (13, 5, 0), 4),  # layer2
    ('feature4', 16, (8, 3, 0), 3),  # layer3
    ('feature5', 32, (6, 1, 0), 2),  # layer4
)


def conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False)


def norm_layer(norm_cfg: dict, num_features: int) -> nn.Module:
    return build_norm_layer(norm_cfg, num_features)[1]


def resnet_taps(depth: int = 50) -> Tuple[Tap, ...]:
    """The five taps of a ResNet of ``depth`` (feature1 … feature5, network order) with their channels."""
    if depth not in ResNet.arch_settings:
        raise KeyError(f'ResNet depth must be one of {sorted(ResNet.arch_settings)}, got {depth}')
    expansion = ResNet.arch_settings[depth][0].expansion
    channels = [64] + [64 * 2**stage * expansion for stage in range(4)]
    return tuple(Tap(name, channels=width, stride=stride, adaptive_size=adaptive_size, specified_pooling=pooling)
                 for (name, stride, pooling, adaptive_size), width in zip(RESNET_TAPS, channels))


class BasicBlock(nn.Module):
    """Two 3×3 convolutions with a residual connection (ResNet-18/34), torchvision layout."""
    expansion = 1

    def __init__(self, in_channels: int, channels: int, stride: int = 1,
                 downsample: Optional[nn.Module] = None, norm_cfg: dict = dict(type='BN')):
        super().__init__()
        self.conv1 = conv3x3(in_channels, channels, stride)
        self.bn1 = norm_layer(norm_cfg, channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(channels, channels)
        self.bn2 = norm_layer(norm_cfg, channels)
        self.downsample = downsample

    @property
    def last_norm(self) -> nn.Module:
        return self.bn2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1×1 → 3×3 (strided, as torchvision's "ResNet v1.5") → 1×1 bottleneck with a residual connection."""
    expansion = 4

    def __init__(self, in_channels: int, channels: int, stride: int = 1,
                 downsample: Optional[nn.Module] = None, norm_cfg: dict = dict(type='BN')):
        super().__init__()
        out_channels = channels * self.expansion
        self.conv1 = conv1x1(in_channels, channels)
        self.bn1 = norm_layer(norm_cfg, channels)
        self.conv2 = conv3x3(channels, channels, stride)
        self.bn2 = norm_layer(norm_cfg, channels)
        self.conv3 = conv1x1(channels, out_channels)
        self.bn3 = norm_layer(norm_cfg, out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    @property
    def last_norm(self) -> nn.Module:
        return self.bn3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


@MODELS.register_module()
class ResNet(TapsMixin, BaseModule):
    """ResNet with the five feature taps used by self-supervised benchmarks.

    State-dict keys are torchvision's (``conv1``, ``bn1``, ``layer1.0.conv1``, ``layer1.0.downsample.0``, …),
    so weights move to and from torchvision, mmdet and mmseg unchanged. There is no ``fc``.

    Output taps (``out_indices``), for a 224×224 input to ResNet-50:

    ==========  ==========  =============================================  ================
    index       name        where                                           shape
    ==========  ==========  =============================================  ================
    0           feature1    stem: conv1 → bn1 → ReLU, before the max-pool   (N, 64, 112, 112)
    1           feature2    ``layer1``                                      (N, 256, 56, 56)
    2           feature3    ``layer2``                                      (N, 512, 28, 28)
    3           feature4    ``layer3``                                      (N, 1024, 14, 14)
    4           feature5    ``layer4``                                      (N, 2048, 7, 7)
    ==========  ==========  =============================================  ================

    ResNet-18/34 have 64/64/128/256/512 channels at the same taps. ``taps`` declares them (:func:`resnet_taps`),
    ``out_taps`` those returned.

    Args:
        depth: 18, 34, 50, 101 or 152.
        in_channels: input image channels.
        out_indices: which taps to return, as a tuple in the given order.
        frozen_stages: -1 trains everything; 0 freezes the stem; k ≥ 1 freezes the stem and ``layer1``…``layerk``
            (parameters get no gradient and their norm layers stay in eval mode).
        norm_cfg: mmcv norm config, e.g. ``dict(type='BN')`` or ``dict(type='SyncBN')``.
        norm_eval: keep every norm layer in eval mode (frozen running statistics) while training.
        zero_init_residual: start the last norm of each residual block at zero so blocks begin as identities.
        init_cfg: mmengine init config; ``None`` gives torchvision's default initialisation.
    """
    arch_settings = {
        18: (BasicBlock, (2, 2, 2, 2)),
        34: (BasicBlock, (3, 4, 6, 3)),
        50: (Bottleneck, (3, 4, 6, 3)),
        101: (Bottleneck, (3, 4, 23, 3)),
        152: (Bottleneck, (3, 8, 36, 3)),
    }

    def __init__(self,
                 depth: int = 50,
                 in_channels: int = 3,
                 out_indices: Sequence[int] = (4, ),
                 frozen_stages: int = -1,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 norm_eval: bool = False,
                 zero_init_residual: bool = False,
                 init_cfg: Optional[Union[dict, list]] = None):
        super().__init__(init_cfg=init_cfg)
        if depth not in self.arch_settings:
            raise KeyError(f'ResNet depth must be one of {sorted(self.arch_settings)}, got {depth}')
        out_indices = tuple(out_indices)
        self.taps = resnet_taps(depth)
        bad = [i for i in out_indices if not 0 <= i < len(self.taps)]
        if not out_indices or bad:
            raise ValueError(f'ResNet out_indices must be non-empty values in 0..4 (0 = stem/feature1, '
                             f'4 = layer4/feature5), got {out_indices}')
        if not -1 <= frozen_stages <= 4:
            raise ValueError(f'ResNet frozen_stages must be in -1..4, got {frozen_stages}')
        self.depth = depth
        self.out_indices = out_indices
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.zero_init_residual = zero_init_residual

        block, stage_blocks = self.arch_settings[depth]
        self.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = norm_layer(norm_cfg, 64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        channels_in = 64
        for stage, num_blocks in enumerate(stage_blocks):
            channels = 64 * 2**stage
            layer = self._make_layer(block, channels_in, channels, num_blocks, stride=1 if stage == 0 else 2,
                                     norm_cfg=norm_cfg)
            self.add_module(f'layer{stage + 1}', layer)
            channels_in = channels * block.expansion
        self._freeze_stages()

    @staticmethod
    def _make_layer(block, in_channels: int, channels: int, num_blocks: int, stride: int,
                    norm_cfg: dict) -> nn.Sequential:
        out_channels = channels * block.expansion
        downsample = None
        if stride != 1 or in_channels != out_channels:
            downsample = nn.Sequential(conv1x1(in_channels, out_channels, stride), norm_layer(norm_cfg, out_channels))
        blocks = [block(in_channels, channels, stride, downsample, norm_cfg)]
        blocks += [block(out_channels, channels, norm_cfg=norm_cfg) for _ in range(1, num_blocks)]
        return nn.Sequential(*blocks)

    def init_weights(self) -> None:
        if self.init_cfg is not None:
            super().init_weights()
            return
        # torchvision's initialisation, so a random mmssl ResNet is the same baseline as a random torchvision one.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            elif isinstance(m, (_BatchNorm, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if self.zero_init_residual:
            for m in self.modules():
                if isinstance(m, (BasicBlock, Bottleneck)):
                    nn.init.constant_(m.last_norm.weight, 0)

    def _frozen_modules(self):
        if self.frozen_stages >= 0:
            yield from (self.conv1, self.bn1)
        for stage in range(1, self.frozen_stages + 1):
            yield getattr(self, f'layer{stage}')

    def _freeze_stages(self) -> None:
        for module in self._frozen_modules():
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True):
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Return the taps in ``out_indices`` order for a batch ``x`` of shape (N, C, H, W)."""
        taps = [self.relu(self.bn1(self.conv1(x)))]
        x = self.maxpool(taps[0])
        last_needed = max(self.out_indices)
        for stage in range(1, last_needed + 1):
            x = getattr(self, f'layer{stage}')(x)
            taps.append(x)
        return tuple(taps[i] for i in self.out_indices)

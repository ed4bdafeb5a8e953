from typing import Dict, Mapping, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from torch import nn

from mmssl.registry import MODELS

from ..utils.taps import Tap


class LinearProbe(nn.Module):
    """Pool → per-channel norm → flatten → Linear: one head of the multi-head linear evaluation.

    Input (N, C, H, W) from one backbone tap; output logits (N, num_classes). The norm (BatchNorm without affine
    by default) acts on the pooled 4-D map (N, C, h, w), i.e. one mean/variance per channel over batch and
    positions, as mmselfsup 0.x/1.x (``mmselfsup/models/heads/multi_cls_head.py``: ``build_norm_layer(norm_cfg,
    FEAT_CHANNELS[i])`` applied before the ``view``) and the FAIR benchmark (SpatialBN) do; not per flattened
    feature.

    Args:
        pool: the tap's pooling module.
        channels: C, the tap's channel count (64 / 256 / 512 / 1024 / 2048 for ResNet-50's taps).
        in_features: length after pooling and flattening (C·h·w).
        num_classes: number of classes.
        norm_cfg: mmcv norm config built for ``channels`` (``type='BN'`` → BatchNorm2d, ``'SyncBN'``, ``'GN'``),
            or ``None`` for no norm.
    """

    def __init__(self, pool: nn.Module, channels: int, in_features: int, num_classes: int,
                 norm_cfg: Optional[dict] = dict(type='BN', momentum=0.1, affine=False)):
        super().__init__()
        self.pool = pool
        self.norm = build_norm_layer(norm_cfg, channels)[1] if norm_cfg is not None else nn.Identity()
        self.fc = nn.Linear(in_features, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hint = 'set in_size to the input resolution or use pool_type="adaptive"'
        try:
            pooled = self.pool(x)
        except RuntimeError as error:
            raise ValueError(f'a {tuple(x.shape[-2:])} feature map is too small for {self.pool}; {hint}') from error
        if pooled.shape[1:].numel() != self.fc.in_features:
            raise ValueError(f'{pooled.shape[1:].numel()} pooled features but the head expects '
                             f'{self.fc.in_features}; {hint}')
        return self.fc(torch.flatten(self.norm(pooled), 1))


@MODELS.register_module()
class MultiClsHead(BaseModule):
    """Linear heads on several backbone taps at once, plus an optional global-average-pool head on the last one.

    Input: the backbone's output feature maps, described by ``taps`` in the same order (the backbone's
    ``out_taps``; :class:`ImageClassifier` passes them when the config does not). Each tap gets its benchmark pooling
    (:meth:`Tap.pooling`), a per-channel norm on the pooled map (``norm_cfg``, default BatchNorm2d without affine,
    momentum 0.1; the multi-GPU configs use SyncBN as the toolbox does) and a Linear layer (init normal std 0.01).
    ``forward`` returns ``{head_name: logits (N, num_classes)}``, one head per tap named after it (``feature1`` …
    ``feature5`` on a ResNet) plus ``avgpool``; ``loss`` is the sum of the heads' cross-entropies, one
    ``loss_<head>`` entry per head.

    Args:
        taps: the :class:`Tap` (or a dict of its fields) of each input feature map, in input order.
        num_classes: number of classes.
        in_size: input resolution the specified pooling is sized for (224 in every protocol).
        pool_type: ``'specified'`` (exact protocol pooling) or ``'adaptive'`` (same output sizes, any input).
        with_avgpool_head: add an ``avgpool`` head: global average pool of the last map → Linear.
        norm_cfg: norm of every tap head, built with the tap's channel count; ``None`` for none.
    """

    def __init__(self,
                 taps: Optional[Sequence[Union[Tap, Mapping]]] = None,
                 num_classes: int = 1000,
                 in_size: int = 224,
                 pool_type: str = 'specified',
                 with_avgpool_head: bool = True,
                 norm_cfg: Optional[dict] = dict(type='BN', momentum=0.1, affine=False),
                 init_cfg: Optional[dict] = dict(type='Normal', std=0.01, layer='Linear')):
        super().__init__(init_cfg=init_cfg)
        if not taps:
            raise ValueError('MultiClsHead needs the taps of its inputs (taps=backbone.out_taps); ImageClassifier '
                             'passes them when the head config gives none')
        self.taps = tuple(Tap.coerce(tap) for tap in taps)
        names = [tap.name for tap in self.taps]
        if len(set(names)) != len(names) or (with_avgpool_head and 'avgpool' in names):
            raise ValueError(f'MultiClsHead: head names must be distinct (avgpool included), got taps {names}')
        self.num_classes = num_classes  # checked against the training labels before training (DataCheckHook)
        self.heads = nn.ModuleDict()
        for tap in self.taps:
            self.heads[tap.name] = LinearProbe(tap.pooling(pool_type), tap.channels,
                                               tap.pooled_dim(in_size, pool_type), num_classes, norm_cfg=norm_cfg)
        if with_avgpool_head:
            self.heads['avgpool'] = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(1),
                                                  nn.Linear(self.taps[-1].channels, num_classes))

    def forward(self, feats: Sequence[torch.Tensor]) -> Dict[str, torch.Tensor]:
        if len(feats) != len(self.taps):
            names = ', '.join(tap.name for tap in self.taps)
            raise ValueError(f'MultiClsHead expects {len(self.taps)} feature maps (taps {names}), '
                             f'got {len(feats)}; match the backbone out_indices')
        logits = {tap.name: self.heads[tap.name](x) for tap, x in zip(self.taps, feats)}
        if 'avgpool' in self.heads:
            logits['avgpool'] = self.heads['avgpool'](feats[-1])
        return logits

    def loss(self, feats: Sequence[torch.Tensor], labels: torch.Tensor) -> dict:
        # mmengine sums every "loss*" entry into the total it back-propagates; each head's term only reaches
        # that head's parameters, so the heads train independently, and each is logged under its own name.
        return {f'loss_{name}': F.cross_entropy(logits, labels) for name, logits in self(feats).items()}

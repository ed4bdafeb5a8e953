from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from torch import nn

from mmssl.registry import MODELS

from ..utils.taps import Tap


def grid_head_name(name: str, lr_mult: float, wd_mult: float = 1) -> str:
    """Name of the head of ``name`` (a tap or ``avgpool``) at learning-rate multiplier ``lr_mult`` and weight-decay
    multiplier ``wd_mult`` of a grid: the plain name at (1, 1) (the config's own lr and weight decay, the fixed
    protocol), ``<name>@lrx<lr_mult>`` at another lr, ``<name>@lrx<lr_mult>_wdx<wd_mult>`` at another weight decay."""
    if wd_mult != 1:
        return f'{name}@lrx{lr_mult:g}_wdx{wd_mult:g}'
    return name if lr_mult == 1 else f'{name}@lrx{lr_mult:g}'


def _module_key(head_name: str) -> str:
    # A module name may not contain '.', which a multiplier such as 0.1 brings.
    return head_name.replace('.', '_')


def _check_multipliers(grid: Sequence[float], key: str, what: str) -> Tuple[float, ...]:
    """``grid`` as a tuple, refused unless it holds distinct positive multipliers that include 1."""
    grid = tuple(grid)
    bad = [mult for mult in grid if isinstance(mult, bool) or not isinstance(mult, (int, float)) or not mult > 0]
    if bad or not grid:
        raise ValueError(f'MultiClsHead: {key} must hold positive {what} multipliers, got {list(grid)} '
                         f'(not positive: {bad})')
    if 1 not in grid:
        raise ValueError(f"MultiClsHead: {key} must contain 1 (the config's own {what}, the fixed protocol), "
                         f'got {list(grid)}')
    names = [f'{mult:g}' for mult in grid]
    repeated = sorted({mult for mult, name in zip(grid, names) if names.count(name) > 1})
    if repeated:
        raise ValueError(f'MultiClsHead: {key} multipliers must be distinct, got {list(grid)} (repeated: {repeated})')
    return grid


def check_lr_grid(lr_grid: Sequence[float]) -> Tuple[float, ...]:
    """``lr_grid`` as a tuple, refused unless it holds distinct positive multipliers that include 1."""
    return _check_multipliers(lr_grid, 'lr_grid', 'learning-rate')


def check_wd_grid(wd_grid: Sequence[float]) -> Tuple[float, ...]:
    """``wd_grid`` as a tuple, refused unless it holds distinct positive multipliers that include 1."""
    return _check_multipliers(wd_grid, 'wd_grid', 'weight-decay')


def grid_points(lr_grid: Optional[Sequence[float]] = None,
                wd_grid: Optional[Sequence[float]] = None) -> Tuple[Tuple[float, float], ...]:
    """The (lr multiplier, weight-decay multiplier) points of a grid, lr-major in the order given (checked)."""
    lrs = (1, ) if lr_grid is None else check_lr_grid(lr_grid)
    wds = (1, ) if wd_grid is None else check_wd_grid(wd_grid)
    return tuple((lr, wd) for lr in lrs for wd in wds)


def lr_grid_custom_keys(lr_grid: Optional[Sequence[float]],
                        wd_grid: Optional[Sequence[float]] = None) -> Dict[str, dict]:
    """The ``optim_wrapper.paramwise_cfg.custom_keys`` that give every head of the grid its learning rate and
    weight decay.

    One key per point other than (1, 1), matching the parameters of the heads at that point on every tap
    (``head.heads.feature5@lrx0_1.fc.weight``; the trailing dot keeps ``@lrx1`` from matching ``@lrx10`` and
    ``@lrx1.`` from matching ``@lrx1_wdx10.``): ``lr_mult``, and ``decay_mult`` where the weight decay differs.
    The optimizer then holds each head's parameters in their own groups, with their own momentum buffers, and the
    schedulers scale every group's lr by the same factor: each head trains as it would alone at that point.
    """
    keys = {}
    for lr, wd in grid_points(lr_grid, wd_grid):
        if (lr, wd) != (1, 1):
            options = dict(lr_mult=lr) if wd == 1 else dict(lr_mult=lr, decay_mult=wd)
            keys[f'{_module_key(grid_head_name("", lr, wd))}.'] = options
    return keys


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
        lr_grid: learning-rate multipliers of the config's lr (``None``: one head per tap). Every head is built
            once per multiplier, all reading the same frozen forward; the head at 1 keeps the plain name, the
            others are named ``<tap>@lrx<mult>`` (:func:`grid_head_name`). The multipliers reach the optimizer
            through ``paramwise_cfg.custom_keys`` (:func:`lr_grid_custom_keys`; the ``linear`` benchmark adds
            them). The grid heads leave the global random stream as it is without a grid and start from their
            plain head's weights, so a grid point starts where its single-point run starts.
        wd_grid: weight-decay multipliers of the config's weight decay (``None``: the config's only); the grid is
            every (lr, wd) pair, the head at (1, 1) keeping the plain name, the others named
            ``<tap>@lrx<lr>_wdx<wd>`` where the weight decay differs. The multipliers reach the optimizer as
            ``decay_mult`` of the same custom keys.
    """

    def __init__(self,
                 taps: Optional[Sequence[Union[Tap, Mapping]]] = None,
                 num_classes: int = 1000,
                 in_size: int = 224,
                 pool_type: str = 'specified',
                 with_avgpool_head: bool = True,
                 norm_cfg: Optional[dict] = dict(type='BN', momentum=0.1, affine=False),
                 lr_grid: Optional[Sequence[float]] = None,
                 wd_grid: Optional[Sequence[float]] = None,
                 init_cfg: Optional[dict] = dict(type='Normal', std=0.01, layer='Linear')):
        super().__init__(init_cfg=init_cfg)
        self.lr_grid = (1, ) if lr_grid is None else check_lr_grid(lr_grid)
        self.wd_grid = (1, ) if wd_grid is None else check_wd_grid(wd_grid)
        self.grid = grid_points(self.lr_grid, self.wd_grid)
        if not taps:
            raise ValueError('MultiClsHead needs the taps of its inputs (taps=backbone.out_taps); ImageClassifier '
                             'passes them when the head config gives none')
        self.taps = tuple(Tap.coerce(tap) for tap in taps)
        names = [tap.name for tap in self.taps]
        if len(set(names)) != len(names) or (with_avgpool_head and 'avgpool' in names):
            raise ValueError(f'MultiClsHead: head names must be distinct (avgpool included), got taps {names}')
        self.num_classes = num_classes  # checked against the training labels before training (DataCheckHook)
        self.heads = nn.ModuleDict()
        # Plain heads first, in the order of a run without a grid; the grid's extra heads draw their
        # construction-time init from a forked generator, so the global random stream is the same as without one.
        for point in sorted(self.grid, key=lambda point: point != (1, 1)):
            with torch.random.fork_rng(devices=[], enabled=point != (1, 1)):
                for tap in self.taps:
                    self.heads[_module_key(grid_head_name(tap.name, *point))] = LinearProbe(
                        tap.pooling(pool_type), tap.channels, tap.pooled_dim(in_size, pool_type), num_classes,
                        norm_cfg=norm_cfg)
                if with_avgpool_head:
                    self.heads[_module_key(grid_head_name('avgpool', *point))] = nn.Sequential(
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(1), nn.Linear(self.taps[-1].channels, num_classes))

    def head_names(self, base: str) -> List[str]:
        """The names of the heads of ``base`` (a tap or ``avgpool``), one per grid point, in grid order."""
        return [grid_head_name(base, *point) for point in self.grid]

    def bases(self) -> List[str]:
        """The taps' names, then ``avgpool`` when the head has one: what a grid point is chosen for."""
        return [tap.name for tap in self.taps] + (['avgpool'] if 'avgpool' in self.heads else [])

    def init_weights(self):
        """Initialise the plain heads as ``init_cfg`` says, then start every grid head from its plain head's
        weights (the grid heads are set aside meanwhile, so that the init draws the same numbers as without a grid).
        """
        if self.is_init:
            return super().init_weights()  # mmengine skips a second call; trained grid heads must stay
        bases = self.bases()
        grid_heads = {key: module for key, module in self.heads.items() if key not in bases}
        for key in grid_heads:
            del self.heads[key]
        try:
            super().init_weights()
        finally:
            self.heads.update(grid_heads)
        for base in bases:
            for name in self.head_names(base):
                if name != base:
                    self.heads[_module_key(name)].load_state_dict(self.heads[base].state_dict())

    def forward(self, feats: Sequence[torch.Tensor]) -> Dict[str, torch.Tensor]:
        if len(feats) != len(self.taps):
            names = ', '.join(tap.name for tap in self.taps)
            raise ValueError(f'MultiClsHead expects {len(self.taps)} feature maps (taps {names}), '
                             f'got {len(feats)}; match the backbone out_indices')
        inputs = [(tap.name, x) for tap, x in zip(self.taps, feats)]
        if 'avgpool' in self.heads:
            inputs.append(('avgpool', feats[-1]))
        return {name: self.heads[_module_key(name)](x) for base, x in inputs for name in self.head_names(base)}

    def loss(self, feats: Sequence[torch.Tensor], labels: torch.Tensor) -> dict:
        # mmengine sums every "loss*" entry into the total it back-propagates; each head's term only reaches
        # that head's parameters, so the heads train independently, and each is logged under its own name.
        return {f'loss_{name}': F.cross_entropy(logits, labels) for name, logits in self(feats).items()}

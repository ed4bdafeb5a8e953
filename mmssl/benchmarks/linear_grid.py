"""The learning-rate / weight-decay grid of the ``linear`` benchmark: its options, checks and optimizer groups.

A grid is ``model.head.lr_grid`` and ``model.head.wd_grid`` of a :class:`~mmssl.models.heads.MultiClsHead`: multipliers
of the config's ``optim_wrapper.optimizer.lr`` and ``weight_decay``, every (lr, wd) pair a head of its own on the same
frozen forward. The config's point (1, 1) is always in the grid and keeps the plain head names. The command line
(``--lr-grid`` / ``--wd-grid``, also a suite entry's ``args``) sets the same two keys.
"""
from typing import Optional, Sequence, Tuple

from mmengine.config import Config

from mmssl.models.heads.multi_cls_head import grid_points, lr_grid_custom_keys
from mmssl.utils.errors import InputError

__all__ = ['add_grid_arguments', 'apply_grid_options', 'base_hyper_parameters', 'check_grid', 'grid_of',
           'add_lr_grid_param_groups']


def add_grid_arguments(parser):
    """``--lr-grid`` / ``--wd-grid``: multipliers of the config's lr and weight decay (1 must be among them)."""
    parser.add_argument('--lr-grid', type=float, nargs='+', metavar='MULT',
                        help="learning-rate multipliers of the config's lr, one head per tap and point on one frozen "
                        'forward (1, the fixed protocol, must be among them); sets model.head.lr_grid')
    parser.add_argument('--wd-grid', type=float, nargs='+', metavar='MULT',
                        help="weight-decay multipliers of the config's weight_decay (1 must be among them); sets "
                        'model.head.wd_grid')
    return parser


def _as_numbers(values: Sequence[float]) -> list:
    # 1.0 from the command line reads as 1, so that the plain head keeps its name and its custom key none.
    return [int(value) if float(value).is_integer() else float(value) for value in values]


def apply_grid_options(cfg: Config, lr_grid: Optional[Sequence[float]] = None,
                       wd_grid: Optional[Sequence[float]] = None) -> Config:
    """Put the command line's grid into ``cfg.model.head`` (a multi-head config's); nothing when neither is given."""
    for key, values in (('lr_grid', lr_grid), ('wd_grid', wd_grid)):
        if values is not None:
            head = cfg.model.get('head') or {}
            if head.get('type') != 'MultiClsHead':
                raise InputError(f'--{key.replace("_", "-")} {" ".join(map(str, values))}: {cfg.filename} has '
                                 f'model.head.type {head.get("type")!r}; a grid needs a MultiClsHead config')
            cfg.model.head[key] = _as_numbers(values)
    return cfg


def grid_of(cfg: Config) -> Tuple[Optional[list], Optional[list]]:
    """``(lr_grid, wd_grid)`` of the config's head (``None`` where it sets none)."""
    head = cfg.model.get('head') or {}
    lr_grid, wd_grid = head.get('lr_grid'), head.get('wd_grid')
    return (None if lr_grid is None else list(lr_grid)), (None if wd_grid is None else list(wd_grid))


def base_hyper_parameters(cfg: Config) -> Tuple[float, float]:
    """The config's ``(lr, weight_decay)`` (the fixed protocol's point; weight decay 0 when unset)."""
    optimizer = cfg.optim_wrapper.get('optimizer') or {}
    return optimizer.get('lr'), optimizer.get('weight_decay', 0) or 0


def check_grid(cfg: Config) -> Tuple[Tuple[float, float], ...]:
    """The grid's (lr multiplier, wd multiplier) points, checked before any work: positive, distinct multipliers
    that include 1, a positive lr in the config and a non-zero weight decay where the weight decay is swept.

    Raises:
        InputError: naming the config, the key and the value.
    """
    lr_grid, wd_grid = grid_of(cfg)
    where = cfg.filename or 'the config'
    try:
        points = grid_points(lr_grid, wd_grid)
    except ValueError as error:
        raise InputError(f'{where}: model.head: {error}') from None
    if lr_grid is None and wd_grid is None:
        return points
    lr, weight_decay = base_hyper_parameters(cfg)
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or lr <= 0:
        raise InputError(f'{where}: optim_wrapper.optimizer.lr is {lr!r}; a grid of lr multipliers needs a '
                         'positive lr')
    if weight_decay < 0:
        raise InputError(f'{where}: optim_wrapper.optimizer.weight_decay is {weight_decay!r}, expected >= 0')
    if weight_decay == 0 and wd_grid is not None and list(wd_grid) != [1]:
        raise InputError(f'{where}: model.head.wd_grid {list(wd_grid)} multiplies weight_decay 0: every point would '
                         'be 0; set optim_wrapper.optimizer.weight_decay to the fixed protocol\'s non-zero value')
    return points


def add_lr_grid_param_groups(cfg: Config) -> Config:
    """Give the heads of the config's grid (``model.head.lr_grid`` / ``wd_grid`` of a :class:`MultiClsHead`) their
    learning rates and weight decays: the grid's ``custom_keys`` are added to ``cfg.optim_wrapper.paramwise_cfg``,
    before the Runner builds the optimizer. Keys the config already sets must agree; without a grid ``cfg`` is
    unchanged."""
    lr_grid, wd_grid = grid_of(cfg)
    if not lr_grid and not wd_grid:
        return cfg
    paramwise = dict(cfg.optim_wrapper.get('paramwise_cfg') or {})
    custom_keys = dict(paramwise.get('custom_keys') or {})
    for key, options in lr_grid_custom_keys(lr_grid, wd_grid).items():
        given = custom_keys.get(key)
        if given is not None and dict(given) != options:
            grids = f'model.head.lr_grid {lr_grid}' + ('' if wd_grid is None else f', wd_grid {wd_grid}')
            raise ValueError(f'optim_wrapper.paramwise_cfg.custom_keys[{key!r}] is {dict(given)}, but '
                             f'{grids} needs {options}')
        custom_keys[key] = options
    cfg.optim_wrapper.paramwise_cfg = dict(paramwise, custom_keys=custom_keys)
    return cfg

"""Honest choice of a linear head's grid point: a held-out split of the training set, never the reported split.

With ``linear_selection`` in the config (or a selection option on the command line), the ``linear`` benchmark
trains its grid (:mod:`mmssl.benchmarks.linear_grid`) on the training rows outside a seeded, class-balanced
held-out split (:class:`mmssl.datasets.HeldoutSubset`), evaluates every head on the held-out rows after training
(:class:`HeldoutEvalHook`) and on the validation set (the Runner's last validation), and chooses per tap the point
with the best held-out top-1 (ties: the smaller lr, then the smaller weight decay). ``refit=True`` trains the chosen
points again on all of train. ``selection='val'`` chooses on the validation set instead: an explicit option,
written in the record and marked in the tables.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config
from mmengine.dist import get_rank
from mmengine.hooks import Hook

from mmssl.datasets.heldout import heldout_split
from mmssl.models.heads.multi_cls_head import grid_head_name
from mmssl.registry import DATASETS, HOOKS
from mmssl.utils.errors import InputError

from .linear_grid import base_hyper_parameters, grid_of

__all__ = ['SELECTION_KEY', 'SELECTIONS', 'SELECTION_DEFAULTS', 'HELDOUT_FILE', 'HELDOUT_PREFIX', 'FIXED_SUFFIX',
           'REFIT_DIR', 'add_selection_arguments', 'selection_settings', 'use_heldout_split', 'HeldoutEvalHook',
           'read_heldout_metrics', 'head_metrics', 'bases_of', 'grid_results', 'select_point', 'refit_config']

#: The config key of the selection settings.
SELECTION_KEY = 'linear_selection'
#: ``'heldout'``: the point chosen on the held-out split of train; ``'val'``: on the validation set (the number
#: reported then being the one it was chosen on; an explicit, recorded and marked option).
SELECTIONS = ('heldout', 'val')
SELECTION_DEFAULTS = dict(heldout=dict(size=0.1, seed=0), selection='heldout', refit=False)
#: Where the held-out evaluation of every head is written in the work dir.
HELDOUT_FILE = 'heldout_metrics.json'
#: The metric prefix of the held-out evaluation (the validation set's is ``accuracy``).
HELDOUT_PREFIX = 'heldout'
#: ``accuracy/<tap>@fixed/top1``: the config's own point (the fixed protocol) beside the chosen one.
FIXED_SUFFIX = '@fixed'
#: The work dir (under the benchmark's) of the refit on all of train.
REFIT_DIR = 'refit'


def add_selection_arguments(parser):
    """The selection options; any of them turns selection on with the defaults for the others."""
    parser.add_argument('--selection', choices=SELECTIONS,
                        help='choose each tap\'s grid point on a held-out split of train (heldout) or, explicitly '
                        'and marked in the record and tables, on the validation set (val)')
    parser.add_argument('--heldout-size', type=_size, help='held-out rows of train: a count or a fraction (0 < f < 1)')
    parser.add_argument('--heldout-seed', type=int, help='seed of the held-out split')
    parser.add_argument('--refit', action='store_true', default=None,
                        help='train the chosen points again on all of train and report those heads')
    return parser


def _size(text: str):
    number = float(text)
    return int(number) if number.is_integer() and '.' not in text else number


def selection_settings(cfg: Config, selection: Optional[str] = None, heldout_size=None,
                       heldout_seed: Optional[int] = None, refit: Optional[bool] = None) -> Optional[dict]:
    """The config's ``linear_selection`` over :data:`SELECTION_DEFAULTS`, the command line's options over both;
    ``None`` when neither asks for a selection. Checked before any work; errors name the config and key."""
    given = cfg.get(SELECTION_KEY)
    options = {key: value for key, value in (('selection', selection), ('refit', refit)) if value is not None}
    heldout_options = {key: value for key, value in (('size', heldout_size), ('seed', heldout_seed))
                       if value is not None}
    if given is None and not options and not heldout_options:
        return None
    where = f'{cfg.filename}: {SELECTION_KEY}'
    given = dict(given or {})
    unknown = sorted(set(given) - set(SELECTION_DEFAULTS))
    if unknown:
        raise InputError(f'{where} has unknown keys {unknown}, expected some of {sorted(SELECTION_DEFAULTS)}')
    heldout = {**SELECTION_DEFAULTS['heldout'], **(given.get('heldout') or {}), **heldout_options}
    settings = {**SELECTION_DEFAULTS, **given, **options, 'heldout': heldout}
    if settings['selection'] not in SELECTIONS:
        raise InputError(f"{where}.selection must be one of {SELECTIONS}, got {settings['selection']!r}")
    if not isinstance(settings['refit'], bool):
        raise InputError(f"{where}.refit must be True or False, got {settings['refit']!r}")
    unknown = sorted(set(heldout) - {'size', 'seed'})
    if unknown:
        raise InputError(f'{where}.heldout has unknown keys {unknown}, expected size and seed')
    if isinstance(heldout['seed'], bool) or not isinstance(heldout['seed'], int):
        raise InputError(f"{where}.heldout.seed must be an integer, got {heldout['seed']!r}")
    head = cfg.model.get('head') or {}
    if head.get('type') != 'MultiClsHead':
        raise InputError(f'{where}: choosing a grid point needs a multi-head config (model.head.type MultiClsHead), '
                         f'got {head.get("type")!r}')
    if not cfg.get('val_dataloader') or not cfg.get('val_evaluator'):
        raise InputError(f'{where}: the chosen heads are reported on the validation set, but it is not evaluated '
                         '(--no-validate or no val_dataloader)')
    return settings


def use_heldout_split(cfg: Config, settings: dict) -> Tuple[int, int]:
    """Train ``cfg`` on the training rows outside the held-out split and evaluate every head on the held-out rows
    after training (with the validation pipeline). The split is made (and refused: a bad size, a class without a
    held-out row) here, before any work. Returns ``(fit rows, held-out rows)``."""
    where = f'{cfg.filename}: {SELECTION_KEY}.heldout'
    train_dataset = cfg.train_dataloader.dataset
    dataset = DATASETS.build(train_dataset)
    try:
        labels = dataset.get_gt_labels()
    except ValueError as error:
        raise InputError(f'{where}: the training set has no labels to split by ({error})') from None
    size, seed = settings['heldout']['size'], settings['heldout']['seed']
    try:
        fit, heldout = heldout_split(labels, size, seed, list(dataset.metainfo['classes']), where)
    except ValueError as error:
        raise InputError(str(error)) from None
    split = dict(size=size, seed=seed, where=where)
    cfg.train_dataloader.dataset = dict(type='HeldoutSubset', dataset=train_dataset, part='fit', **split)
    val_dataset = cfg.val_dataloader.dataset
    heldout_dataset = dict(train_dataset, pipeline=val_dataset.get('pipeline', train_dataset.get('pipeline')))
    heldout_loader = dict(cfg.val_dataloader.to_dict() if hasattr(cfg.val_dataloader, 'to_dict')
                          else cfg.val_dataloader,
                          dataset=dict(type='HeldoutSubset', dataset=heldout_dataset, part='heldout', **split))
    heldout_loader['persistent_workers'] = False
    evaluator = dict(type='Accuracy', topk=_topk(cfg.val_evaluator), prefix=HELDOUT_PREFIX)
    hook = dict(type='HeldoutEvalHook', dataloader=heldout_loader, evaluator=evaluator,
                out_file=osp.join(cfg.work_dir, HELDOUT_FILE))
    cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [hook]
    return int(len(fit)), int(len(heldout))


def _topk(val_evaluator) -> tuple:
    evaluators = val_evaluator if isinstance(val_evaluator, (list, tuple)) else [val_evaluator]
    for evaluator in evaluators:
        if evaluator.get('type') == 'Accuracy':
            return tuple(evaluator.get('topk', (1, )))
    return (1, 5)


@HOOKS.register_module()
class HeldoutEvalHook(Hook):
    """After training, evaluate the model on the held-out rows and write the metrics (JSON) to ``out_file``.

    The evaluation is a plain loop (``model.val_step``, the evaluator), not the Runner's validation loop, so that
    the held-out numbers never reach the validation metrics, the logger's ``val/`` scalars or a best-checkpoint
    rule.

    Args:
        dataloader: config of the held-out dataloader (:class:`mmssl.datasets.HeldoutSubset`, ``part='heldout'``).
        evaluator: config of its metric, with a prefix other than the validation set's.
        out_file: where the metrics go (main process).
    """
    priority = 'LOW'

    def __init__(self, dataloader: dict, evaluator: dict, out_file: str):
        self.dataloader, self.evaluator, self.out_file = dataloader, evaluator, out_file

    def after_train(self, runner) -> None:
        dataloader = runner.build_dataloader(self.dataloader, seed=runner.seed)
        evaluator = runner.build_evaluator(self.evaluator)
        evaluator.dataset_meta = getattr(dataloader.dataset, 'metainfo', None)
        runner.model.eval()
        with torch.no_grad():
            for batch in dataloader:
                evaluator.process(data_samples=runner.model.val_step(batch), data_batch=batch)
        metrics = evaluator.evaluate(len(dataloader.dataset))
        # Every process gets the same (collected) metrics and writes them, so that each can read them back without
        # waiting for another; the atomic replace leaves one whole file.
        os.makedirs(osp.dirname(self.out_file) or '.', exist_ok=True)
        temporary = f'{self.out_file}.{get_rank()}.tmp'
        with open(temporary, 'w') as f:
            json.dump(metrics, f, indent=1)
        os.replace(temporary, self.out_file)
        runner.logger.info(f'held-out evaluation of every head: {self.out_file}')


def read_heldout_metrics(work_dir: str) -> Dict[str, float]:
    """The held-out metrics :class:`HeldoutEvalHook` wrote in ``work_dir``."""
    path = osp.join(work_dir, HELDOUT_FILE)
    if not osp.isfile(path):
        raise RuntimeError(f'{path} is missing: the held-out evaluation did not run after training')
    with open(path) as f:
        return json.load(f)


def head_metrics(metrics: Dict[str, float], prefix: str, head: str) -> Dict[str, float]:
    """The metrics of one head (``top1`` ...) among ``<prefix>/<head>/<name>`` metrics."""
    start = f'{prefix}/{head}/'
    return {name[len(start):]: float(value) for name, value in metrics.items()
            if name.startswith(start) and '/' not in name[len(start):]}


def bases_of(val_metrics: Dict[str, float]) -> List[str]:
    """The taps (and ``avgpool``) of the validation metrics: the heads named without a grid point."""
    names = [name.split('/')[1] for name in val_metrics if name.count('/') == 2 and name.startswith('accuracy/')]
    return list(dict.fromkeys(name for name in names if '@' not in name))


def _tidy(value: float) -> float:
    # 0.01 * 0.1 is 0.0010000000000000002 in floating point; the record and tables show 0.001.
    return float(f'{value:.12g}')


def grid_results(cfg: Config, points: Sequence[Tuple[float, float]], val_metrics: Dict[str, float],
                 heldout_metrics: Optional[Dict[str, float]]) -> Dict[str, List[dict]]:
    """Every head's point of the grid: tap -> ``[dict(lr, wd, lr_mult, wd_mult, head, heldout, val)]`` in grid
    order, ``lr`` / ``wd`` being the absolute values (the config's times the multipliers), ``heldout`` / ``val``
    their metrics (``heldout`` ``None`` without a held-out split)."""
    lr, weight_decay = base_hyper_parameters(cfg)
    grid = {}
    for base in bases_of(val_metrics):
        grid[base] = []
        for lr_mult, wd_mult in points:
            head = grid_head_name(base, lr_mult, wd_mult)
            grid[base].append(dict(
                lr=_tidy(lr * lr_mult), wd=_tidy(weight_decay * wd_mult), lr_mult=lr_mult, wd_mult=wd_mult, head=head,
                heldout=None if heldout_metrics is None else head_metrics(heldout_metrics, HELDOUT_PREFIX, head),
                val=head_metrics(val_metrics, 'accuracy', head)))
    return grid


def select_point(points: Sequence[dict], rule: str, metric: str = 'top1') -> dict:
    """The point of ``points`` with the best ``metric`` on the ``rule`` split; a tie goes to the smaller lr, then the
    smaller weight decay, so the choice does not depend on the order the grid was written in."""
    if not points:
        raise ValueError('no grid point to select from')
    return min(points, key=lambda point: (-point[rule][metric], point['lr_mult'], point['wd_mult']))


def refit_config(cfg: Config, selected: Dict[str, dict], work_dir: str) -> Config:
    """``cfg`` (as it was before the held-out split) restricted to the chosen points, to train on all of train in
    ``work_dir``: the lr and weight-decay multipliers chosen by any tap, and 1 (the fixed protocol's point)."""
    lr_grid, wd_grid = grid_of(cfg)
    lrs = sorted({1, *(point['lr_mult'] for point in selected.values())})
    wds = sorted({1, *(point['wd_mult'] for point in selected.values())})
    cfg.model.head.lr_grid = lrs if lr_grid is not None else None
    cfg.model.head.wd_grid = wds if wd_grid is not None else None
    cfg.work_dir = work_dir
    return cfg

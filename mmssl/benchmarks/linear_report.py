"""A linear grid run with a choice of point per tap: train, evaluate, choose, optionally refit, and what is recorded.

Metrics of such a run: ``accuracy/<tap>/top1`` / ``top5`` are the chosen head's on the validation set (the refit
head's with ``refit``); ``accuracy/<tap>@fixed/top1`` / ``top5`` the config's own point, the fixed protocol (on all
of train with ``refit`` or ``selection='val'``, otherwise on the fit rows). The record's ``extra`` holds the whole
grid (:func:`mmssl.benchmarks.linear_selection.grid_results`), ``selected_lr`` / ``selected_wd`` / ``selected_head``
per tap and ``selection=dict(rule, metric, refit, heldout=dict(size, seed, rows, fit_rows))``.
"""
import copy
import os
import os.path as osp
from typing import Callable, Dict, Sequence, Tuple

from mmengine.config import Config
from mmengine.dist import is_main_process
from mmengine.logging import MMLogger

from mmssl.engine.train import split_timing
from mmssl.visualization import PLOT_FILE, plot_grid

from .linear_grid import add_lr_grid_param_groups, base_hyper_parameters, grid_of
from .linear_selection import (FIXED_SUFFIX, HELDOUT_FILE, REFIT_DIR, grid_results, head_metrics, read_heldout_metrics,
                               refit_config, select_point, use_heldout_split)

__all__ = ['run_selection', 'linear_table_notes', 'VAL_SELECTION_MARK']

#: The mark of a number chosen on the split it is reported on (``selection='val'``).
VAL_SELECTION_MARK = '†'


def run_selection(cfg: Config, weights, settings: dict, points: Sequence[Tuple[float, float]],
                  train_fn: Callable) -> tuple:
    """Train the grid of ``cfg`` (on the fit rows under held-out selection), choose each tap's point, refit it when
    asked; returns ``(metrics, record extra, load report)``. ``train_fn(cfg, weights)`` trains one config and returns
    its last validation metrics and the report of the backbone's load."""
    rule, heldout_rows = settings['selection'], None
    refit = settings['refit'] and rule == 'heldout'
    before_split = copy.deepcopy(cfg) if refit else None
    if rule == 'heldout':
        heldout_rows = use_heldout_split(cfg, settings)
        stale = osp.join(cfg.work_dir, HELDOUT_FILE)
        if is_main_process() and osp.exists(stale):
            os.remove(stale)  # an earlier run's numbers must not stand in for this one's
    logged, load_report = train_fn(cfg, weights)
    val_metrics, timing = split_timing(logged)
    heldout = read_heldout_metrics(cfg.work_dir) if rule == 'heldout' else None
    grid = grid_results(cfg, points, val_metrics, heldout)
    selected = {base: select_point(base_points, rule) for base, base_points in grid.items()}
    final = {base: point['val'] for base, point in selected.items()}
    fixed = {base: next(p['val'] for p in base_points if (p['lr_mult'], p['wd_mult']) == (1, 1))
             for base, base_points in grid.items()}
    extra = dict(timing=timing)
    if refit:
        refit_cfg = add_lr_grid_param_groups(refit_config(before_split, selected, osp.join(cfg.work_dir, REFIT_DIR)))
        refit_logged, _ = train_fn(refit_cfg, weights)
        refit_val, refit_timing = split_timing(refit_logged)
        final = {base: head_metrics(refit_val, 'accuracy', point['head']) for base, point in selected.items()}
        fixed = {base: head_metrics(refit_val, 'accuracy', base) for base in selected}
        extra['refit'] = dict(work_dir=osp.abspath(refit_cfg.work_dir), lr_grid=refit_cfg.model.head.get('lr_grid'),
                              wd_grid=refit_cfg.model.head.get('wd_grid'), timing=refit_timing,
                              val={base: final[base] for base in selected})
    metrics = {}
    for base in grid:
        metrics.update({f'accuracy/{base}/{name}': value for name, value in final[base].items()})
        metrics.update({f'accuracy/{base}{FIXED_SUFFIX}/{name}': value for name, value in fixed[base].items()})
    lr, weight_decay = base_hyper_parameters(cfg)
    lr_grid, wd_grid = grid_of(cfg)
    extra.update(
        grid=grid, selected_lr={base: point['lr'] for base, point in selected.items()},
        selected_wd={base: point['wd'] for base, point in selected.items()},
        selected_head={base: point['head'] for base, point in selected.items()},
        grid_options=dict(lr_grid=lr_grid, wd_grid=wd_grid, lr=lr, weight_decay=weight_decay),
        fixed=dict(lr=lr, wd=weight_decay, metrics=f'accuracy/<tap>{FIXED_SUFFIX}/top1',
                   trained_on='all of train' if refit or rule == 'val' else 'the fit rows (train minus held-out)'),
        selection=dict(rule=rule, metric='top1', refit=refit,
                       heldout=None if heldout_rows is None else dict(
                           settings['heldout'], fit_rows=heldout_rows[0], rows=heldout_rows[1])))
    _log_choice(extra, final)
    if is_main_process():
        # The plot marks the chosen (lr, wd) pair: one lr may stand for several weight decays.
        chosen = {base: dict(lr=point['lr'], wd=point['wd']) for base, point in selected.items()}
        extra['grid_plot'] = osp.abspath(plot_grid(dict(extra, selected_lr=chosen),
                                                   osp.join(cfg.work_dir, PLOT_FILE), param='lr'))
    return metrics, extra, load_report


def _log_choice(extra: dict, final: Dict[str, dict]) -> None:
    rule = extra['selection']['rule']
    logger = MMLogger.get_current_instance()
    for base, head in extra['selected_head'].items():
        logger.info(f'{base}: {head} (lr {extra["selected_lr"][base]:.4g}, wd {extra["selected_wd"][base]:.4g}) '
                    f'chosen on the {rule} split, val top1 {final[base].get("top1", float("nan")):.2f}')


def linear_table_notes(record: dict, table_metrics: Callable) -> Dict[str, str]:
    """Table column -> the note beside its number, for a record whose heads were chosen on a grid: ``lr 0.1``
    (``lr 0.1, wd 1e-05`` where the weight decay was swept), with :data:`VAL_SELECTION_MARK` when chosen on the
    validation set. ``table_metrics`` maps the record's metric names to columns (the benchmark's)."""
    extra = record.get('extra') or {}
    selected_lr = extra.get('selected_lr') or {}
    if not selected_lr:
        return {}
    selected_wd = extra.get('selected_wd') or {}
    swept_wd = len({point.get('wd') for points in (extra.get('grid') or {}).values() for point in points}) > 1
    mark = VAL_SELECTION_MARK if (extra.get('selection') or {}).get('rule') == 'val' else ''
    notes = {}
    for base, lr in selected_lr.items():
        note = f'lr {lr:.3g}' + (f', wd {selected_wd[base]:.3g}' if swept_wd and base in selected_wd else '') + mark
        for column in table_metrics({f'accuracy/{base}/top1': 0.0}):
            notes[column] = note
    return notes

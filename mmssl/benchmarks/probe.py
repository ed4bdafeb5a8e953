"""Cached-feature probe benchmark (``probe``): logistic regression on frozen features over a grid of ``C``.

The config's taps are extracted once (centre-crop test pipeline, the config's pooling, L2-normalised rows) into
``WORK_DIR/features`` and reused by a later run of the same weights and config (the feature folder's guard refuses
another checkpoint's folder unless ``--recompute``). Every ``C`` of the grid is fitted by full-batch L-BFGS
(:mod:`mmssl.evaluation.probes`) on the training rows outside a seeded, class-balanced held-out split and scored on
the held-out rows and on the validation set; the best held-out point of each tap is refitted on all of train and
reported on the validation set. Each fitted point is stored in ``WORK_DIR/probe/<tap>.json`` as soon as it is done,
so an interrupted run resumes where it stopped. ``WORK_DIR/probe_grid.png`` plots held-out and validation metrics
against ``C`` per tap, the chosen point marked.
"""
import json
import os
import os.path as osp
from typing import Dict, Optional

import numpy as np
from mmengine.dist import is_main_process
from mmengine.logging import MMLogger
from mmengine.utils import ProgressBar

from mmssl.constants import LAYERS
from mmssl.evaluation.feature_folder import (ensure_feature_folder, feature_path, open_features, read_meta,
                                             weights_identity)
from mmssl.evaluation.folder_identity import identity_record
from mmssl.evaluation.probes import (SELECTIONS, check_costs, fit_logistic, heldout_split, probe_metrics, probe_scores,
                                     select_cost)
from mmssl.registry import BENCHMARKS, DATASETS
from mmssl.utils import BackboneWeights, init_distributed, teardown_distributed
from mmssl.visualization import PLOT_FILE, plot_grid

from .base import Benchmark
from .feature_extraction import add_amp_argument, extract_feature_splits, feature_source, use_amp

PROBE_SPLITS = ('train', 'val')
FEATURES_DIR = 'features'
GRID_DIR = 'probe'
#: DINOv2's grid (dinov2/eval/log_regression.py): C = 10 ** linspace(-6, 5, 45).
ANCHOR_COSTS = dict(log10_start=-6, log10_stop=5, num=45)
DEFAULTS = dict(taps=['feature5'], pooling='global', costs=ANCHOR_COSTS, heldout=dict(size=0.1, seed=0),
                selection='heldout', refit=True, max_iter=1000, tol=1e-8, dtype='float64')


def resolve_costs(costs, where: str) -> tuple:
    """The grid: a list of ``C`` or ``dict(log10_start, log10_stop, num)`` (``10 ** linspace``), each > 0."""
    if isinstance(costs, dict):
        keys = set(costs)
        if keys != {'log10_start', 'log10_stop', 'num'} or not isinstance(costs['num'], int) or costs['num'] < 1:
            raise ValueError(f'{where} as a dict needs log10_start, log10_stop and an integer num >= 1, got {costs!r}')
        costs = (10.0 ** np.linspace(costs['log10_start'], costs['log10_stop'], costs['num'])).tolist()
    return check_costs(list(costs) if isinstance(costs, tuple) else costs, where)


def probe_settings(cfg) -> dict:
    """The config's ``probe`` dict over :data:`DEFAULTS`, checked before any work; errors name the file and key."""
    where = f'{cfg.filename}: probe'
    settings = dict(DEFAULTS, **cfg.get('probe', {}))
    unknown = sorted(set(settings) - set(DEFAULTS))
    if unknown:
        raise ValueError(f'{where} has unknown keys {unknown}, expected some of {sorted(DEFAULTS)}')
    settings['costs'] = resolve_costs(settings['costs'], f'{where}.costs')
    taps = settings['taps']
    if isinstance(taps, str) or not taps or not all(isinstance(tap, str) for tap in taps):
        raise ValueError(f'{where}.taps must be a non-empty list of tap names, got {taps!r}')
    settings['taps'] = list(taps)
    if settings['pooling'] not in ('global', 'benchmark'):
        raise ValueError(f"{where}.pooling must be 'global' or 'benchmark', got {settings['pooling']!r}")
    if settings['selection'] not in SELECTIONS:
        raise ValueError(f"{where}.selection must be one of {SELECTIONS}, got {settings['selection']!r}")
    heldout = dict(DEFAULTS['heldout'], **settings['heldout'])
    if isinstance(heldout['seed'], bool) or not isinstance(heldout['seed'], int):
        raise ValueError(f"{where}.heldout.seed must be an integer, got {heldout['seed']!r}")
    settings['heldout'] = heldout
    if settings['dtype'] not in ('float64', 'float32'):
        raise ValueError(f"{where}.dtype must be 'float64' or 'float32', got {settings['dtype']!r}")
    if not isinstance(settings['refit'], bool):
        raise ValueError(f"{where}.refit must be True or False, got {settings['refit']!r}")
    for key, kind in (('max_iter', int), ('tol', float)):
        if isinstance(settings[key], bool) or not isinstance(settings[key], (int, kind)) or settings[key] <= 0:
            raise ValueError(f'{where}.{key} must be a number > 0, got {settings[key]!r}')
    return settings


def dataset_labels(dataloader_cfg: dict) -> tuple:
    """``(labels, classes)`` of a labelled data set: (N,) class indices, or (N, K) VOC labels (1 / -1 / 0)."""
    dataset = DATASETS.build(dataloader_cfg['dataset'])
    return dataset.get_gt_labels().astype(np.int64), list(dataset.metainfo['classes'])


class GridStore:
    """The fitted points of one tap in ``<dir>/<tap>.json``: ``identity`` (what decides their numbers) and
    ``points`` (``repr(C)`` -> metrics). Written after every point (atomically), read back on a resumed run."""

    def __init__(self, grid_dir: str, tap: str, identity: dict, recompute: bool = False):
        self.path = osp.join(grid_dir, f'{tap}.json')
        self.identity = identity
        self.state = dict(identity=identity, points={}, refit={})
        if osp.isfile(self.path):
            with open(self.path) as f:
                stored = json.load(f)
            if stored.get('identity') == identity:
                self.state = stored
            elif not recompute:
                raise ValueError(f'{self.path} holds grid points of other features or settings ('
                                 f'{stored.get("identity")}, not {identity}); pass --recompute to fit them again, or '
                                 'use another work dir')

    def get(self, kind: str, cost: float) -> Optional[dict]:
        return self.state[kind].get(repr(cost))

    def put(self, kind: str, cost: float, value: dict) -> None:
        self.state[kind][repr(cost)] = value
        os.makedirs(osp.dirname(self.path), exist_ok=True)
        with open(self.path + '.tmp', 'w') as f:
            json.dump(self.state, f, indent=1)
        os.replace(self.path + '.tmp', self.path)


@BENCHMARKS.register_module()
class Probe(Benchmark):
    """Logistic-regression probe on cached features: ``C`` chosen per tap on a held-out split of train, refitted
    on all of train, reported on the validation set.

    The config holds ``model.backbone`` (and ``model.data_preprocessor``), labelled ``train_dataloader`` and
    ``val_dataloader`` with test-time pipelines, and ``probe=dict(...)`` over :data:`DEFAULTS`. A data set whose
    labels are VOC vectors (VOC07) gets one-vs-rest probes and mAP.

    Metrics: ``<tap>/top1`` and ``<tap>/top5`` (%), or ``<tap>/mAP``.
    """
    name = 'probe'
    record_name = 'probe'
    title = 'Logistic-regression probe on cached features'
    task = 'Probe'
    columns = tuple((layer.capitalize(), layer) for layer in LAYERS)

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument('--device', default='cpu', help='torch device of the L-BFGS solver, e.g. cuda')
        add_amp_argument(parser)

    @classmethod
    def table_metrics(cls, metrics):
        return {name.split('/')[0]: value for name, value in metrics.items()
                if name.endswith('/top1') or name.endswith('/mAP')}

    def run(self, cfg, weights, work_dir, pretrain_config=None, launcher='none', device='cpu', recompute=False,
            amp=False):
        use_amp(cfg, amp)
        settings = probe_settings(cfg)
        train_labels, classes = dataset_labels(cfg.train_dataloader)
        val_labels, _ = dataset_labels(cfg.val_dataloader)
        rows = heldout_split(train_labels, settings['heldout']['size'], settings['heldout']['seed'], classes,
                             f'{cfg.filename}: probe.heldout') if settings['selection'] == 'heldout' else None
        feature_dir = osp.join(work_dir, FEATURES_DIR)
        source = feature_source(cfg, weights, PROBE_SPLITS, pooling=settings['pooling'],
                                dataset=cfg.get('dataset_name'))
        if ensure_feature_folder(feature_dir, source, settings['taps'], PROBE_SPLITS,
                                 recompute=recompute) == 'extract':
            extract_device = init_distributed(cfg, launcher)
            try:
                self.extract(cfg, weights, feature_dir, settings, source, extract_device)
            finally:
                teardown_distributed()
        if not is_main_process():
            return {}
        labels = dict(train=train_labels, val=val_labels)
        metrics, extra = self.fit_grid(feature_dir, osp.join(work_dir, GRID_DIR), labels, classes, settings, rows,
                                       device, recompute)
        extra['grid_plot'] = osp.abspath(plot_grid(extra, osp.join(work_dir, PLOT_FILE), param='C'))
        source = read_meta(feature_dir).get('source') or {}
        self.write_record(work_dir, metrics, cfg, weights, source.get('checkpoint_load'),
                          pretrain_config=pretrain_config,
                          seeds=dict(cfg.get('randomness', {}), heldout=settings['heldout']['seed']), extra=extra)
        return metrics

    def extract(self, cfg, weights: BackboneWeights, feature_dir: str, settings: dict, source: dict,
                device: str = 'cpu') -> None:
        """Write both splits' features of the config's taps (the free space of both checked first), then
        ``meta.json`` (last: it marks a complete folder; ``source``, the folder's identity, and the load report)."""
        extract_feature_splits(cfg, weights, feature_dir, settings['taps'], PROBE_SPLITS, source, settings['pooling'],
                               device)

    def fit_grid(self, feature_dir: str, grid_dir: str, labels: Dict[str, np.ndarray], classes: list, settings: dict,
                 rows: Optional[tuple], device: str = 'cpu', recompute: bool = False) -> tuple:
        """Fit every grid point of every tap (reusing stored ones), select, refit; ``(metrics, record extra)``."""
        multi_label = labels['train'].ndim == 2
        features = {tap: {split: self._open(feature_dir, split, tap, len(labels[split])) for split in PROBE_SPLITS}
                    for tap in settings['taps']}
        solver = dict(num_classes=len(classes), multi_label=multi_label, max_iter=settings['max_iter'],
                      tol=settings['tol'], device=device, dtype=settings['dtype'])
        source = read_meta(feature_dir).get('source') or {}
        identity = dict(features=dict(weights_identity(source), **identity_record(source)),
                        selection=settings['selection'], heldout=settings['heldout'], pooling=settings['pooling'],
                        **{key: solver[key] for key in ('multi_label', 'max_iter', 'tol', 'dtype')})
        metric = 'mAP' if multi_label else 'top1'
        costs = settings['costs']
        progress = ProgressBar(len(costs) * len(settings['taps']))
        metrics, grid, selected = {}, {}, {}
        for tap, splits in features.items():
            store = GridStore(grid_dir, tap, identity, recompute)
            for cost in costs:
                if store.get('points', cost) is None:
                    store.put('points', cost, self._fit_point(splits, labels, rows, cost, solver))
                progress.update()
            points = {cost: store.get('points', cost) for cost in costs}
            chosen = select_cost({c: p['heldout' if rows is not None else 'val'] for c, p in points.items()}, metric)
            final = points[chosen]['val']
            if rows is not None and settings['refit']:
                final = store.get('refit', chosen)
                if final is None:
                    final = self._fit_point(splits, labels, None, chosen, solver)['val']
                    store.put('refit', chosen, final)
            metrics.update({f'{tap}/{name}': value for name, value in final.items()})
            grid[tap] = [dict(C=cost, **points[cost]) for cost in costs]
            selected[tap] = chosen
            MMLogger.get_current_instance().info(f'{tap}: C={chosen:.4g} chosen on the {settings["selection"]} split, '
                                                 f'val {metric} {final[metric]:.2f}')
        extra = dict(selected_C=selected, grid=grid, taps=settings['taps'], pooling=settings['pooling'],
                     multi_label=multi_label, feature_dir=osp.abspath(feature_dir),
                     selection=dict(rule=settings['selection'], metric=metric,
                                    refit=bool(rows is not None and settings['refit']),
                                    heldout=None if rows is None else dict(
                                        settings['heldout'], rows=int(len(rows[1])), fit_rows=int(len(rows[0])))),
                     solver=dict(type='L-BFGS', objective='sklearn LogisticRegression(C)', costs=list(costs),
                                 **{key: solver[key] for key in ('max_iter', 'tol', 'dtype')}))
        return metrics, extra

    @staticmethod
    def _open(feature_dir: str, split: str, tap: str, num_rows: int) -> np.ndarray:
        path = feature_path(feature_dir, split, tap)
        array = open_features(path)
        if len(array) != num_rows:
            raise ValueError(f'{path} has {len(array)} rows but the {split} data set has {num_rows} samples; pass '
                             '--recompute to extract the features again')
        return np.asarray(array)

    @staticmethod
    def _fit_point(splits: dict, labels: dict, rows: Optional[tuple], cost: float, solver: dict) -> dict:
        """Fit on the fit rows (all of train without a held-out split); metrics on the held-out rows and val."""
        multi_label = solver['multi_label']
        fit_rows = slice(None) if rows is None else rows[0]
        probe = fit_logistic(splits['train'][fit_rows], labels['train'][fit_rows], cost, **solver)
        point = dict(val=probe_metrics(probe_scores(probe, splits['val']), labels['val'], multi_label),
                     iterations=probe.iterations)
        if rows is not None:
            point['heldout'] = probe_metrics(probe_scores(probe, splits['train'][rows[1]]),
                                             labels['train'][rows[1]], multi_label)
        return point

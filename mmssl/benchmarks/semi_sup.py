"""Semi-supervised fine-tuning benchmark (``semi_sup``): the ImageNet 1% / 10% grid, best point reported.

Its config is a folder of grid configs (e.g. ``configs/benchmarks/classification/imagenet/imagenet_1percent/``),
one per (backbone lr, head lr multiplier). Every point is a ``linear`` benchmark run in
``WORK_DIR/<config name>``; a point whose record exists is not trained again, so an interrupted grid resumes, but
only when that record is of the same weights (checkpoint sha256 and how it was read, or the random seed) and the same
``--cfg-options``: another point record is refused, or trained again with ``--recompute``.
The grid's record ``WORK_DIR/result_semi_sup.json`` holds the best point's top-1 / top-5 (highest top-1) as
metrics, its config as the benchmark config, and every point in ``extra``.
"""
import glob
import json
import os.path as osp
from typing import List, Optional

from mmengine.config import Config

from mmssl.benchmarks.records import read_result
from mmssl.registry import BENCHMARKS

from .base import Benchmark, load_benchmark_config
from .linear import LinearEval


def point_record_mismatch(record: dict, weights, cfg_options: Optional[dict]) -> Optional[str]:
    """What makes an existing grid-point ``record`` another input's result than ``weights`` with ``cfg_options``
    (``None``: it is this input's)."""
    extra = record.get('extra', {})
    wanted = dict(checkpoint=(weights.record() or {}).get('sha256'), checkpoint_format=weights.layout,
                  random_init=None if weights.record() else weights.random_init_seed,
                  cfg_options=dict(cfg_options or {}))
    found = dict(checkpoint=(record.get('checkpoint') or {}).get('sha256'),
                 checkpoint_format=extra.get('checkpoint_format'),
                 random_init=None if record.get('checkpoint') else record.get('seeds', {}).get('random_init'),
                 cfg_options=dict(extra.get('cfg_options') or {}))
    # A record file went through JSON: compare overrides as JSON gives them back (tuples become lists).
    for side in (wanted, found):
        side['cfg_options'] = json.loads(json.dumps(side['cfg_options']))
    differences = [f'{key} {found[key]!r} in the record, {wanted[key]!r} now' for key in wanted
                   if found[key] != wanted[key]]
    return '; '.join(differences) or None


def grid_points(config_dir: str, cfg_options: Optional[dict] = None, lrs=None, heads=None) -> List[dict]:
    """The grid configs of ``config_dir`` (loaded, ``cfg_options`` applied) with their lr and head multiplier,
    optionally only those with a backbone lr in ``lrs`` / a head multiplier in ``heads``."""
    paths = sorted(glob.glob(osp.join(config_dir, '*.py')))
    if not paths:
        raise ValueError(f'{config_dir}: no grid configs (*.py) in this folder')
    points = []
    for path in paths:
        cfg = load_benchmark_config(path, cfg_options)
        optim = cfg.optim_wrapper
        lr = float(optim.optimizer.lr)
        head = int(optim.get('paramwise_cfg', {}).get('custom_keys', {}).get('head', {}).get('lr_mult', 1))
        if (lrs and lr not in [float(v) for v in lrs]) or (heads and head not in [int(v) for v in heads]):
            continue
        points.append(dict(config=path, lr=lr, head_lr_mult=head, cfg=cfg))
    if not points:
        raise ValueError(f'no grid configs selected in {config_dir} (lrs {lrs}, heads {heads})')
    return points


@BENCHMARKS.register_module()
class SemiSupervised(Benchmark):
    """Full fine-tuning on a labelled subset, best of the lr grid.

    Metrics: ``top1`` and ``top5`` (%) of the best grid point.
    """
    name = 'semi_sup'
    record_name = 'semi_sup'
    title = 'Semi-supervised fine-tuning (best of grid)'
    task = 'Fine-tuning'
    columns = (('Top-1', 'top1'), ('Top-5', 'top5'))

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument('--lrs', nargs='+', help='only these backbone lrs (e.g. 1e-2)')
        parser.add_argument('--heads', nargs='+', help='only these head lr multipliers (e.g. 10 100)')

    @classmethod
    def load_config(cls, path: str, cfg_options: Optional[dict] = None) -> Config:
        if not osp.isdir(path):
            raise ValueError(f'{path}: the semi_sup benchmark takes a folder of grid configs')
        return Config(dict(grid_dir=path, cfg_options=cfg_options or {}))

    def run(self, cfg, weights, work_dir, pretrain_config=None, launcher='none', lrs=None, heads=None,
            recompute=False):
        rows, seeds, records = [], {}, {}
        points = grid_points(cfg.grid_dir, cfg.cfg_options, lrs, heads)
        stale = {}
        for point in points:
            record_file = self._point_record_file(work_dir, point)
            if osp.exists(record_file):
                mismatch = point_record_mismatch(read_result(record_file), weights, cfg.cfg_options)
                if mismatch:
                    stale[record_file] = mismatch
        if stale and not recompute:
            listed = '; '.join(f'{path}: {why}' for path, why in stale.items())
            raise ValueError(f'{work_dir} holds grid points of another input ({listed}). Pass --recompute to train '
                             'them again, or use another work dir')
        for point in points:
            record_file = self._point_record_file(work_dir, point)
            point_dir = osp.dirname(record_file)
            if not osp.exists(record_file) or record_file in stale:
                LinearEval().run(point['cfg'], weights, point_dir, pretrain_config=pretrain_config, launcher=launcher)
            record = read_result(record_file)
            metrics = record['metrics']
            rows.append(dict(config=point['config'], lr=point['lr'], head_lr_mult=point['head_lr_mult'],
                             top1=metrics['accuracy/top1'], top5=metrics.get('accuracy/top5')))
            seeds[point['config']] = record.get('seeds', {})
            records[point['config']] = record
        best = max(rows, key=lambda row: row['top1'])
        best_cfg = next(point['cfg'] for point in points if point['config'] == best['config'])
        metrics = {key: best[key] for key in ('top1', 'top5') if best[key] is not None}
        dataset = best_cfg.get('dataset_name') or ''
        seeds = {k: v for k, v in seeds[best['config']].items() if k != 'random_init'}
        # The best grid point's record holds the report of the load its run did.
        load_report = records[best['config']]['extra'].get('checkpoint_load')
        self.write_record(work_dir, metrics, best_cfg, weights, load_report, pretrain_config=pretrain_config,
                          benchmark_config=best['config'], seeds=seeds,
                          extra=dict(subset=dataset.rsplit(' ', 1)[-1], best=best, points=rows))
        print(f'{"lr":>8} {"head x":>7} {"top-1":>7} {"top-5":>7}')
        for row in rows:
            top5 = f"{row['top5']:7.2f}" if row['top5'] is not None else '      -'
            mark = '  <- best' if row is best else ''
            print(f"{row['lr']:8g} {row['head_lr_mult']:7d} {row['top1']:7.2f} {top5}{mark}")
        return metrics

    @staticmethod
    def _point_record_file(work_dir: str, point: dict) -> str:
        return osp.join(work_dir, osp.splitext(osp.basename(point['config']))[0], LinearEval.record_file())

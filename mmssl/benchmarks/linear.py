"""Linear evaluation / fine-tuning benchmark (``linear``): train a head (or the whole network) with the Runner.

The multi-head configs (``MultiClsHead``) report top-1 / top-5 per head (``accuracy/feature1/top1`` …); the
single-head avgpool config (the toolbox's separate AvgPool protocol: global-average-pooled feature5, lr 30, wd 0,
100 epochs) reports ``accuracy/top1``, which fills the tables' AvgPool column (suite entry ``linear_avgpool``). A
multi-head config that also trains an avgpool head jointly (the CPU demo's) reports it as
``accuracy/avgpool/top1``; that number is not the toolbox's AvgPool protocol and has its own column.

A multi-head config may train a grid of learning rates and weight decays on one frozen forward
(:mod:`.linear_grid`) and choose each tap's point on a held-out split of train (:mod:`.linear_selection`,
:func:`.linear_report.run_selection`): the plain names then report the chosen heads on the validation set,
``accuracy/<tap>@fixed/top1`` the config's own point, and the record's ``extra`` the whole grid.
"""
import os
import os.path as osp
import re
from typing import Optional, Union

from mmengine.config import Config
from mmengine.dist import is_main_process

from mmssl.constants import LAYERS, RANDOM_INIT_SEED
from mmssl.engine.train import add_train_options, apply_train_options, split_timing, train
from mmssl.registry import BENCHMARKS
from mmssl.utils.checkpoint import BackboneWeights, read_load_report

from .base import Benchmark
from .linear_grid import add_grid_arguments, add_lr_grid_param_groups, apply_grid_options, check_grid
from .linear_report import linear_table_notes, run_selection
from .linear_selection import add_selection_arguments, selection_settings

_HEAD_TOP1 = re.compile(r'accuracy/(?:(?P<head>[^/]+)/)?top1')


#: the file in a run's work dir where the backbone's initialiser writes the report of its load
LOAD_REPORT_FILE = 'checkpoint_load.json'


def set_backbone_checkpoint(cfg: Config, checkpoint: Union[BackboneWeights, str, None],
                            checkpoint_format: Optional[str] = None, prefix: Optional[str] = None,
                            key_path: Optional[str] = None, random_init_seed: int = RANDOM_INIT_SEED,
                            report_file: Optional[str] = None) -> Config:
    """Point ``cfg.model.backbone`` at pre-trained weights (:class:`mmssl.utils.BackboneWeights`, or a checkpoint
    file of any supported layout read with the given options), or at the random backbone of the baseline row drawn
    from ``random_init_seed`` (``None``).

    The load is the checked one (``Pretrained`` in the mmssl scope, :meth:`mmssl.utils.BackboneWeights.load_into`);
    the random backbone is ``SeededRandom``, the same network that the feature-extraction benchmarks evaluate. A
    ``prefix`` / ``key_path`` that the config's own ``init_cfg`` sets is kept unless one is given here. With
    ``report_file``, the initialiser writes the report of its load there (JSON, main process).
    """
    if isinstance(checkpoint, BackboneWeights):
        checkpoint_format, prefix, key_path = checkpoint.checkpoint_format, checkpoint.prefix, checkpoint.key_path
        checkpoint, random_init_seed = checkpoint.path, checkpoint.random_init_seed
    backbone = cfg.model.backbone
    reported = {} if report_file is None else dict(report_file=report_file)
    if checkpoint is None:
        backbone.init_cfg = dict(type='SeededRandom', seed=random_init_seed, **reported)
        return cfg
    own = backbone.get('init_cfg') or {}
    backbone.init_cfg = dict(type='Pretrained', checkpoint=checkpoint, checkpoint_format=checkpoint_format,
                             prefix=prefix or own.get('prefix'), key_path=key_path or own.get('key_path'),
                             **reported)
    return cfg


def train_with_load_report(cfg: Config, weights: BackboneWeights) -> tuple:
    """Train ``cfg`` from ``weights`` in the Runner; returns its final metrics and the report of the backbone's
    load, which the initialiser wrote to the work dir (it may run in other processes)."""
    report_file = osp.join(cfg.work_dir, LOAD_REPORT_FILE)
    if is_main_process() and osp.exists(report_file):
        os.remove(report_file)  # an earlier run's report must not stand in for this one's
    cfg = set_backbone_checkpoint(cfg, weights, report_file=report_file)
    logged = train(cfg)
    return logged, read_load_report(report_file)


@BENCHMARKS.register_module()
class LinearEval(Benchmark):
    """Linear evaluation (frozen backbone) or fine-tuning, with the config's schedule.

    Metrics: the last validation metrics (``accuracy/<head>/top1`` …); loop timings go to ``extra``.
    """
    name = 'linear'
    record_name = 'linear_eval'
    title = 'Linear evaluation / fine-tuning'
    task = 'Linear Evaluation'
    columns = tuple((layer.capitalize(), layer) for layer in LAYERS) + (('AvgPool', 'avgpool'),
                                                                        ('AvgPool (joint head)', 'avgpool_joint'))

    @classmethod
    def add_arguments(cls, parser):
        add_train_options(parser)
        add_grid_arguments(parser)
        add_selection_arguments(parser)

    @classmethod
    def table_metrics(cls, metrics):
        mapped = {}
        for name, value in metrics.items():
            match = _HEAD_TOP1.fullmatch(name)
            if match and '@' not in (match['head'] or ''):  # grid points and the fixed point stay in the record
                # A single head is the separate AvgPool protocol; an avgpool head beside feature1-5 trained jointly.
                mapped[{None: 'avgpool', 'avgpool': 'avgpool_joint'}.get(match['head'], match['head'])] = value
        return mapped

    @classmethod
    def table_notes(cls, record: dict) -> dict:
        """Table column -> note beside its number: the chosen lr (and weight decay where it was swept) of every
        tap whose head was chosen on a grid, ``†`` where it was chosen on the validation set."""
        return linear_table_notes(record, cls.table_metrics)

    def run(self, cfg, weights, work_dir, pretrain_config=None, launcher='none', resume=None, amp=False,
            auto_scale_lr=False, no_validate=False, check_images=False, lr_grid=None, wd_grid=None, selection=None,
            heldout_size=None, heldout_seed=None, refit=None):
        apply_train_options(cfg, work_dir, resume, amp, auto_scale_lr, no_validate, launcher, check_images)
        apply_grid_options(cfg, lr_grid, wd_grid)
        points = check_grid(cfg)
        settings = selection_settings(cfg, selection, heldout_size, heldout_seed, refit)
        add_lr_grid_param_groups(cfg)
        if settings is not None:
            metrics, extra, load_report = run_selection(cfg, weights, settings, points, train_with_load_report)
            self.write_record(cfg.work_dir, metrics, cfg, weights, load_report, pretrain_config=pretrain_config,
                              seeds=dict(cfg.get('randomness', {}), heldout=settings['heldout']['seed']),
                              extra=extra)
            return metrics
        logged, load_report = train_with_load_report(cfg, weights)
        metrics, timing = split_timing(logged)
        self.write_record(cfg.work_dir, metrics, cfg, weights, load_report, pretrain_config=pretrain_config,
                          seeds=dict(cfg.get('randomness', {})), extra=dict(timing=timing))
        return metrics


@BENCHMARKS.register_module()
class LinearAvgPool(LinearEval):
    """The toolbox's separate AvgPool linear protocol (its own suite entry, so that a suite runs it beside the
    multi-head evaluation): a single linear head on the global-average-pooled feature5. Metrics as ``linear``."""
    name = 'linear_avgpool'

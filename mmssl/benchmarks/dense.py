"""Detection (``det``) and segmentation (``seg``) benchmarks, run by mmdet / mmseg.

The benchmark configs (``configs/benchmarks/mmdetection``, ``configs/benchmarks/mmsegmentation``) inherit
mmdet's / mmseg's own configs and keep their ``default_scope``; mmssl only supplies the pre-trained weights
and checks that they arrived. Which modules take the weights is declared once, by the config's
``mmssl.PretrainedWeightsCheckHook`` (``backbone``; for C4 detectors also ``roi_head.shared_head``, whose res5
loads the checkpoint's ``backbone.layer4.*``). mmengine reads the checkpoint through mmssl's loader
(:func:`mmssl.utils.use_for_mmengine`), so the initialisation, the hook's check and the record's hash share one
read. Training and testing use mmengine's Runner through :func:`mmssl.engine.train`, so CPU-only machines (gloo,
SyncBN → BN) work as for every other mmssl config.
"""
import argparse
import numbers
import os
import os.path as osp
from typing import Dict, Optional, Sequence

from mmengine.config import Config, DictAction

from mmssl.engine.hooks import PretrainedWeightsCheckHook
from mmssl.engine.runner import CheckedRunner
from mmssl.engine.train import TIMING_KEYS, add_train_options, apply_train_options, train
from mmssl.models.utils.checkpoint_import import import_checkpoint
from mmssl.registry import BENCHMARKS, suggest_close_names
from mmssl.utils import (BackboneWeights, prepare_cpu_launch, read_checkpoint, register_all_modules,
                         require_prefixed_checkpoint, teardown_distributed)
from mmssl.utils.checkpoint import read_load_report
from mmssl.utils.config import merge_cfg_options
from mmssl.utils.work_dir_lock import is_rank_zero, work_dir_lock

from .base import Benchmark
from .dense_vit import is_mmseg_vit, write_mmseg_vit_checkpoint
from .linear import LOAD_REPORT_FILE

__all__ = ['DetectionBenchmark', 'SegmentationBenchmark', 'set_dense_pretrained', 'find_download_urls',
           'load_dense_test_config', 'dense_test', 'main_test']

#: Checkpoint locations that mean a download (mmengine's loaders for these schemes fetch from the network).
URL_SCHEMES = ('http://', 'https://', 'open-mmlab://', 'openmmlab://', 'torchvision://', 'mmcls://', 'mmpretrain://',
               'modelzoo://', 'pavi://', 's3://')
PREFIX = 'backbone.'
#: mmdet's evaluators report fractions (0.375) under these prefixes; the tables show percent (mmseg: percent).
FRACTION_PREFIXES = ('coco', 'pascal_voc')


def find_download_urls(node, path: str = 'model') -> Dict[str, str]:
    """Every string in a config subtree that names a downloadable checkpoint, as ``{dotted key: value}``."""
    found = {}
    if isinstance(node, dict):
        for key, value in node.items():
            found.update(find_download_urls(value, f'{path}.{key}'))
    elif isinstance(node, (list, tuple)):
        for index, value in enumerate(node):
            found.update(find_download_urls(value, f'{path}.{index}'))
    elif isinstance(node, str) and node.startswith(URL_SCHEMES):
        found[path] = node
    return found


def _module_cfg(cfg: Config, name: str) -> dict:
    node = cfg.model
    for part in name.split('.'):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f'PretrainedWeightsCheckHook lists model.{name}, but the config has no model.{name}')
        node = node[part]
    return node


def set_dense_pretrained(cfg: Config, checkpoint: str, config_name: str = 'config',
                         report_file: Optional[str] = None, prefix: str = PREFIX) -> Config:
    """Load ``checkpoint``'s ``backbone.*`` weights into the modules the config's check hook lists; the hook
    writes the report of its check of the first of them to ``report_file`` (JSON) when given.

    Each listed module gets ``init_cfg=dict(type='Pretrained', checkpoint=checkpoint, prefix='backbone.')``;
    mmseg's model-level ``pretrained`` is cleared. ``checkpoint`` must be a full mmssl pre-training checkpoint
    (``backbone.``-prefixed keys); a backbone-only file is refused so that one file always loads one way. mmseg's
    ViT (``MAE``) ignores the prefix and loads a file of its own names: ``prefix=''`` for the file
    :func:`~mmssl.benchmarks.dense_vit.write_mmseg_vit_checkpoint` writes.

    Raises:
        FileNotFoundError / CheckpointMismatchError: see :func:`mmssl.utils.require_prefixed_checkpoint`.
        ValueError: the config lacks the check hook, or still names a checkpoint to download.
    """
    hook = PretrainedWeightsCheckHook.find(cfg.get('custom_hooks'))
    if hook is None:
        raise ValueError(
            f"{config_name} has no mmssl.PretrainedWeightsCheckHook in custom_hooks; it declares which modules take "
            "the pre-trained weights, e.g. custom_hooks=[dict(type='mmssl.PretrainedWeightsCheckHook', "
            "modules=[dict(name='backbone')])] with custom_imports=dict(imports=['mmssl.engine'])")
    require_prefixed_checkpoint(checkpoint, prefix)
    if report_file is not None:
        hook['report_file'] = report_file
    for spec in hook.get('modules', [dict(name='backbone')]):
        _module_cfg(cfg, spec['name']).init_cfg = dict(type='Pretrained', checkpoint=checkpoint, prefix=prefix)
    if 'pretrained' in cfg.model:
        cfg.model.pretrained = None
    urls = find_download_urls(cfg.model)
    if urls:
        listed = ', '.join(f'{key}={value!r}' for key, value in urls.items())
        raise ValueError(f'{config_name} still loads weights from the network ({listed}); benchmark configs must '
                         'take every pre-trained module from the checkpoint given to the launcher')
    return cfg


def _metrics(logged: Dict[str, float]) -> Dict[str, float]:
    # The loops also log how long evaluation took (data_time, time): not a property of the model.
    return {key: float(value) for key, value in logged.items()
            if isinstance(value, numbers.Number) and key not in TIMING_KEYS}


class DenseBenchmark(Benchmark):
    """A benchmark trained and evaluated by another toolbox (``toolbox``: its configs' ``default_scope``)."""
    toolbox: str
    accepts_random = False

    @classmethod
    def add_arguments(cls, parser):
        add_train_options(parser)

    @classmethod
    def table_metrics(cls, metrics):
        mapped = {}
        for name, value in metrics.items():
            # mmdet / mmseg prefix metric names with the evaluator ('coco/bbox_mAP', 'pascal_voc/AP50').
            prefix, _, metric = name.rpartition('/')
            mapped[metric] = 100 * value if prefix in FRACTION_PREFIXES else value
        allowed = {metric for _, metric in cls.columns}
        return {name: value for name, value in mapped.items() if name in allowed}

    @classmethod
    def check_toolbox(cls, cfg: Config, config: str) -> None:
        """Refuse a config of another toolbox, naming the benchmark that runs it."""
        scope = cfg.get('default_scope')
        if scope != cls.toolbox:
            other = DENSE_BY_TOOLBOX.get(scope)
            hint = f'; use the {other.name} benchmark ({other.toolbox_name})' if other else ''
            raise ValueError(f"{config}: the {cls.name} benchmark ({cls.toolbox_name}) runs {cls.toolbox} configs "
                             f"(default_scope='{cls.toolbox}'), this one has default_scope={scope!r}{hint}")

    def configure(self, cfg: Config, weights: BackboneWeights, work_dir: Optional[str] = None,
                  launcher: str = 'none', resume=None, amp=False, auto_scale_lr=False, no_validate=False,
                  check_images=False) -> Config:
        """Check the config's toolbox, apply the train options and point the listed modules at ``weights``.

        mmdet / mmseg load ``backbone.*`` keys; a checkpoint of another layout is imported first, as
        ``WORK_DIR/pretrained/<name>-<sha256 prefix>.pth``
        (:func:`~mmssl.models.utils.checkpoint_import.import_checkpoint`). An mmseg ViT backbone (``MAE``) gets the
        ViT the loader read, renamed for mmseg (:func:`~mmssl.benchmarks.dense_vit.write_mmseg_vit_checkpoint`).
        The check hook writes the report of its verification of the backbone to ``WORK_DIR/checkpoint_load.json``.
        """
        config = cfg.filename or 'config'
        self.check_toolbox(cfg, config)
        apply_train_options(cfg, work_dir, resume, amp, auto_scale_lr, no_validate, launcher, check_images)
        report_file = osp.join(cfg.work_dir, LOAD_REPORT_FILE)
        if is_mmseg_vit(cfg):
            # mmseg's ViT reads a file of its own names, unprefixed; checked against the config before it is written.
            checkpoint = write_mmseg_vit_checkpoint(weights, cfg.model.backbone, cfg.work_dir)
            return set_dense_pretrained(cfg, checkpoint, config, report_file=report_file, prefix='')
        return set_dense_pretrained(cfg, self.mmssl_checkpoint(weights, cfg.work_dir), config, report_file=report_file)

    @staticmethod
    def mmssl_checkpoint(weights: BackboneWeights, work_dir: str) -> str:
        """The checkpoint itself when it is an mmssl checkpoint read as such, else its backbone imported into
        ``work_dir``."""
        if weights.layout == 'mmssl' and not any(weights.options.values()):
            return weights.path
        name = f'{osp.splitext(osp.basename(weights.path))[0]}-{weights.sha256[:8]}.pth'
        return import_checkpoint(weights.path, osp.join(work_dir, 'pretrained', name), **weights.options)

    def run(self, cfg, weights, work_dir, pretrain_config=None, **train_options):
        """Train; the final validation metrics go into ``WORK_DIR/result_<record name>.json``."""
        self.configure(cfg, weights, work_dir, **train_options)
        report_file = osp.join(cfg.work_dir, LOAD_REPORT_FILE)
        if is_rank_zero() and osp.exists(report_file):
            os.remove(report_file)  # an earlier run's report must not stand in for this one's
        metrics = _metrics(train(cfg))
        self.write_record(cfg.work_dir, metrics, cfg, weights, read_load_report(report_file),
                          pretrain_config=pretrain_config, seeds=dict(cfg.get('randomness') or {}),
                          extra=dict(split='val'))
        return metrics


@BENCHMARKS.register_module()
class DetectionBenchmark(DenseBenchmark):
    """Object detection / instance segmentation fine-tuned with mmdet (VOC07+12 Faster R-CNN C4, COCO Mask R-CNN).

    Metrics: mmdet's (``pascal_voc/AP50``, ``coco/bbox_mAP`` …, fractions; the tables show percent).
    """
    name = 'det'
    record_name = 'detection'
    title = 'Detection (mmdet)'
    task = 'Object Detection'
    toolbox = 'mmdet'
    toolbox_name = 'mmdetection'
    columns = (('AP50', 'AP50'), ('Box mAP', 'bbox_mAP'), ('Box AP50', 'bbox_mAP_50'), ('Box AP75', 'bbox_mAP_75'),
               ('Mask mAP', 'segm_mAP'), ('Mask AP50', 'segm_mAP_50'), ('Mask AP75', 'segm_mAP_75'))


@BENCHMARKS.register_module()
class SegmentationBenchmark(DenseBenchmark):
    """Semantic segmentation fine-tuned with mmseg (VOC12aug / Cityscapes FCN). Metrics: mmseg's (``mIoU`` in %)."""
    name = 'seg'
    record_name = 'segmentation'
    title = 'Segmentation (mmseg)'
    task = 'Semantic Segmentation'
    toolbox = 'mmseg'
    toolbox_name = 'mmsegmentation'
    columns = (('mIoU', 'mIoU'), )


DENSE_BY_TOOLBOX = {'mmdet': DetectionBenchmark, 'mmseg': SegmentationBenchmark}


def load_dense_test_config(config: str, checkpoint: str, args: argparse.Namespace, toolbox: str) -> Config:
    """Read a benchmark config for evaluating ``checkpoint`` (a detector / segmentor trained with it)."""
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint {checkpoint} does not exist')
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(config)
    DENSE_BY_TOOLBOX[toolbox].check_toolbox(cfg, config)
    cfg.launcher = args.launcher
    merge_cfg_options(cfg, args.cfg_options)
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        './work_dirs', osp.splitext(osp.basename(config))[0])
    cfg.load_from = checkpoint
    return cfg


def dense_test(cfg: Config, toolbox: str, config: str, checkpoint: str) -> Dict[str, float]:
    """Evaluate ``cfg.load_from`` on the test set; print the metrics and write them as a result record to
    ``WORK_DIR/result_<record name>_test.json`` (its ``checkpoint`` is the evaluated detector / segmentor)."""
    prepare_cpu_launch(cfg, cfg.get('launcher', 'none'))
    try:
        with work_dir_lock(cfg.work_dir, enabled=is_rank_zero()), suggest_close_names():
            runner = CheckedRunner.from_cfg(cfg)
            runner.min_load_ratio = 1.0  # every key of the fine-tuned model, or the test reports a random network
            metrics = _metrics(runner.test())
    finally:
        teardown_distributed()
    benchmark = DENSE_BY_TOOLBOX[toolbox]()
    file = read_checkpoint(checkpoint)
    # The evaluated checkpoint is the whole fine-tuned model, loaded as it was saved (every key required).
    model = BackboneWeights(file.path, file.sha256, f'{toolbox} model')
    benchmark.write_record(cfg.work_dir, metrics, cfg, model, getattr(runner, 'load_report', None),
                           seeds=dict(cfg.get('randomness') or {}),
                           extra=dict(split='test', evaluated='fine-tuned model'), benchmark_config=config,
                           record_file=f'result_{benchmark.record_name}_test.json')
    return metrics


def main_test(argv: Optional[Sequence[str]], toolbox: str, prog: Optional[str] = None) -> Dict[str, float]:
    """``CONFIG CHECKPOINT [options]``: evaluate a model fine-tuned by the ``det`` / ``seg`` benchmark."""
    benchmark = DENSE_BY_TOOLBOX[toolbox]
    parser = argparse.ArgumentParser(prog=prog, description=f'Evaluate a model trained by the {benchmark.name} '
                                     f'benchmark ({toolbox} config) on the test set')
    parser.add_argument('config', help=f'benchmark config under configs/benchmarks/{benchmark.toolbox_name}/')
    parser.add_argument('checkpoint', help=f'checkpoint written by the {benchmark.name} benchmark')
    parser.add_argument('--work-dir', help='where logs and metrics go')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config entries')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    cfg = load_dense_test_config(args.config, args.checkpoint, args, toolbox)
    return dense_test(cfg, toolbox, args.config, args.checkpoint)

"""Detection and segmentation benchmarks run by mmdet / mmseg: the logic behind ``tools/benchmarks/mm{detection,
segmentation}/{train,test}.py``.

The benchmark configs (``configs/benchmarks/mmdetection``, ``configs/benchmarks/mmsegmentation``) inherit
mmdet's / mmseg's own configs and keep their ``default_scope``; mmssl only supplies the pre-trained weights
and checks that they arrived. Which modules take the weights is declared once, by the config's
``mmssl.PretrainedWeightsCheckHook`` (``backbone``; for C4 detectors also ``roi_head.shared_head``, whose res5
loads the checkpoint's ``backbone.layer4.*``). Training and testing use mmengine's Runner through
:func:`mmssl.apis.train`, so CPU-only machines (gloo, SyncBN → BN) work as for every other mmssl config.
"""
import argparse
import numbers
import os
import os.path as osp
from typing import Dict, Optional, Sequence

from mmengine.config import Config, DictAction
from mmengine.dist import is_main_process
from mmengine.runner import Runner

from mmssl.engine.hooks import PretrainedWeightsCheckHook
from mmssl.registry import suggest_close_names
from mmssl.utils import prepare_cpu_launch, register_all_modules, require_prefixed_checkpoint, teardown_distributed

from .results import write_result
from .train import add_train_arguments, load_train_config, train

__all__ = ['TOOLBOXES', 'set_dense_pretrained', 'find_download_urls', 'load_dense_train_config',
           'load_dense_test_config', 'dense_train', 'dense_test', 'main_train', 'main_test']

#: default_scope of the configs each launcher accepts -> (benchmark name, launcher folder under tools/benchmarks).
TOOLBOXES = {'mmdet': ('detection', 'mmdetection'), 'mmseg': ('segmentation', 'mmsegmentation')}
#: Checkpoint locations that mean a download (mmengine's loaders for these schemes fetch from the network).
URL_SCHEMES = ('http://', 'https://', 'open-mmlab://', 'openmmlab://', 'torchvision://', 'mmcls://', 'mmpretrain://',
               'modelzoo://', 'pavi://', 's3://')
PREFIX = 'backbone.'
TIMING_KEYS = ('data_time', 'time')


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


def set_dense_pretrained(cfg: Config, checkpoint: str, config_name: str = 'config') -> Config:
    """Load ``checkpoint``'s ``backbone.*`` weights into the modules the config's check hook lists.

    Each listed module gets ``init_cfg=dict(type='Pretrained', checkpoint=checkpoint, prefix='backbone.')``;
    mmseg's model-level ``pretrained`` is cleared. ``checkpoint`` must be a full mmssl pre-training checkpoint
    (``backbone.``-prefixed keys); a backbone-only file is refused so that one file always loads one way.

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
    require_prefixed_checkpoint(checkpoint, PREFIX)
    for spec in hook.get('modules', [dict(name='backbone')]):
        _module_cfg(cfg, spec['name']).init_cfg = dict(type='Pretrained', checkpoint=checkpoint, prefix=PREFIX)
    if 'pretrained' in cfg.model:
        cfg.model.pretrained = None
    urls = find_download_urls(cfg.model)
    if urls:
        listed = ', '.join(f'{key}={value!r}' for key, value in urls.items())
        raise ValueError(f'{config_name} still loads weights from the network ({listed}); benchmark configs must '
                         'take every pre-trained module from the checkpoint given to the launcher')
    return cfg


def _check_toolbox(cfg: Config, toolbox: str, config: str) -> None:
    scope = cfg.get('default_scope')
    if scope != toolbox:
        folder = TOOLBOXES[scope][1] if scope in TOOLBOXES else None
        hint = f'; use tools/benchmarks/{folder}/' if folder else ''
        raise ValueError(f"{config}: tools/benchmarks/{TOOLBOXES[toolbox][1]}/ runs {toolbox} configs "
                         f"(default_scope='{toolbox}'), this one has default_scope={scope!r}{hint}")


def load_dense_train_config(config: str, pretrain: str, args: argparse.Namespace, toolbox: str) -> Config:
    """Read a benchmark config, apply the train options (:func:`mmssl.apis.add_train_arguments`) and the
    pre-trained checkpoint."""
    cfg = load_train_config(config, args)
    _check_toolbox(cfg, toolbox, config)
    return set_dense_pretrained(cfg, pretrain, config)


def load_dense_test_config(config: str, checkpoint: str, args: argparse.Namespace, toolbox: str) -> Config:
    """Read a benchmark config for evaluating ``checkpoint`` (a detector / segmentor trained with it)."""
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint {checkpoint} does not exist')
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(config)
    _check_toolbox(cfg, toolbox, config)
    cfg.launcher = args.launcher
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        './work_dirs', osp.splitext(osp.basename(config))[0])
    cfg.load_from = checkpoint
    return cfg


def _metrics(logged: Dict[str, float]) -> Dict[str, float]:
    # The loops also log how long evaluation took (data_time, time): not a property of the model.
    return {key: float(value) for key, value in logged.items()
            if isinstance(value, numbers.Number) and key not in TIMING_KEYS}


def _report(cfg: Config, file_name: str, benchmark: str, metrics: Dict[str, float], **record) -> None:
    if not is_main_process():
        return
    write_result(osp.join(cfg.work_dir, file_name), benchmark, metrics, seeds=dict(cfg.get('randomness') or {}),
                 **record)
    for key, value in sorted(metrics.items()):
        print(f'{key}: {value:.4f}')


def dense_train(cfg: Config, benchmark: str, config: str, pretrain: str,
                pretrain_config: Optional[str] = None) -> Dict[str, float]:
    """Train a configured benchmark; print the final validation metrics and write them as a result record
    (:mod:`mmssl.apis.results`) to ``WORK_DIR/result_<benchmark>.json``."""
    metrics = _metrics(train(cfg))
    _report(cfg, f'result_{benchmark}.json', benchmark, metrics, checkpoint=pretrain, pretrain_config=pretrain_config,
            benchmark_config=config, extra=dict(work_dir=cfg.work_dir, split='val'))
    return metrics


def dense_test(cfg: Config, benchmark: str, config: str, checkpoint: str) -> Dict[str, float]:
    """Evaluate ``cfg.load_from`` on the test set; print the metrics and write them as a result record to
    ``WORK_DIR/result_<benchmark>_test.json`` (its ``checkpoint`` is the evaluated detector / segmentor)."""
    prepare_cpu_launch(cfg, cfg.get('launcher', 'none'))
    try:
        with suggest_close_names():
            metrics = _metrics(Runner.from_cfg(cfg).test())
    finally:
        teardown_distributed()
    _report(cfg, f'result_{benchmark}_test.json', benchmark, metrics, checkpoint=checkpoint, benchmark_config=config,
            extra=dict(work_dir=cfg.work_dir, split='test', evaluated='fine-tuned model'))
    return metrics


def main_train(argv: Optional[Sequence[str]], toolbox: str) -> Dict[str, float]:
    """``train.py CONFIG PRETRAIN [options]`` for ``toolbox`` (``'mmdet'`` or ``'mmseg'``)."""
    benchmark, folder = TOOLBOXES[toolbox]
    parser = argparse.ArgumentParser(
        prog=f'tools/benchmarks/{folder}/train.py',
        description=f'Train a {benchmark} benchmark ({toolbox} config) from an mmssl pre-training checkpoint')
    parser.add_argument('config', help=f'benchmark config under configs/benchmarks/{folder}/')
    parser.add_argument('pretrain', help='full mmssl pre-training checkpoint (keys backbone.*, as tools/train.py '
                        'writes it)')
    parser.add_argument('--pretrain-config', help='the config that produced PRETRAIN (recorded in the result)')
    args = add_train_arguments(parser).parse_args(argv)
    cfg = load_dense_train_config(args.config, args.pretrain, args, toolbox)
    return dense_train(cfg, benchmark, args.config, args.pretrain, args.pretrain_config)


def main_test(argv: Optional[Sequence[str]], toolbox: str) -> Dict[str, float]:
    """``test.py CONFIG CHECKPOINT [options]`` for ``toolbox`` (``'mmdet'`` or ``'mmseg'``)."""
    benchmark, folder = TOOLBOXES[toolbox]
    parser = argparse.ArgumentParser(prog=f'tools/benchmarks/{folder}/test.py',
                                     description=f'Evaluate a trained {benchmark} benchmark model ({toolbox} config)')
    parser.add_argument('config', help=f'benchmark config under configs/benchmarks/{folder}/')
    parser.add_argument('checkpoint', help='checkpoint written by tools/benchmarks/' + folder + '/train.py')
    parser.add_argument('--work-dir', help='where logs and metrics go')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config entries')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    cfg = load_dense_test_config(args.config, args.checkpoint, args, toolbox)
    return dense_test(cfg, benchmark, args.config, args.checkpoint)

"""The training entry shared by the train tool and the benchmarks that train (linear, semi-sup, det, seg)."""
import argparse
import os
import os.path as osp
from typing import Dict, Optional

from mmengine.config import Config, DictAction

from mmssl.engine.runner import CheckedRunner
from mmssl.registry import suggest_close_names
from mmssl.utils import prepare_cpu_launch, register_all_modules, teardown_distributed
from mmssl.utils.config import merge_cfg_options
from mmssl.utils.errors import InputError
from mmssl.utils.work_dir_lock import is_rank_zero, work_dir_lock

# Scalars the validation loop logs beside the metrics: how long it took, not how good the model is.
TIMING_KEYS = ('data_time', 'time')


def add_train_options(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The training options of every launcher that trains, besides the shared ones (work dir, launcher, ...)."""
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from CHECKPOINT, or with no value from the newest checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rate by total batch size / auto_scale_lr.base_batch_size')
    parser.add_argument('--no-validate', action='store_true', help='skip validation during training')
    parser.add_argument('--check-images', action='store_true',
                        help='decode every training image before training and list all that fail')
    return parser


def add_train_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Every option of the train tool (after its positional arguments)."""
    parser.add_argument('--work-dir', help='where logs and checkpoints go (default: ./work_dirs/CONFIG_NAME)')
    add_train_options(parser)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. train_dataloader.batch_size=32')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher (torchrun: pytorch)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser


def apply_train_options(cfg: Config, work_dir: Optional[str] = None, resume: Optional[str] = None,
                        amp: bool = False, auto_scale_lr: bool = False, no_validate: bool = False,
                        launcher: str = 'none', check_images: bool = False) -> Config:
    """Apply the options of :func:`add_train_options` (and the work dir and launcher) to a loaded config."""
    config = cfg.filename or 'the config'
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(config))[0])
    if amp:
        optim_wrapper_type = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if optim_wrapper_type not in ('OptimWrapper', 'AmpOptimWrapper'):
            raise InputError(f'--amp needs optim_wrapper.type OptimWrapper, {config} has {optim_wrapper_type}')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if auto_scale_lr:
        if 'base_batch_size' not in cfg.get('auto_scale_lr', {}):
            raise InputError(f'--auto-scale-lr: {config} has no auto_scale_lr.base_batch_size')
        cfg.auto_scale_lr.enable = True
    if resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif resume is not None:
        cfg.resume, cfg.load_from = True, resume
    if no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if check_images:
        cfg.check_images = True  # read by mmssl.engine.hooks.DataCheckHook
    checkpoint_hook = cfg.get('default_hooks', {}).get('checkpoint')
    if checkpoint_hook and checkpoint_hook.get('type') == 'CheckpointHook':
        # mmssl's saves atomically; mmdet / mmseg configs would resolve the name in their own scope
        checkpoint_hook.type = 'mmssl.CheckpointHook'
    return cfg


def load_train_config(config: str, args: argparse.Namespace) -> Config:
    """Read ``config`` and apply the options of :func:`add_train_arguments`."""
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    register_all_modules(init_default_scope=False)
    cfg = merge_cfg_options(Config.fromfile(config), args.cfg_options)
    return apply_train_options(cfg, args.work_dir, args.resume, args.amp, args.auto_scale_lr, args.no_validate,
                               args.launcher, args.check_images)


def train(cfg: Config) -> Dict[str, float]:
    """Train with mmengine's Runner (CPU-distributed aware) and return the last validation metrics.

    Rank 0 holds the lock of ``cfg.work_dir`` (:func:`mmssl.utils.work_dir_lock.work_dir_lock`) from before the
    Runner is built until training ends, so a second run on the same work dir fails at once.
    """
    prepare_cpu_launch(cfg, cfg.get('launcher', 'none'))
    try:
        with work_dir_lock(cfg.work_dir, enabled=is_rank_zero()), suggest_close_names():
            runner = CheckedRunner.from_cfg(cfg)
            runner.train()
        return {key[len('val/'):]: buffer.current()
                for key, buffer in runner.message_hub.log_scalars.items() if key.startswith('val/')}
    finally:
        teardown_distributed()


def split_timing(logged: Dict[str, float]) -> tuple:
    """``(metrics, timing)``: the loops also log how long evaluation took, which is not a result."""
    metrics = {key: value for key, value in logged.items() if key not in TIMING_KEYS}
    return metrics, {key: logged[key] for key in TIMING_KEYS if key in logged}

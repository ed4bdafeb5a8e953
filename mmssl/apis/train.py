"""The training entry shared by ``tools/train.py`` and the benchmark launchers."""
import argparse
import os
import os.path as osp
from typing import Dict

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from mmssl.registry import suggest_close_names
from mmssl.utils import prepare_cpu_launch, register_all_modules, teardown_distributed


def add_train_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options every training launcher accepts (after its positional arguments)."""
    parser.add_argument('--work-dir', help='where logs and checkpoints go (default: ./work_dirs/CONFIG_NAME)')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from CHECKPOINT, or with no value from the newest checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rate by total batch size / auto_scale_lr.base_batch_size')
    parser.add_argument('--no-validate', action='store_true', help='skip validation during training')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. train_dataloader.batch_size=32')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher (tools/dist_train.sh uses pytorch)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser


def load_train_config(config: str, args: argparse.Namespace) -> Config:
    """Read ``config`` and apply the options of :func:`add_train_arguments`."""
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(config)
    cfg.launcher = args.launcher
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(config))[0])
    if args.amp:
        optim_wrapper_type = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if optim_wrapper_type not in ('OptimWrapper', 'AmpOptimWrapper'):
            raise ValueError(f'--amp needs optim_wrapper.type OptimWrapper, {config} has {optim_wrapper_type}')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.auto_scale_lr:
        if 'base_batch_size' not in cfg.get('auto_scale_lr', {}):
            raise ValueError(f'--auto-scale-lr: {config} has no auto_scale_lr.base_batch_size')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    return cfg


def train(cfg: Config) -> Dict[str, float]:
    """Train with mmengine's Runner (CPU-distributed aware) and return the last validation metrics."""
    prepare_cpu_launch(cfg, cfg.get('launcher', 'none'))
    try:
        with suggest_close_names():
            runner = Runner.from_cfg(cfg)
            runner.train()
        return {key[len('val/'):]: buffer.current()
                for key, buffer in runner.message_hub.log_scalars.items() if key.startswith('val/')}
    finally:
        teardown_distributed()

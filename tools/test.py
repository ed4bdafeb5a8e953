"""Evaluate a checkpoint: ``python tools/test.py CONFIG CHECKPOINT [options]``."""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction

from mmssl.engine.runner import CheckedRunner
from mmssl.registry import suggest_close_names
from mmssl.utils import prepare_cpu_launch, register_all_modules, teardown_distributed
from mmssl.utils.cli_errors import run_cli
from mmssl.utils.config import merge_cfg_options
from mmssl.utils.work_dir_lock import is_rank_zero, work_dir_lock


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (evaluate) a checkpoint with mmssl')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where logs and metrics go')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config entries')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main(argv=None):
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    merge_cfg_options(cfg, args.cfg_options)
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        './work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if cfg.get('test_dataloader') is None:
        # Pretext configs validate on held-out data; testing reuses that split.
        cfg.test_dataloader, cfg.test_evaluator = cfg.get('val_dataloader'), cfg.get('val_evaluator')
        cfg.test_cfg = dict(type='TestLoop')
    if cfg.test_dataloader is None:
        raise ValueError(f'{args.config} has neither test_dataloader nor val_dataloader to evaluate on')
    prepare_cpu_launch(cfg, args.launcher)
    try:
        with work_dir_lock(cfg.work_dir, enabled=is_rank_zero()), suggest_close_names():
            runner = CheckedRunner.from_cfg(cfg)
            runner.min_load_ratio = 1.0  # a test of a partly loaded network would report a random one's accuracy
            metrics = runner.test()
    finally:
        teardown_distributed()
    return metrics


if __name__ == '__main__':
    run_cli(main)

"""Benchmark a pre-training while it runs: every checkpoint it writes into WORK_DIR, once each, in order.

    python tools/benchmarks/watch.py WORK_DIR [WORK_DIR ...] --config PRETRAIN_CONFIG --suite SUITE_YML \\
        --benchmarks knn probe svm [--until STEP] [--out OUT_DIR] [--poll SECONDS] [--idle-timeout SECONDS] \\
        [--baseline-seeds 0 1 2]

Each ``iter_<N>.pth`` (or ``epoch_<N>.pth``) is benchmarked once it is complete (``last_checkpoint`` names it or a
later one, or a later checkpoint exists, or it is unchanged over two polls and loads) into
``OUT/iter_<N>/<benchmark>`` (several WORK_DIRs, e.g. seeds: ``OUT/<work dir name>/iter_<N>``), then
``OUT/curves.png`` (a panel per metric, a line per run and tap, the random-init band) and ``OUT/curves.md`` (a row
per step) are redrawn. The watch ends after the training's last checkpoint (``train_cfg.max_iters`` /
``max_epochs`` of PRETRAIN_CONFIG, or ``--until``) and fails after ``--idle-timeout`` seconds without a new one.
Killed, it is started again with the same command: steps already done are skipped. ``--baseline-seeds`` adds the
random-init backbones of those seeds (``OUT/random_init_seed<S>``). Save the initial weights as ``iter_0.pth`` with
``default_hooks.checkpoint.save_initial=True`` in the pre-training config, so the curve starts at step 0. OUT
defaults to ``WORK_DIR/watch``; the watch holds its lock.
"""
import argparse

from mmssl.benchmarks.base import benchmark_names
from mmssl.benchmarks.cli import add_checkpoint_arguments, checkpoint_options
from mmssl.benchmarks.watch import watch_training
from mmssl.utils.cli_errors import run_cli


def parse_args(argv=None) -> argparse.Namespace:
    """The watch's command line (see the module's docstring)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('work_dir', nargs='+', metavar='WORK_DIR',
                        help='the training\'s work dir (several: runs of one config, e.g. seeds)')
    parser.add_argument('--config', required=True, metavar='PRETRAIN_CONFIG',
                        help='the pre-training config (its last step; recorded in the results)')
    parser.add_argument('--suite', required=True, help='suite file: benchmark -> config')
    parser.add_argument('--benchmarks', nargs='+', required=True, choices=benchmark_names())
    parser.add_argument('--until', type=int, help='last step to benchmark (default: the config\'s max_iters / '
                        'max_epochs)')
    parser.add_argument('--out', help='records and curves (default: WORK_DIR/watch)')
    parser.add_argument('--poll', type=float, default=10.0, help='seconds between looks (default %(default)s)')
    parser.add_argument('--idle-timeout', type=float, default=1800.0,
                        help='fail after this many seconds without a new checkpoint (default %(default)s)')
    parser.add_argument('--baseline-seeds', nargs='+', type=int, default=[], metavar='SEED',
                        help='also benchmark the random-init backbones of these seeds (the curves\' band)')
    parser.add_argument('--recompute', action='store_true',
                        help='passed to the benchmarks that take it: recompute work of another input')
    add_checkpoint_arguments(parser)
    args = parser.parse_args(argv)
    if len(set(args.baseline_seeds)) != len(args.baseline_seeds):
        parser.error(f'--baseline-seeds {args.baseline_seeds} repeats a seed')
    return args


def main(argv=None):
    args = parse_args(argv)
    written = watch_training(args.work_dir, args.config, args.suite, args.benchmarks, args.out, args.until,
                             args.poll, args.idle_timeout, args.baseline_seeds, checkpoint_options(args),
                             args.recompute)
    with open(written['table']) as f:
        print(f.read())
    print(f'curves: {written["figure"]}; table: {written["table"]}')


if __name__ == '__main__':
    run_cli(main)

"""The one command line of every benchmark: ``python -m mmssl.benchmarks NAME CONFIG CHECKPOINT [options]``.

The repository's benchmark scripts call :func:`main` with their benchmark's name, so every benchmark takes
the same arguments for the same things:

- ``CONFIG``: the benchmark config; ``CHECKPOINT``: a checkpoint file, or ``none`` for the seeded random backbone
  (read and checked before any work starts);
- ``--work-dir`` (default :func:`mmssl.benchmarks.base.default_work_dir`), ``--cfg-options``,
  ``--pretrain-config`` (recorded), ``--launcher`` / ``--local-rank`` (torchrun), ``--recompute`` (passed as
  ``recompute=`` to every benchmark whose ``run`` takes it: those that reuse features or partial results);
- then the benchmark's own options (``--help`` lists them).
"""
import argparse
import inspect
import os
import os.path as osp
import sys
from typing import Dict, Optional, Sequence, Union

from mmengine.config import DictAction

from mmssl.constants import RANDOM_INIT, RANDOM_INIT_SEED
from mmssl.utils import BackboneWeights, setup_runtime
from mmssl.utils.checkpoint_formats import format_names
from mmssl.utils.work_dir_lock import is_rank_zero, work_dir_lock

from .base import Benchmark, benchmark_names, default_work_dir, get_benchmark


def build_parser(*benchmarks: Benchmark, prog: Optional[str] = None) -> argparse.ArgumentParser:
    """The parser of one benchmark (or of several run on the same checkpoint): the shared arguments, then each
    benchmark's :meth:`Benchmark.add_arguments` (options they share are added once)."""
    title = ' + '.join(f'{b.title} ({b.name})' for b in benchmarks)
    parser = argparse.ArgumentParser(prog=prog, description=title, conflict_handler='resolve')
    parser.add_argument('config', help='benchmark config')
    parser.add_argument('checkpoint', help=f'pre-trained checkpoint, or "{RANDOM_INIT}" for the seeded random '
                        'backbone')
    parser.add_argument('--work-dir', help='outputs and result record (default: work_dirs/benchmarks/<benchmark>/'
                        '<config name>/<checkpoint name>-<sha256 prefix>)')
    # default None: a seed given with a checkpoint file is refused, not ignored (BackboneWeights.from_arg)
    parser.add_argument('--random-init-seed', type=int, default=None,
                        help=f'seed of the random backbone when CHECKPOINT is "{RANDOM_INIT}" (default '
                        f'{RANDOM_INIT_SEED}); refused with a checkpoint file')
    parser.add_argument('--pretrain-config', help='the config that produced CHECKPOINT (recorded in the result)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config entries')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher (torchrun: pytorch)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    parser.add_argument('--recompute', action='store_true',
                        help='the work dir holds features or partial results of another input (checkpoint or how it '
                        'was read, config after --cfg-options, list files, settings): delete them and compute again '
                        '(default: refuse them; benchmarks that reuse nothing ignore it)')
    add_checkpoint_arguments(parser)
    for benchmark in benchmarks:
        benchmark.add_arguments(parser)
    return parser


SHARED = ('config', 'checkpoint', 'work_dir', 'cfg_options', 'local_rank', 'checkpoint_format', 'checkpoint_prefix',
          'checkpoint_key', 'random_init_seed', 'recompute')


def add_checkpoint_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """How to read the checkpoint when its layout is not detected (docs/en/checkpoints.md)."""
    parser.add_argument('--checkpoint-format', choices=format_names(),
                        help='layout of CHECKPOINT (default: detected)')
    parser.add_argument('--checkpoint-prefix', help='use only keys starting with this (stripped), before any other '
                        'handling, e.g. module.encoder_q.')
    parser.add_argument('--checkpoint-key', help='dotted path of nested dicts to the weights, e.g. '
                        'classy_state_dict.base_model.model.trunk')
    return parser


def checkpoint_options(args: argparse.Namespace) -> dict:
    """The options of :func:`add_checkpoint_arguments` as :class:`mmssl.utils.BackboneWeights` takes them."""
    return dict(checkpoint_format=args.checkpoint_format, prefix=args.checkpoint_prefix,
                key_path=args.checkpoint_key)


def _own_options(benchmark: Benchmark, args: argparse.Namespace) -> dict:
    """The parsed options that ``benchmark`` takes (besides the shared ones), and ``recompute`` when its
    :meth:`~Benchmark.run` takes it (a benchmark that reuses features or partial results)."""
    own = {action.dest for action in build_parser(benchmark)._actions}
    options = {key: value for key, value in vars(args).items() if key in own and key not in SHARED}
    if 'recompute' in inspect.signature(benchmark.run).parameters:
        options['recompute'] = args.recompute
    return options


def main(names: Union[str, Sequence[str]], argv: Optional[Sequence[str]] = None,
         prog: Optional[str] = None) -> Dict[str, float]:
    """Parse the command line of benchmark ``names`` (or of several, run in turn on the same checkpoint, config
    and work dir), run it and return its metrics (several: name -> metrics)."""
    config = argv[0] if argv else None
    benchmarks = [get_benchmark(name, config) for name in ([names] if isinstance(names, str) else names)]
    args = build_parser(*benchmarks, prog=prog).parse_args(argv)
    setup_runtime()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    # Read and converted once, here: a missing file or an unknown layout fails before any work.
    weights = BackboneWeights.from_arg(args.checkpoint, random_init_seed=args.random_init_seed,
                                       **checkpoint_options(args))
    refused = [b.name for b in benchmarks if weights.is_random and not b.accepts_random]
    if refused:
        raise SystemExit(f'the {", ".join(refused)} benchmark needs a pre-trained checkpoint, not "{RANDOM_INIT}"')
    results = {}
    for benchmark in benchmarks:
        cfg = benchmark.load_config(args.config, args.cfg_options)
        work_dir = osp.abspath(args.work_dir or default_work_dir(benchmark.work_subdir or benchmark.name,
                                                                 args.config, weights.path, weights.sha256,
                                                                 random_init_seed=weights.random_init_seed))
        with work_dir_lock(work_dir, enabled=is_rank_zero()):
            results[benchmark.name] = benchmark.run(cfg, weights, work_dir, **_own_options(benchmark, args))
    return results[benchmarks[0].name] if isinstance(names, str) else results


def entry_point(argv: Optional[Sequence[str]] = None) -> Dict[str, float]:
    """``python -m mmssl.benchmarks NAME ...``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith('-'):
        raise SystemExit(f'usage: python -m mmssl.benchmarks NAME CONFIG CHECKPOINT [options]; NAME is one of '
                         f'{", ".join(benchmark_names())}')
    return main(argv[0], argv[1:], prog=f'python -m mmssl.benchmarks {argv[0]}')

"""Run a benchmark suite on a pre-trained checkpoint and print the model-zoo tables.

    python tools/benchmarks/run_suite.py PRETRAIN_CONFIG CHECKPOINT --benchmarks svm lowshot linear knn det seg

Each benchmark's config comes from the suite file (``--suite``, default
``configs/benchmarks/suites/resnet50_in1k.yml``; override one with ``--config NAME=PATH``). Every benchmark runs in
its own process (``python -m mmssl.benchmarks NAME``; ``--gpus N``: under torchrun with N processes) into
``WORK_DIR/<benchmark>`` and writes a result record; ``--baseline`` runs the same benchmarks on the seeded random
backbone into ``WORK_DIR/random_init`` for the row beside it. The tables are printed and written to
``WORK_DIR/model_zoo.md``, with plots of the low-shot curve and of linear accuracy per layer. ``--model NAME``
merges the records into that model of the metafiles and regenerates the model-zoo pages (``--baseline-model NAME``
the same for the baseline row). Interrupted runs resume: start the same command again.

Paths on the command line (PRETRAIN_CONFIG, CHECKPOINT, ``--suite``, ``--config``, ``--work-dir``) are taken from
the current directory and made absolute before anything runs; a relative config in a suite file is taken from the
suite file's folder, else from the repository root (the shipped suites name ``configs/...``).
"""
import argparse
import os.path as osp
import sys

from mmengine.utils import mkdir_or_exist

from mmssl.benchmarks import suite as benchmark_suite
from mmssl.benchmarks.base import benchmark_names, get_benchmark
from mmssl.benchmarks.cli import add_checkpoint_arguments, checkpoint_options
from mmssl.utils import parse_checkpoint_arg, read_backbone, read_checkpoint

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'analysis_tools'))  # the model-zoo tables are a tool, not the package
import model_zoo  # noqa: E402

DEFAULT_SUITE = 'configs/benchmarks/suites/resnet50_in1k.yml'


def parse_config_override(text: str):
    name, sep, path = text.partition('=')
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f'expected NAME=PATH, got {text!r}')
    return name, path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('pretrain_config', help='the config that produced CHECKPOINT')
    parser.add_argument('checkpoint', help='pre-training checkpoint (full, as tools/train.py writes it)')
    parser.add_argument('--benchmarks', nargs='+', required=True, choices=benchmark_names())
    parser.add_argument('--suite', default=osp.join(REPO, DEFAULT_SUITE), help='suite file (default %(default)s)')
    parser.add_argument('--config', action='append', type=parse_config_override, default=[],
                        metavar='NAME=PATH', help='use PATH as the config of benchmark NAME')
    parser.add_argument('--work-dir', help='default: work_dirs/benchmarks/suite/<checkpoint name>-<sha256 prefix>')
    parser.add_argument('--gpus', type=int, default=1, help='processes per benchmark (distributed when > 1)')
    parser.add_argument('--baseline', action='store_true', help='also evaluate the seeded random backbone')
    parser.add_argument('--model', help='model name in the metafiles to merge the results into')
    parser.add_argument('--baseline-model', help='model name in the metafiles for the baseline results')
    add_checkpoint_arguments(parser)
    args = parser.parse_args(argv)

    # Every path is fixed against the caller's directory now: benchmarks run in child processes.
    pretrain_config = osp.abspath(args.pretrain_config)
    if not osp.isfile(pretrain_config):
        parser.error(f'PRETRAIN_CONFIG {pretrain_config} does not exist')
    overrides = {name: osp.abspath(path) for name, path in args.config}
    suite = benchmark_suite.load_suite(osp.abspath(args.suite), overrides, REPO)
    checkpoint = parse_checkpoint_arg(args.checkpoint)
    if checkpoint is None:
        parser.error('CHECKPOINT must be a pre-trained checkpoint; --baseline adds the random backbone')
    options = checkpoint_options(args)
    read_backbone(checkpoint, **options)  # an unknown layout fails here, before any benchmark runs
    tag = f'{osp.splitext(osp.basename(checkpoint))[0]}-{read_checkpoint(checkpoint).sha256[:8]}'
    work_dir = osp.abspath(args.work_dir or osp.join('work_dirs', 'benchmarks', 'suite', tag))
    mkdir_or_exist(work_dir)
    runs = {osp.splitext(osp.basename(pretrain_config))[0]: (checkpoint, work_dir, args.model)}
    if args.baseline:
        runs['random init'] = (None, osp.join(work_dir, 'random_init'), args.baseline_model)
    records = {}
    for name, (run_checkpoint, run_dir, _) in runs.items():
        records[name] = benchmark_suite.run_suite(run_checkpoint, args.benchmarks, suite, run_dir, pretrain_config,
                                                  args.gpus, checkpoint_options=options)
    for name, (_, run_dir, model) in runs.items():
        if model:
            for benchmark in args.benchmarks:
                declared = get_benchmark(benchmark)
                record = declared.record_path(osp.join(run_dir, declared.work_subdir or benchmark))
                model_zoo.add_result(REPO, record, model)
            for path in model_zoo.write_generated(REPO):
                print(f'updated {path}')
    tables = model_zoo.run_tables(records, pretrain_config, REPO)
    with open(osp.join(work_dir, 'model_zoo.md'), 'w') as f:
        f.write(tables)
    linear = {name: runs_records['linear'] for name, runs_records in records.items() if 'linear' in runs_records}
    plot = benchmark_suite.plot_linear(linear, osp.join(work_dir, 'linear_per_layer.png')) if linear else None
    print(tables)
    print(f'tables: {osp.join(work_dir, "model_zoo.md")}' + (f'; linear accuracy per layer: {plot}' if plot else ''))
    if 'lowshot' in args.benchmarks:
        print(f'low-shot curve: {osp.join(work_dir, "svm_voc07", "lowshot", "lowshot.png")}')


if __name__ == '__main__':
    main()

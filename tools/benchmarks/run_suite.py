"""Run a benchmark suite on a pre-trained checkpoint and print the model-zoo tables.

    python tools/benchmarks/run_suite.py PRETRAIN_CONFIG CHECKPOINT [CHECKPOINT ...] \\
        --benchmarks svm lowshot linear knn det seg

Each benchmark's config comes from the suite file (``--suite``, default
``configs/benchmarks/suites/resnet50_in1k.yml``; override one with ``--config NAME=PATH``). Every benchmark runs in
its own process (``python -m mmssl.benchmarks NAME``; ``--gpus N``: under torchrun with N processes) into
``WORK_DIR/<benchmark>`` and writes a result record; ``--baseline`` runs the same benchmarks on the seeded random
backbone into ``WORK_DIR/random_init`` for the row beside it. Several checkpoints are runs of one pre-training
with different seeds: each is evaluated into ``WORK_DIR/run<i>-<name>-<sha256 prefix>`` and the row shows mean ± sample
std of every metric; ``--baseline-seeds S ...`` draws that many random backbones (``WORK_DIR/random_init_seed<S>``).
The tables are printed and written to ``WORK_DIR/model_zoo.md``, the records of every row to
``WORK_DIR/records.json`` (``gen_model_zoo.py --demo-run`` puts a demo run's tables into the docs), with plots of the
low-shot curve and of linear accuracy per layer. ``--model NAME`` merges the records (several runs: their mean)
into that model of the metafiles and regenerates the model-zoo pages (``--baseline-model NAME`` the same for the
baseline row). Interrupted runs resume: start the same command again.

Paths on the command line (PRETRAIN_CONFIG, CHECKPOINT, ``--suite``, ``--config``, ``--work-dir``) are taken from
the current directory and made absolute before anything runs; a relative config in a suite file is taken from the
suite file's folder, else from the repository root (the shipped suites name ``configs/...``).
"""
import argparse
import json
import os.path as osp
import subprocess
import sys
from typing import List

from mmengine.utils import mkdir_or_exist

from mmssl.benchmarks import suite as benchmark_suite
from mmssl.benchmarks.base import benchmark_names, get_benchmark
from mmssl.benchmarks.cli import add_checkpoint_arguments, checkpoint_options
from mmssl.benchmarks.records import write_result
from mmssl.benchmarks.tables import mean_std, run_tables
from mmssl.constants import RANDOM_INIT_SEED
from mmssl.utils import BackboneWeights, parse_checkpoint_arg, read_checkpoint, setup_runtime
from mmssl.utils.cli_errors import run_cli

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: the tool that owns the repository's metafiles and model-zoo docs
GEN_MODEL_ZOO = osp.join(REPO, 'tools', 'analysis_tools', 'gen_model_zoo.py')

DEFAULT_SUITE = 'configs/benchmarks/suites/resnet50_in1k.yml'


def parse_config_override(text: str):
    name, sep, path = text.partition('=')
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f'expected NAME=PATH, got {text!r}')
    return name, path


def _tag(checkpoint: str) -> str:
    return f'{osp.splitext(osp.basename(checkpoint))[0]}-{read_checkpoint(checkpoint).sha256[:8]}'


def plan_runs(args, work_dir: str) -> dict:
    """Row name -> [(checkpoint or None, work dir, random-init seed)], one entry per run of the row; and row name ->
    its --model name."""
    row = osp.splitext(osp.basename(args.pretrain_config))[0]
    if len(args.checkpoint) == 1:
        runs = {row: [(args.checkpoint[0], work_dir, RANDOM_INIT_SEED)]}
    else:
        runs = {f'{row} ({len(args.checkpoint)} runs)': [
            (checkpoint, osp.join(work_dir, f'run{i}-{_tag(checkpoint)}'), RANDOM_INIT_SEED)
            for i, checkpoint in enumerate(args.checkpoint)]}
    models = {next(iter(runs)): args.model}
    if args.baseline:
        seeds = args.baseline_seeds
        if seeds == [RANDOM_INIT_SEED]:
            name, dirs = 'random init', [osp.join(work_dir, 'random_init')]
        else:
            name = f'random init, seeds {", ".join(map(str, seeds))}'
            dirs = [osp.join(work_dir, f'random_init_seed{seed}') for seed in seeds]
        runs[name] = [(None, run_dir, seed) for run_dir, seed in zip(dirs, seeds)]
        models[name] = args.baseline_model
    return runs, models


def mean_record(records: list, path: str) -> str:
    """Write a record whose metrics are the mean over ``records`` (runs of one row); returns ``path``."""
    first = records[0]
    # The same mean as the tables' mean ± std cells, so the metafile and the docs agree.
    metrics = {name: mean_std([r['metrics'][name] for r in records]).mean for name in first['metrics']}
    runs = [dict(checkpoint=r['checkpoint'], seeds=r.get('seeds')) for r in records]
    write_result(path, first['benchmark'], metrics, checkpoint=first['checkpoint'] and first['checkpoint']['path'],
                 pretrain_config=first.get('pretrain_config'), benchmark_config=first['benchmark_config'],
                 seeds={}, dataset=first.get('dataset'), extra=dict(mean_of=runs))
    return path


def publish(records: List[str], model: str) -> None:
    """Merge ``records`` into model ``model`` of the metafiles and regenerate the model-zoo docs, through
    ``gen_model_zoo.py`` (the repository's metafiles and docs are that tool's to write); exits with its status when
    it refuses them (it has said why)."""
    result = subprocess.run([sys.executable, GEN_MODEL_ZOO, '--root', REPO, '--add-result', *records, '--model', model])
    if result.returncode != 0:
        sys.exit(result.returncode)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('pretrain_config', help='the config that produced CHECKPOINT')
    parser.add_argument('checkpoint', nargs='+', help='pre-training checkpoint (full, as tools/train.py writes it); '
                        'several: runs of the same pre-training with different seeds (mean ± std)')
    parser.add_argument('--benchmarks', nargs='+', required=True, choices=benchmark_names())
    parser.add_argument('--suite', default=osp.join(REPO, DEFAULT_SUITE), help='suite file (default %(default)s)')
    parser.add_argument('--config', action='append', type=parse_config_override, default=[],
                        metavar='NAME=PATH', help='use PATH as the config of benchmark NAME')
    parser.add_argument('--work-dir', help='default: work_dirs/benchmarks/suite/<checkpoint name>-<sha256 prefix>')
    parser.add_argument('--gpus', type=int, default=1, help='processes per benchmark (distributed when > 1)')
    parser.add_argument('--baseline', action='store_true', help='also evaluate the seeded random backbone')
    parser.add_argument('--baseline-seeds', nargs='+', type=int, default=[RANDOM_INIT_SEED], metavar='SEED',
                        help='seeds of the random backbones of --baseline (several: mean ± std; default %(default)s)')
    parser.add_argument('--model', help='model name in the metafiles to merge the results into')
    parser.add_argument('--baseline-model', help='model name in the metafiles for the baseline results')
    add_checkpoint_arguments(parser)
    args = parser.parse_args(argv)
    setup_runtime()

    # Every path is fixed against the caller's directory now: benchmarks run in child processes.
    pretrain_config = osp.abspath(args.pretrain_config)
    if not osp.isfile(pretrain_config):
        parser.error(f'PRETRAIN_CONFIG {pretrain_config} does not exist')
    overrides = {name: osp.abspath(path) for name, path in args.config}
    suite = benchmark_suite.load_suite(osp.abspath(args.suite), overrides, REPO)
    args.checkpoint = [parse_checkpoint_arg(checkpoint) for checkpoint in args.checkpoint]
    if None in args.checkpoint:
        parser.error('CHECKPOINT must be a pre-trained checkpoint; --baseline adds the random backbone')
    if len(set(args.baseline_seeds)) != len(args.baseline_seeds):
        parser.error(f'--baseline-seeds {args.baseline_seeds} repeats a seed')
    options = checkpoint_options(args)
    for checkpoint in args.checkpoint:
        BackboneWeights.from_checkpoint(checkpoint, **options)  # an unknown layout fails here, before any run
    work_dir = osp.abspath(args.work_dir or osp.join('work_dirs', 'benchmarks', 'suite', _tag(args.checkpoint[0])))
    mkdir_or_exist(work_dir)
    runs, models = plan_runs(args, work_dir)
    records = {}
    for name, row_runs in runs.items():
        records[name] = {}
        for checkpoint, run_dir, seed in row_runs:
            done = benchmark_suite.run_suite(checkpoint, args.benchmarks, suite, run_dir, pretrain_config, args.gpus,
                                             checkpoint_options=options, random_init_seed=seed)
            for benchmark, found in done.items():
                records[name].setdefault(benchmark, []).extend(found)
    for name, model in models.items():
        if not model:
            continue
        merged = []
        for benchmark, group in records[name].items():
            declared = get_benchmark(benchmark)
            if len(group) == 1:
                merged.append(declared.record_path(osp.join(runs[name][0][1], declared.work_subdir or benchmark)))
            else:
                merged.append(mean_record(group, osp.join(work_dir, 'mean', model, declared.record_file())))
        publish(merged, model)
    with open(osp.join(work_dir, 'records.json'), 'w') as f:
        json.dump(dict(pretrain_config=pretrain_config, rows=records), f, indent=1)
    tables = run_tables(records, pretrain_config, REPO)
    with open(osp.join(work_dir, 'model_zoo.md'), 'w') as f:
        f.write(tables)
    linear = {name: row['linear'] for name, row in records.items() if 'linear' in row}
    plot = benchmark_suite.plot_linear(linear, osp.join(work_dir, 'linear_per_layer.png')) if linear else None
    print(tables)
    print(f'tables: {osp.join(work_dir, "model_zoo.md")}; records: {osp.join(work_dir, "records.json")}'
          + (f'; linear accuracy per layer: {plot}' if plot else ''))
    if 'lowshot' in args.benchmarks:
        curves = [osp.join(run_dir, 'svm_voc07', 'lowshot', 'lowshot.png') for row_runs in runs.values()
                  for _, run_dir, _ in row_runs]
        print(f'low-shot curves: {", ".join(curves)}')


if __name__ == '__main__':
    run_cli(main)

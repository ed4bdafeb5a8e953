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
baseline row). Interrupted runs resume: start the same command again; ``--recompute`` makes the benchmarks that
refuse a folder holding another input's work (another checkpoint, config or list) compute it again instead.

The suite holds the lock of WORK_DIR for its whole run: a second suite into it meanwhile is refused, naming the
holder. A later suite into the same WORK_DIR adds its rows to ``records.json`` and ``model_zoo.md``: a record
replaces the earlier one of the same benchmark, model (checkpoint sha256, or random-init seed) and benchmark config;
the others stay. The first checkpoint evaluated into WORK_DIR runs in it; another one runs in
``WORK_DIR/<name>-<sha256 prefix>``, and its row is named ``<config name> [<name>-<sha256 prefix>]`` where a row of
that config shows another checkpoint already.

Paths on the command line (PRETRAIN_CONFIG, CHECKPOINT, ``--suite``, ``--config``, ``--work-dir``) are taken from
the current directory and made absolute before anything runs; a relative config in a suite file is taken from the
suite file's folder, else from the repository root (the shipped suites name ``configs/...``). Configs outside the
repository (your own) are linked by their absolute paths in ``WORK_DIR/model_zoo.md``; ``--model`` and
``--baseline-model`` take the repository's configs only (its metafiles link them), checked before any run.
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
from mmssl.benchmarks.tables import mean_std, repo_relative, run_tables
from mmssl.constants import RANDOM_INIT_SEED
from mmssl.utils import BackboneWeights, parse_checkpoint_arg, read_checkpoint, setup_runtime
from mmssl.utils.atomic_files import atomic_write_text
from mmssl.utils.cli_errors import run_cli
from mmssl.utils.work_dir_lock import work_dir_lock

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


def plan_runs(args, work_dir: str, stored: dict = None) -> dict:
    """Row name -> [(checkpoint or None, work dir, random-init seed)], one entry per run of the row; and row name ->
    its --model name. ``stored``: the rows earlier suites left in ``work_dir`` (their checkpoints keep their
    folders and row names)."""
    stored = stored or {}
    row = osp.splitext(osp.basename(args.pretrain_config))[0]
    models = {('sha256', read_checkpoint(checkpoint).sha256) for checkpoint in args.checkpoint}
    if len(args.checkpoint) == 1:
        run_dir = work_dir
        if benchmark_suite.models_in(stored, work_dir) - models:  # another checkpoint's benchmarks are there
            run_dir = osp.join(work_dir, _tag(args.checkpoint[0]))
        runs = {row: [(args.checkpoint[0], run_dir, RANDOM_INIT_SEED)]}
    else:
        runs = {f'{row} ({len(args.checkpoint)} runs)': [
            (checkpoint, osp.join(work_dir, f'run{i}-{_tag(checkpoint)}'), RANDOM_INIT_SEED)
            for i, checkpoint in enumerate(args.checkpoint)]}
    name = next(iter(runs))
    if name in stored and benchmark_suite.models_in({name: stored[name]}) - models:
        # The row of this config shows other checkpoints: a row of its own, not a mean over unrelated runs.
        runs = {f'{name} [{_tag(args.checkpoint[0])}]': runs[name]}
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


def parse_args(argv=None) -> argparse.Namespace:
    """The suite's command line (see the module's docstring)."""
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
    parser.add_argument('--recompute', action='store_true',
                        help='benchmarks whose folders hold work of another input compute it again (passed to '
                        'every benchmark that takes --recompute) instead of refusing it')
    add_checkpoint_arguments(parser)
    args = parser.parse_args(argv)
    # Every path is fixed against the caller's directory now: benchmarks run in child processes.
    args.pretrain_config = osp.abspath(args.pretrain_config)
    if not osp.isfile(args.pretrain_config):
        parser.error(f'PRETRAIN_CONFIG {args.pretrain_config} does not exist')
    args.checkpoint = [parse_checkpoint_arg(checkpoint) for checkpoint in args.checkpoint]
    if None in args.checkpoint:
        parser.error('CHECKPOINT must be a pre-trained checkpoint; --baseline adds the random backbone')
    if len(set(args.baseline_seeds)) != len(args.baseline_seeds):
        parser.error(f'--baseline-seeds {args.baseline_seeds} repeats a seed')
    return args


def main(argv=None):
    args = parse_args(argv)
    setup_runtime()
    overrides = {name: osp.abspath(path) for name, path in args.config}
    suite = benchmark_suite.load_suite(osp.abspath(args.suite), overrides, REPO)
    options = checkpoint_options(args)
    if args.model or args.baseline_model:  # the metafiles link configs of the repository only
        for config in [args.pretrain_config, *(suite[name].config for name in args.benchmarks if name in suite)]:
            repo_relative(config, REPO)
    for checkpoint in args.checkpoint:
        BackboneWeights.from_checkpoint(checkpoint, **options)  # an unknown layout fails here, before any run
    work_dir = osp.abspath(args.work_dir or osp.join('work_dirs', 'benchmarks', 'suite', _tag(args.checkpoint[0])))
    # Held to the end: two suites into one work dir would rewrite each other's records.
    with work_dir_lock(work_dir):
        run_in(args, suite, options, work_dir)


def run_in(args, suite: dict, options: dict, work_dir: str) -> None:
    """Run the suite into ``work_dir`` (locked), merge its records with those there and write the tables."""
    mkdir_or_exist(work_dir)
    stored = benchmark_suite.read_suite_records(work_dir)  # a broken file is refused before any run
    runs, models = plan_runs(args, work_dir, stored['rows'])
    records = {}
    for name, row_runs in runs.items():
        records[name] = {}
        for checkpoint, run_dir, seed in row_runs:
            done = benchmark_suite.run_suite(checkpoint, args.benchmarks, suite, run_dir, args.pretrain_config,
                                             args.gpus, checkpoint_options=options, random_init_seed=seed,
                                             recompute=args.recompute)
            for benchmark, found in done.items():
                records[name].setdefault(benchmark, []).extend(found)
    publish_rows(records, runs, models, work_dir)
    rows = benchmark_suite.merge_rows(stored['rows'], records)
    configs = {name: config for name, config in stored['pretrain_configs'].items() if name in rows}
    configs.update({name: args.pretrain_config for name in records})
    atomic_write_text(osp.join(work_dir, benchmark_suite.RECORDS_FILE), json.dumps(
        dict(pretrain_config=args.pretrain_config, pretrain_configs=configs, rows=rows), indent=1))
    tables = run_tables(rows, configs, REPO, external_ok=True)
    atomic_write_text(osp.join(work_dir, 'model_zoo.md'), tables)
    linear = {name: row['linear'] for name, row in rows.items() if 'linear' in row}
    plot = benchmark_suite.plot_linear(linear, osp.join(work_dir, 'linear_per_layer.png')) if linear else None
    print(tables)
    print(f'tables: {osp.join(work_dir, "model_zoo.md")}; records: {osp.join(work_dir, "records.json")}'
          + (f'; linear accuracy per layer: {plot}' if plot else ''))
    if 'lowshot' in args.benchmarks:
        curves = [osp.join(run_dir, 'svm_voc07', 'lowshot', 'lowshot.png') for row_runs in runs.values()
                  for _, run_dir, _ in row_runs]
        print(f'low-shot curves: {", ".join(curves)}')


def publish_rows(records: dict, runs: dict, models: dict, work_dir: str) -> None:
    """Merge the records of each row that has a ``--model`` / ``--baseline-model`` name into the metafiles."""
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


if __name__ == '__main__':
    run_cli(main)

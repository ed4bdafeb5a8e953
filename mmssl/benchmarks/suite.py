"""Run a suite of benchmarks on one checkpoint and gather their result records.

A suite file (YAML, e.g. ``configs/benchmarks/suites/resnet50_in1k.yml``) maps benchmark names (those registered
in :data:`mmssl.registry.BENCHMARKS`) to configs; an entry may also be a mapping with ``config``, ``cfg_options``
(KEY: VALUE, as ``--cfg-options``) and ``args`` (any further option of that benchmark's command line, checked when
the suite is read). Each benchmark runs in a child process of the package's own entry point,
``python -m mmssl.benchmarks NAME ...`` (so mmdet / mmseg default scopes and runner state never leak between
benchmarks), under torchrun when ``gpus > 1``. Every benchmark resumes its own work, so an interrupted suite is
simply started again; ``recompute`` asks every benchmark that takes ``--recompute`` to redo work its folder holds
for another input instead of refusing it.

A suite's records (``records.json`` of its work dir) accumulate: :func:`merge_rows` adds a run's records to those
of earlier suites into the same work dir, a record replacing only the earlier one of its :func:`record_key`.
"""
import argparse
import inspect
import json
import os
import os.path as osp
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import yaml
from mmengine.logging import MMLogger

from mmssl.constants import LAYERS, RANDOM_INIT, RANDOM_INIT_SEED
from mmssl.utils import BackboneWeights
from mmssl.utils.atomic_files import atomic_write_bytes
from mmssl.utils.work_dir_lock import work_dir_lock
from mmssl.visualization import agg_figure, figure_png

from .base import benchmark_names, get_benchmark
from .cli import _own_options as own_options
from .cli import build_parser
from .records import read_result

#: The records of every suite run into a work dir, merged (see :func:`merge_rows`).
RECORDS_FILE = 'records.json'


@dataclass
class SuiteEntry:
    """A benchmark's config in a suite, with optional ``cfg_options`` and extra command-line ``args``."""
    config: str
    cfg_options: Dict[str, object] = field(default_factory=dict)
    args: List[str] = field(default_factory=list)


#: The repository a source checkout's suite files name their configs in (``configs/benchmarks/...``).
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _suite_config(config: str, suite_file: str, root: str) -> Optional[str]:
    """A suite file's config path made absolute: a relative one is looked up next to the suite file, then in the
    repository ``root``, never in the current directory; ``None`` when neither has it."""
    if osp.isabs(config):
        return config if osp.exists(config) else None
    for base in (osp.dirname(osp.abspath(suite_file)), root):
        if osp.exists(osp.join(base, config)):
            return osp.abspath(osp.join(base, config))
    return None


def load_suite(path: str, overrides: Optional[Dict[str, str]] = None, root: str = REPO_ROOT) -> Dict[str, SuiteEntry]:
    """Read a suite file; ``overrides`` (benchmark -> config) replace its configs. Config paths are made absolute:
    a relative path in the suite file is taken from the suite file's folder if it is there, else from the repository
    ``root`` (the shipped suites name ``configs/...``); an override's is taken from the current directory (it comes
    from the command line).

    Raises ``ValueError`` naming the file and key for an unknown benchmark, a malformed entry, a config that does
    not exist (and where it was looked for) or ``args`` the benchmark does not take.
    """
    with open(path) as f:
        raw = yaml.safe_load(f) or {}
    if not isinstance(raw, dict):
        raise ValueError(f'{path}: a suite maps benchmark names to configs, got {type(raw).__name__}')
    suite = {}
    for name, entry in {**raw, **(overrides or {})}.items():
        from_file = name in raw and name not in (overrides or {})
        where = f'{path}: {name}' if from_file else f'--config {name}'
        if isinstance(entry, str):
            entry = dict(config=entry)
        if not isinstance(entry, dict) or set(entry) - {'config', 'cfg_options', 'args'} or 'config' not in entry:
            raise ValueError(f'{where}: expected a config path or a mapping with config / cfg_options / args')
        config = entry['config']
        found = _suite_config(str(config), path, root) if from_file else osp.abspath(config)
        try:
            get_benchmark(name, found)  # a plugin's benchmark registers when its config is read
        except KeyError:
            raise ValueError(f'{where}: unknown benchmark, expected one of {benchmark_names()}') from None
        if found is None or not osp.exists(found):
            looked = (f' (looked in {osp.dirname(osp.abspath(path))} and {root})' if from_file else
                      f' (relative to {os.getcwd()})')
            raise ValueError(f'{where}: config {config} does not exist{looked}')
        suite[name] = SuiteEntry(found, dict(entry.get('cfg_options') or {}),
                                 [str(arg) for arg in entry.get('args') or []])
        _check_args(name, suite[name], where)
    return suite


def _check_args(name: str, entry: SuiteEntry, where: str) -> None:
    parser = build_parser(get_benchmark(name))
    parser.exit_on_error = False
    try:
        _, unknown = parser.parse_known_args([entry.config, RANDOM_INIT, *entry.args])
    except (argparse.ArgumentError, SystemExit) as error:  # SystemExit: argparse reports some errors itself
        raise ValueError(f'{where}: args {entry.args} are not options of the {name} benchmark ({error})') from None
    if unknown:
        raise ValueError(f'{where}: args {unknown} are not options of the {name} benchmark; see python -m '
                         f'mmssl.benchmarks {name} --help')


def benchmark_command(name: str, entry: SuiteEntry, checkpoint: Optional[str], work_dir: str,
                      pretrain_config: Optional[str], gpus: int = 1, python: str = sys.executable,
                      checkpoint_options: Optional[dict] = None,
                      random_init_seed: int = RANDOM_INIT_SEED, recompute: bool = False) -> List[str]:
    """The command line that runs benchmark ``name`` on ``checkpoint`` (``None``: the random backbone drawn from
    ``random_init_seed``), read with ``checkpoint_options`` (``checkpoint_format`` / ``prefix`` / ``key_path``);
    ``recompute`` adds ``--recompute`` where the benchmark takes it (:func:`takes_recompute`)."""
    launch = [python, '-m']
    distributed = []
    if gpus > 1:
        launch += ['torch.distributed.run', f'--nproc_per_node={gpus}',
                   f'--master_port={os.environ.get("PORT", "29500")}', '-m']
        distributed = ['--launcher', 'pytorch']
    command = launch + ['mmssl.benchmarks', name, entry.config, checkpoint or RANDOM_INIT, '--work-dir', work_dir,
                        *entry.args]
    if pretrain_config:
        command += ['--pretrain-config', pretrain_config]
    if checkpoint is None and random_init_seed != RANDOM_INIT_SEED:
        command += ['--random-init-seed', str(random_init_seed)]
    for option, flag in (('checkpoint_format', '--checkpoint-format'), ('prefix', '--checkpoint-prefix'),
                         ('key_path', '--checkpoint-key')):
        if checkpoint is not None and (checkpoint_options or {}).get(option):
            command += [flag, checkpoint_options[option]]
    if recompute and takes_recompute(get_benchmark(name, entry.config)) and '--recompute' not in entry.args:
        command += ['--recompute']
    if entry.cfg_options:
        command += ['--cfg-options', *(f'{k}={v}' for k, v in entry.cfg_options.items())]
    return command + distributed


def takes_recompute(benchmark) -> bool:
    """Whether ``benchmark``'s :meth:`run` takes ``recompute`` (a benchmark that reuses earlier work does): only
    those get ``--recompute``, which the others' command lines do not know."""
    return 'recompute' in inspect.signature(type(benchmark).run).parameters


def run_suite(checkpoint: Optional[str],
              benchmarks: Sequence[str],
              suite: Dict[str, SuiteEntry],
              work_dir: str,
              pretrain_config: Optional[str] = None,
              gpus: int = 1,
              python: str = sys.executable,
              checkpoint_options: Optional[dict] = None,
              random_init_seed: int = RANDOM_INIT_SEED,
              recompute: bool = False) -> Dict[str, List[dict]]:
    """Run ``benchmarks`` on ``checkpoint`` (``None``: the random backbone drawn from ``random_init_seed``) and
    return their records (name -> records); ``recompute``: passed on as ``--recompute`` (:func:`benchmark_command`).

    Raises before running anything when a benchmark is not in the suite or cannot take a random backbone.
    A failing benchmark raises ``RuntimeError`` with its command; finished benchmarks keep their records.
    """
    missing = [name for name in benchmarks if name not in suite]
    if missing:
        raise ValueError(f'benchmarks {missing} have no config in the suite (give --config NAME=PATH)')
    declared = {name: get_benchmark(name) for name in benchmarks}
    if checkpoint is None:
        refused = [name for name, benchmark in declared.items() if not benchmark.accepts_random]
        if refused:
            raise ValueError(f'benchmarks {refused} need a pre-trained checkpoint, not "{RANDOM_INIT}"')
    elif not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint {checkpoint} does not exist')
    logger = MMLogger.get_current_instance()
    records = {}
    for name, benchmark in declared.items():
        bench_dir = osp.join(osp.abspath(work_dir), benchmark.work_subdir or name)
        command = benchmark_command(name, suite[name], checkpoint, bench_dir, pretrain_config, gpus, python,
                                    checkpoint_options, random_init_seed, recompute)
        logger.info(f'benchmark {name}: {" ".join(command)}')
        result = subprocess.run(command)
        if result.returncode != 0:
            raise RuntimeError(f'benchmark {name} failed (exit code {result.returncode}): {" ".join(command)}')
        records[name] = [read_result(benchmark.record_path(bench_dir))]
    return records


def run_in_process(name: str, entry: SuiteEntry, weights: BackboneWeights, work_dir: str,
                   pretrain_config: Optional[str] = None, recompute: bool = False) -> dict:
    """Run suite entry ``name`` in this process on ``weights`` (a checkpoint's backbone, or an in-memory one) into
    ``work_dir`` (locked meanwhile) and return its record: the entry's ``args`` and ``cfg_options`` as the child
    process of :func:`run_suite` would read them, without the second read of the checkpoint a child needs.

    Meant for one-process callers that benchmark many checkpoints in turn (the watcher, the training hook); it
    runs without a launcher (no process group).
    """
    benchmark = get_benchmark(name, entry.config)
    args = build_parser(benchmark).parse_args([entry.config, RANDOM_INIT, '--work-dir', work_dir, *entry.args])
    args.pretrain_config, args.recompute = pretrain_config, recompute or args.recompute
    cfg = benchmark.load_config(entry.config, entry.cfg_options)
    with work_dir_lock(work_dir):
        benchmark.run(cfg, weights, work_dir, **own_options(benchmark, args))
    return read_result(benchmark.record_path(work_dir))


def record_model(record: dict) -> tuple:
    """The model a record evaluated: ``('sha256', <hex>)`` of its checkpoint, or ``('random_init', <seed>)``."""
    checkpoint = record.get('checkpoint')
    if checkpoint:
        return 'sha256', checkpoint['sha256']
    return 'random_init', (record.get('seeds') or {}).get('random_init', RANDOM_INIT_SEED)


def record_key(record: dict) -> tuple:
    """What a record is the result of: its benchmark, its model (:func:`record_model`) and its benchmark config.
    Of two records of one key in a suite's records, the later replaces the earlier."""
    return (record['benchmark'], *record_model(record), record.get('benchmark_config'))


def _records_of(row: Dict[str, List[dict]]) -> List[dict]:
    return [record for group in row.values() for record in group]


def read_suite_records(work_dir: str) -> dict:
    """The records earlier suites left in ``work_dir`` (``records.json``): ``{'rows': row name -> benchmark ->
    records, 'pretrain_configs': row name -> its pre-training config}``; empty when there are none.

    Raises ``ValueError`` naming the file when it is not a suite's records.
    """
    path = osp.join(work_dir, RECORDS_FILE)
    if not osp.exists(path):
        return dict(rows={}, pretrain_configs={})
    try:
        with open(path) as f:
            stored = json.load(f)
        rows = stored['rows']
        for row in rows.values():
            for group in row.values():
                for record in group:
                    record_key(record)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(f'{path} is not the records of a suite run (expected {{"rows": {{row: {{benchmark: '
                         f'[records]}}}}}}): {error!r}; move it away to start the work dir\'s records anew') from None
    # Files of a single suite name one pre-training config for all their rows.
    configs = stored.get('pretrain_configs') or {name: stored.get('pretrain_config') for name in rows}
    return dict(rows=rows, pretrain_configs=configs)


def models_in(rows: Dict[str, Dict[str, List[dict]]], run_dir: Optional[str] = None) -> set:
    """The models (:func:`record_model`) of the records in ``rows``; with ``run_dir``, of those a benchmark wrote
    in a folder of ``run_dir`` only (its runs' work dirs)."""
    def in_run_dir(record: dict) -> bool:
        bench_dir = (record.get('extra') or {}).get('work_dir')
        return run_dir is None or (bool(bench_dir)
                                   and osp.dirname(osp.realpath(bench_dir)) == osp.realpath(run_dir))

    return {record_model(record) for row in rows.values() for record in _records_of(row) if in_run_dir(record)}


def merge_rows(stored: Dict[str, Dict[str, List[dict]]],
               new: Dict[str, Dict[str, List[dict]]]) -> Dict[str, Dict[str, List[dict]]]:
    """The records of a suite run (``new``, row name -> benchmark -> records) added to those of earlier runs into
    the same work dir (``stored``): a new record replaces the stored one of its :func:`record_key`, wherever it
    was; every other stored record is kept; rows and benchmarks left empty go."""
    replaced = {record_key(record) for row in new.values() for record in _records_of(row)}
    merged = {}
    for name, row in stored.items():
        kept = {benchmark: [r for r in group if record_key(r) not in replaced] for benchmark, group in row.items()}
        kept = {benchmark: group for benchmark, group in kept.items() if group}
        if kept:
            merged[name] = kept
    for name, row in new.items():
        target = merged.setdefault(name, {})
        for benchmark, group in row.items():
            target.setdefault(benchmark, []).extend(group)
    return merged


def plot_linear(records: Dict[str, List[dict]], path: str) -> Optional[str]:
    """PNG of linear top-1 per layer (feature1-5, and avgpool where the run has it), one line per run; ``None``
    without linear results.

    Args:
        records: row name -> the run's linear-evaluation records.
        path: output PNG.
    """
    fig = agg_figure(figsize=(6, 4))
    ax = fig.subplots()
    plotted = False
    for name, group in records.items():
        for record in group:
            # A multi-head run without a jointly trained avgpool head (the demo's grid) has feature1-5 only.
            heads = list(LAYERS) + (['avgpool'] if 'accuracy/avgpool/top1' in record['metrics'] else [])
            values = [record['metrics'].get(f'accuracy/{head}/top1') for head in heads]
            if any(v is None for v in values):
                continue
            ax.plot(heads, values, marker='o', label=name)
            plotted = True
    if not plotted:
        return None
    ax.set_ylabel('top-1 (%)')
    ax.set_title('Linear evaluation per layer')
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    atomic_write_bytes(path, figure_png(fig, dpi=120))
    return path

"""Gather result records into a comparison: rows are models, columns are (benchmark, metric), cells are runs.

A model is its pre-training config and checkpoint file name (the runs of several pre-training seeds write
checkpoints of one name and differ in sha256); a record of a random backbone (no checkpoint) belongs to the
random-init row. Records come from result files (``result_<benchmark>.json``), a suite's ``records.json`` or a
folder holding either.
"""
import json
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from ..records import read_result
from ..suite import RECORDS_FILE, read_suite_records

#: The row of the records of a randomly initialised backbone.
RANDOM_INIT_ROW = 'random-init'


@dataclass
class Run:
    """One record of one model on one benchmark: where it came from and what it measured."""
    source: str
    record: dict

    @property
    def seed(self) -> str:
        """The seed that pairs this run with a run of another model: the ``seed`` entry of the record's seeds
        (a pre-training and its random-init counterpart share it), else all its seeds."""
        seeds = self.record.get('seeds') or {}
        if 'seed' in seeds:
            return str(seeds['seed'])
        return json.dumps(seeds, sort_keys=True)


@dataclass
class Column:
    """A benchmark's metric, with the protocol every record of it shares."""
    benchmark: str
    metric: str
    benchmark_config: Optional[str]
    dataset: Optional[str]

    @property
    def name(self) -> str:
        """``benchmark/metric``."""
        return f'{self.benchmark}/{self.metric}'


@dataclass
class Table:
    """Rows (model name -> benchmark -> runs) and columns of a comparison."""
    rows: Dict[str, Dict[str, List[Run]]] = field(default_factory=dict)
    columns: List[Column] = field(default_factory=list)

    def runs(self, row: str, benchmark: str) -> List[Run]:
        """The runs of ``row`` on ``benchmark`` (empty when it has none)."""
        return self.rows.get(row, {}).get(benchmark, [])


def row_name(record: dict) -> str:
    """The model of a record: ``<pre-training config stem> @ <checkpoint file>``, or the random-init row."""
    checkpoint = record.get('checkpoint')
    if not checkpoint:
        return RANDOM_INIT_ROW
    config = record.get('pretrain_config')
    stem = osp.splitext(osp.basename(config))[0] if config else 'unknown config'
    return f'{stem} @ {osp.basename(checkpoint["path"])}'


def _suite_runs(path: str) -> List[Run]:
    stored = read_suite_records(osp.dirname(path))
    return [Run(path, record) for row in stored['rows'].values() for group in row.values() for record in group]


def _folder_files(folder: str) -> List[str]:
    """A suite's ``records.json`` stands for the result files below it (it holds their records)."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        if RECORDS_FILE in files:
            found.append(osp.join(root, RECORDS_FILE))
            dirs[:] = []
            continue
        found += [osp.join(root, name) for name in sorted(files)
                  if name.startswith('result_') and name.endswith('.json')]
    return found


def load_runs(paths: Sequence[str]) -> List[Run]:
    """Every record in ``paths`` (result files, suites' ``records.json`` or folders holding them).

    Raises ``FileNotFoundError`` for a missing path and ``ValueError`` naming a file that is not a record or a
    folder that holds none.
    """
    runs = []
    for path in paths:
        if not osp.exists(path):
            raise FileNotFoundError(f'{path}: no such result record or folder')
        files = _folder_files(path) if osp.isdir(path) else [path]
        if not files:
            raise ValueError(f'{path}: holds no result record (result_*.json) or suite records ({RECORDS_FILE})')
        for file in files:
            runs += _suite_runs(file) if osp.basename(file) == RECORDS_FILE else [Run(file, read_result(file))]
    return runs


def _check_protocol(benchmark: str, runs: List[Run]) -> Tuple[Optional[str], Optional[str]]:
    """The benchmark config and dataset all runs of a benchmark share; ``ValueError`` naming the files if not."""
    protocols: Dict[Tuple, List[str]] = {}
    for run in runs:
        key = (run.record.get('benchmark_config'), run.record.get('dataset'))
        protocols.setdefault(key, []).append(run.source)
    if len(protocols) > 1:
        listed = '; '.join(f'benchmark config {cfg!r}, dataset {data!r}: {sorted(set(files))}'
                           for (cfg, data), files in protocols.items())
        raise ValueError(f'records of {benchmark!r} follow different protocols and cannot share a column '
                         f'({listed}); compare records of one benchmark config and dataset')
    return next(iter(protocols))


def _check_metrics(benchmark: str, rows: Dict[str, List[Run]]) -> List[str]:
    """The metrics every run of a benchmark reports; ``ValueError`` naming the rows and metrics otherwise."""
    # one entry per run: the runs of a suite's records.json share its file name
    reported = [(row, run.source, set(run.record['metrics'])) for row, runs in rows.items() for run in runs]
    common = set.intersection(*(names for _, _, names in reported))
    odd = {(row, source): sorted(names - common) for row, source, names in reported if names != common}
    if odd:
        listed = '; '.join(f'row {row!r} ({source}) also reports {extra}' for (row, source), extra in odd.items())
        raise ValueError(f'runs of {benchmark!r} report different metrics, which would mix in one table: {listed}; '
                         f'every run compared reports {sorted(common)}')
    return sorted(common)


def build_table(runs: Sequence[Run]) -> Table:
    """Group runs into rows and columns, checking one protocol and one metric set per benchmark."""
    table = Table()
    by_benchmark: Dict[str, Dict[str, List[Run]]] = {}
    for run in runs:
        row = row_name(run.record)
        table.rows.setdefault(row, {}).setdefault(run.record['benchmark'], []).append(run)
        by_benchmark.setdefault(run.record['benchmark'], {}).setdefault(row, []).append(run)
    for benchmark in sorted(by_benchmark):
        rows = by_benchmark[benchmark]
        config, dataset = _check_protocol(benchmark, [run for group in rows.values() for run in group])
        for metric in _check_metrics(benchmark, rows):
            table.columns.append(Column(benchmark, metric, config, dataset))
    return table

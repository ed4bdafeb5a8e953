"""A comparison report of benchmark result records: mean ± 95 % interval per model and metric, a t-test of every
model against a baseline row, deltas to published numbers where the protocol is the same, and a protocol card per
number. :func:`build_report` returns the data; :mod:`.render` turns it into Markdown and a self-contained HTML page
(``tools/analysis_tools/compare.py`` writes them)."""
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

from .data import RANDOM_INIT_ROW, Column, Run, build_table, load_runs, selection_rule
from .published import Delta, Published, published_delta
from .stats import Cell, Test, compare_cells, make_cell

__all__ = ['RANDOM_INIT_ROW', 'Delta', 'Published', 'Report', 'build_report', 'natural_order', 'protocol_card']


@dataclass
class Report:
    """A comparison. Keys are (row, column name); a protocol card per (row, benchmark) says what made the numbers
    of its cells.

    Attributes:
        rows: model names, the random-init row first.
        columns: benchmark metrics.
        cells: mean and interval of the runs.
        baseline: the row every other row is tested against (``None``: no tests).
        alpha: a test's p-value below it marks the cell.
        tests: the test of a cell against the baseline's cell of its column.
        published: the delta of a cell to its published number, or why it has none.
        cards: (row, benchmark) -> protocol card (:func:`protocol_card`).
    """
    rows: List[str]
    columns: List[Column]
    cells: Dict[Tuple[str, str], Cell]
    baseline: Optional[str]
    alpha: float
    tests: Dict[Tuple[str, str], Test] = field(default_factory=dict)
    published: Dict[Tuple[str, str], Union[Delta, str]] = field(default_factory=dict)
    cards: Dict[Tuple[str, str], dict] = field(default_factory=dict)


def protocol_card(row: str, column: Column, runs: List[Run]) -> dict:
    """What produced the numbers of ``row`` on ``column``'s benchmark: the benchmark, its config, data set,
    ``--cfg-options`` and selection rule, and per run its seeds, checkpoint sha256, mmssl version and file."""
    return dict(row=row, benchmark=column.benchmark, benchmark_config=column.benchmark_config,
                dataset=column.dataset, cfg_options=column.cfg_options, selection=column.selection,
                runs=[dict(seeds=run.seed, sha256=(run.record.get('checkpoint') or {}).get('sha256')
                           or 'none (random backbone)',
                           mmssl=str((run.record.get('versions') or {}).get('mmssl', 'unknown')),
                           selection=selection_rule(run.record), source=run.source)
                      for run in sorted(runs, key=lambda run: run.seed)])


def natural_order(name: str) -> list:
    """Sort key of a row name with its numbers compared as numbers: ``iter_40`` before ``iter_120``."""
    return [int(part) if part.isdigit() else part for part in re.split(r'(\d+)', name)]


def _check_released(released: Dict[str, str], rows: List[str], published: Sequence[Published]) -> None:
    """Refuse a released-checkpoint declaration of a row that is not in the records or of a model that is no
    released checkpoint with published numbers, naming what there is."""
    models = sorted({entry.model for entry in published if entry.pretrain_config is None})
    for row, model in released.items():
        if row not in rows:
            raise ValueError(f'--released {row}={model}: {row!r} is not a row of the records; rows: {rows}')
        if published and model not in models:
            raise ValueError(f'--released {row}={model}: {model!r} is no released checkpoint with published numbers; '
                             f'those are: {models}')


def _pick_baseline(rows: List[str], baseline: Optional[str]) -> Optional[str]:
    if baseline is None:
        return RANDOM_INIT_ROW if RANDOM_INIT_ROW in rows else None
    if baseline not in rows:
        raise ValueError(f'--baseline {baseline!r} is not a row of the records; rows: {rows}')
    return baseline


def build_report(paths: Sequence[str], baseline: Optional[str] = None, alpha: float = 0.05,
                 published: Sequence[Published] = (), root: Optional[str] = None,
                 released: Optional[Dict[str, str]] = None) -> Report:
    """Read the records in ``paths`` and compute every cell, test, delta and protocol card.

    Args:
        paths: result records, suites' ``records.json`` or folders holding them.
        baseline: the row every other row is tested against; by default the random-init row if there is one
            (else no tests).
        alpha: a test's p-value below it marks the cell.
        published: numbers published for model-zoo models (see :mod:`.published`); none: no deltas.
        root: the repository root that ``published``'s config paths are relative to (needed with ``published``).
        released: row -> model-zoo name of the released checkpoint its runs evaluate (such a checkpoint has no
            pre-training config to find its published numbers by).

    Raises:
        ValueError: naming the files of records of different protocols in one column, the rows whose runs report
            different metrics, an unknown baseline, or a ``released`` row or model that does not exist.
    """
    if not 0 < alpha < 1:
        raise ValueError(f'--alpha must lie between 0 and 1, got {alpha}')
    if published and root is None:
        raise ValueError('published numbers need the repository root their config paths are relative to')
    table = build_table(load_runs(paths))
    rows = sorted(table.rows, key=lambda name: (name != RANDOM_INIT_ROW, natural_order(name)))
    released = released or {}
    _check_released(released, rows, published)
    report = Report(rows, table.columns, {}, _pick_baseline(rows, baseline), alpha)
    for column in table.columns:
        for row in rows:
            runs = table.runs(row, column.benchmark)
            if not runs:
                continue
            report.cards.setdefault((row, column.benchmark), protocol_card(row, column, runs))
            cell = report.cells[row, column.name] = make_cell(runs, column.metric)
            report.published[row, column.name] = (
                published_delta(column, runs, cell.mean, published, root, released.get(row))
                if published else 'no published numbers given')
        base = report.cells.get((report.baseline, column.name))
        for row in rows:
            if base is not None and row != report.baseline and (row, column.name) in report.cells:
                report.tests[row, column.name] = compare_cells(report.cells[row, column.name], base)
    return report

"""A comparison report of benchmark result records: mean ± 95 % interval per model and metric, a t-test of every
model against a baseline, and a protocol card per column. :func:`build_report` returns the data;
:mod:`.render` turns it into Markdown and a self-contained HTML page (``tools/analysis_tools/compare.py`` writes
them)."""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from .data import RANDOM_INIT_ROW, Column, Run, Table, build_table, load_runs
from .stats import Cell, Test, compare_cells, make_cell

__all__ = ['RANDOM_INIT_ROW', 'Report', 'build_report', 'protocol_card']


@dataclass
class Report:
    """Cells (row, column name) -> :class:`Cell`, tests (row, column name) -> :class:`Test` against ``baseline``,
    and a protocol card per column name."""
    rows: List[str]
    columns: List[Column]
    cells: Dict[Tuple[str, str], Cell]
    baseline: Optional[str]
    alpha: float
    tests: Dict[Tuple[str, str], Test] = field(default_factory=dict)
    cards: Dict[str, dict] = field(default_factory=dict)


def _selection(extra: dict) -> Optional[str]:
    """The record's selection rule: its ``extra.selection`` (a rule or a dict with ``rule``) or ``*selection*``."""
    found = {key: value for key, value in extra.items() if 'selection' in key}
    if not found:
        return None
    parts = []
    for key, value in sorted(found.items()):
        if isinstance(value, dict):
            value = ', '.join(f'{k}={v}' for k, v in value.items() if not isinstance(v, (dict, list)))
        parts.append(f'{key}: {value}')
    return '; '.join(parts)


def protocol_card(column: Column, table: Table) -> dict:
    """What produced a column's numbers: benchmark, config, dataset, selection rules, and per row the seeds,
    checkpoint sha256s and mmssl versions of its runs."""
    rows = {}
    selections, versions = set(), set()
    for row in table.rows:
        runs: List[Run] = table.runs(row, column.benchmark)
        if not runs:
            continue
        shas = sorted({(run.record.get('checkpoint') or {}).get('sha256') or 'none (random backbone)' for run in runs})
        rows[row] = dict(seeds=sorted(run.seed for run in runs), sha256=shas)
        selections |= {_selection(run.record.get('extra') or {}) for run in runs}
        versions |= {str((run.record.get('versions') or {}).get('mmssl', 'unknown')) for run in runs}
    selections.discard(None)
    return dict(benchmark=column.benchmark, benchmark_config=column.benchmark_config, dataset=column.dataset,
                selection='; '.join(sorted(selections)) or 'none recorded', mmssl=sorted(versions), rows=rows)


def _pick_baseline(rows: List[str], baseline: Optional[str]) -> Optional[str]:
    if baseline is None:
        return RANDOM_INIT_ROW if RANDOM_INIT_ROW in rows else None
    if baseline not in rows:
        raise ValueError(f'--baseline {baseline!r} is not a row of the records; rows: {rows}')
    return baseline


def build_report(paths: Sequence[str], baseline: Optional[str] = None, alpha: float = 0.05) -> Report:
    """Read the records in ``paths`` and compute every cell, test and protocol card.

    Args:
        paths: result records, suites' ``records.json`` or folders holding them.
        baseline: the row every other row is tested against; by default the random-init row if there is one
            (else no tests).
        alpha: a test's p-value below it marks the cell.

    Raises:
        ValueError: naming the files of records of different protocols in one column, the rows whose runs report
            different metrics, or an unknown baseline.
    """
    if not 0 < alpha < 1:
        raise ValueError(f'--alpha must lie between 0 and 1, got {alpha}')
    table = build_table(load_runs(paths))
    rows = sorted(table.rows, key=lambda name: (name != RANDOM_INIT_ROW, name))
    report = Report(rows, table.columns, {}, _pick_baseline(rows, baseline), alpha)
    for column in table.columns:
        report.cards[column.name] = protocol_card(column, table)
        for row in rows:
            runs = table.runs(row, column.benchmark)
            if runs:
                report.cells[row, column.name] = make_cell(runs, column.metric)
        base = report.cells.get((report.baseline, column.name))
        for row in rows:
            if base is not None and row != report.baseline and (row, column.name) in report.cells:
                report.tests[row, column.name] = compare_cells(report.cells[row, column.name], base)
    return report

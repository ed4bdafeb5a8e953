"""Markdown model-zoo tables: rows of results under the table layout, mean ± std cells for rows of several runs.

:func:`render_tables` lays out any rows (:class:`Row`: a first cell and the results it shows); :func:`run_tables`
renders the records of a suite run directly, one row per run name. The output depends only on its input (fixed
order and number formatting), so regenerating a document from the same results gives the same bytes.
"""
import os
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

from .layout import SECTIONS, TABLES, Column, Table, tables_of
from .results import VAL_SELECTION_MARK, MeanStd, aggregate, record_to_result, repo_relative

__all__ = ['EMPTY', 'VAL_SELECTION_NOTE', 'Row', 'format_value', 'format_cell', 'link', 'model_cell', 'shown_columns',
           'table_rows', 'markdown_table', 'render_tables', 'run_tables']

#: The cell of a metric not measured (yet).
EMPTY = '–'
#: The line under a table with a number chosen on the split it is reported on.
VAL_SELECTION_NOTE = (f'{VAL_SELECTION_MARK} chosen on the validation set, the split the number is reported on '
                      "(selection='val'): not comparable with a number chosen on held-out training data.")


@dataclass(frozen=True)
class Row:
    """One row name of the tables (a model, a suite run's row) and the results it shows.

    Attributes:
        cell: the first cell of its rows.
        results: ``{Task, Dataset, Metrics, Config}`` results; each fills one row of its table (one per layer in a
            layered table).
        pretrained_on: its pre-training data: in the section on that data, a table with no result of it still gets
            a row of "–" per dataset, so the layout (and what is still to be run) is visible.
        architecture: its backbone (a metafile's ``Architecture``, e.g. ``ResNet-50``): no "–" row in a table of
            another backbone family (:meth:`Table.takes`).
    """
    cell: str
    results: Sequence[dict]
    pretrained_on: Optional[str] = None
    architecture: Optional[str] = None


def format_value(value, decimals: int) -> str:
    """A cell: the number, ``mean ± std`` of a :class:`~mmssl.benchmarks.tables.results.MeanStd`, or "–"."""
    if value is None:
        return EMPTY
    if isinstance(value, MeanStd):
        return f'{value.mean:.{decimals}f} ± {value.std:.{decimals}f}'
    return f'{value:.{decimals}f}'


def format_cell(value, decimals: int, note: Optional[str] = None) -> str:
    """A cell: :func:`format_value`, and the ``note`` beside it in parentheses (the chosen grid point)."""
    cell = format_value(value, decimals)
    return cell if not note or value is None else f'{cell} ({note})'


def link(path: str, text: str, base_dir: str) -> str:
    """A Markdown link to ``path`` from a document in ``base_dir`` (both relative to the same root; an absolute
    ``path``, a config outside the repository, is linked as it is)."""
    target = path if osp.isabs(path) else osp.relpath(path, base_dir)
    return f'[{text}]({target.replace(os.sep, "/")})'


def model_cell(name: str, config: Optional[str], base_dir: Optional[str]) -> str:
    """A row's first cell: ``name`` linked to its pre-training ``config`` (not linked when ``base_dir`` is None);
    without a config, a randomly initialised backbone."""
    if config is None:
        return f'{name} (no pre-training)'
    return name if base_dir is None else link(config, name, base_dir)


def _results_in(table: Table, row: Row, dataset: str) -> List[dict]:
    """The results of ``row`` in ``table`` on ``dataset``, in benchmark-config order."""
    return sorted((r for r in row.results if r['Task'] == table.task and r['Dataset'] == dataset),
                  key=lambda result: result.get('Config') or '')


def shown_columns(table: Table, rows: Sequence[Row]) -> Tuple[Column, ...]:
    """The columns of ``table`` that show the results of ``rows`` (a column per tap they carry, where the table
    has one per tap)."""
    return table.columns_for(r for row in rows for dataset in table.datasets for r in _results_in(table, row, dataset))


def table_rows(table: Table, rows: Sequence[Row], base_dir: str, published: bool = False,
               columns: Optional[Sequence[Column]] = None) -> List[List[str]]:
    """Cells of ``table``'s rows: a row per (row name, dataset, benchmark config[, layer]) result.

    Published rows (numbers of another toolbox's run) have no benchmark-config column. ``columns``: those of
    :func:`shown_columns` unless given.
    """
    columns = shown_columns(table, rows) if columns is None else columns
    section_data = SECTIONS[table.section][1]
    several = len(table.datasets) > 1
    cells = []
    for row in rows:
        for dataset in table.datasets:
            results = _results_in(table, row, dataset)
            lead = [row.cell] + ([dataset.split()[-1]] if several else [])
            if (not results and section_data is not None and row.pretrained_on == section_data
                    and table.takes(row.architecture)):
                cells.append(lead + [EMPTY] * (int(table.layered) + len(columns) + 1))
            for result in results:
                config = result.get('Config')
                config_cell = link(config, osp.splitext(osp.basename(config))[0], base_dir) if config else EMPTY
                for layer in table.layers_of(result['Metrics']):
                    prefix = '' if layer is None else f'{layer}_'
                    line = lead + ([] if layer is None else [layer])
                    notes = result.get('Notes') or {}
                    line += [format_cell(result['Metrics'].get(prefix + c.metric), table.decimals,
                                         notes.get(prefix + c.metric)) for c in columns]
                    cells.append(line if published else line + [config_cell])
    return cells


def markdown_table(table: Table, cells: List[List[str]], published: bool = False,
                   columns: Optional[Sequence[Column]] = None) -> List[str]:
    """The Markdown lines of ``table`` with the rows ``cells`` under ``columns`` (default: the declared ones)."""
    header = ['Model' if published else 'Pre-training config']
    if len(table.datasets) > 1:
        header.append(table.dataset_header)
    if table.layered:
        header.append('Layer')
    columns = table.columns if columns is None else columns
    header += [column.header for column in columns] + ([] if published else ['Benchmark config'])
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '|'.join(['---'] * len(header)) + '|']
    lines += ['| ' + ' | '.join(line) + ' |' for line in cells]
    return lines


def render_tables(rows: Sequence[Row], base_dir: str, heading: str = '###', published: bool = False,
                  list_empty: bool = True, tables: Sequence[Table] = TABLES) -> List[str]:
    """Markdown lines of every table of ``tables`` with rows, section by section (ours, or ``published`` numbers).

    Paths in links are relative to ``base_dir`` (both relative to the repository root). With ``list_empty``, tables
    with no rows that a row's backbone could fill are listed by title on one line per section, so that every
    benchmark's place in the layout stays visible.
    """
    lines = []
    for section, (title, _) in SECTIONS.items():
        shown, empty = [], []
        for table in (t for t in tables if t.section == section):
            columns = shown_columns(table, rows)
            cells = table_rows(table, rows, base_dir, published, columns)
            if cells:
                shown.append((table, cells, columns))
            elif any(table.takes(row.architecture) for row in rows):
                empty.append(table.title)
        if not shown:
            continue
        lines += [f'{heading} {title}', '']
        for table, cells, columns in shown:
            lines += [f'{heading}# {table.title}', '']
            lines += markdown_table(table, cells, published, columns) + ['']
            if any(VAL_SELECTION_MARK in cell for line in cells for cell in line):
                lines += [VAL_SELECTION_NOTE, '']
        if empty and list_empty:
            lines += [('Not published: ' if published else 'No results yet: ') + '; '.join(empty) + '.', '']
    return lines


def run_tables(rows: Dict[str, Dict[str, List[dict]]], pretrain_config: Union[str, Dict[str, str], None], root: str,
               base_dir: str = '.', generic: bool = True, external_ok: bool = False) -> str:
    """Model-zoo tables (Markdown) of the records of one or more suite runs: row name -> benchmark -> records.

    ``pretrain_config`` is the pre-training config of every row, or row name -> its own (suites of several
    pre-trainings merged into one work dir).

    A row with several records of one benchmark config (runs of several seeds) shows mean ± sample std of each
    metric. A number chosen on a grid shows the chosen point beside it (``79.10 (lr 0.1)``; ``†`` and a line
    under the table where it was chosen on the validation set). A run whose records evaluate no checkpoint is shown
    as a randomly initialised backbone; tables the run has no results for are left out; a benchmark with no table
    in the layout (a plugin's) gets a table of its own declaration unless not ``generic`` (tables for the
    repository's docs). Links are relative to ``base_dir`` (relative to ``root``); with ``external_ok`` (a suite
    run's own tables), a config outside the repository is linked by its absolute path instead of refused.
    """
    shown = []
    for name, records in rows.items():
        flat = [record for group in records.values() for record in group]
        random_init = all(record['checkpoint'] is None for record in flat)
        # Unrounded, so that a mean is the mean of what was measured (as the metafile's mean record is).
        results = aggregate([record_to_result(record, root, where=f'{name}: {record["benchmark"]}', decimals=None,
                                              generic=generic, notes=True, external_ok=external_ok)
                             for record in flat], name)
        row_config = pretrain_config.get(name) if isinstance(pretrain_config, dict) else pretrain_config
        config = None if random_init or row_config is None else repo_relative(row_config, root, external_ok)
        shown.append(Row(model_cell(name, config, base_dir), results))
    tables = tables_of(result for row in shown for result in row.results)
    return '\n'.join(render_tables(shown, base_dir, list_empty=False, tables=tables)).strip() + '\n'

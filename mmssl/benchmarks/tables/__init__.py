"""Model-zoo tables of benchmark results, laid out from the benchmarks' own declarations.

- :mod:`.layout`: which table a (Task, Dataset) result fills; a table's Task and columns are those its benchmark
  declares, its tap columns or layer rows those its results carry (any backbone's taps); a benchmark with no entry
  gets a generic table in a suite run's tables.
- :mod:`.results`: a result record as a table result; the mean ± std of a row measured with several seeds.
- :mod:`.markdown`: the Markdown of the tables; :func:`run_tables` renders the records of a suite run.

The package renders; it never reads or writes the repository's docs or metafiles (``tools/analysis_tools/model_zoo``
does, with these tables).
"""
from .layout import (REFERENCE_TAPS, SECTIONS, TABLES, Column, ModelZooError, Table, datasets_of, generic_table,
                     ordered_metrics, result_sort_key, table_for, tables_of)
from .markdown import (EMPTY, VAL_SELECTION_NOTE, Row, format_cell, format_value, link, markdown_table, model_cell,
                       render_tables, run_tables, shown_columns, table_rows)
from .results import (STORED_DECIMALS, VAL_SELECTION_MARK, MeanStd, aggregate, dataset_from_config, mean_std,
                      record_to_result, repo_relative, table_metrics, table_notes)

__all__ = [
    'ModelZooError', 'REFERENCE_TAPS', 'Column', 'Table', 'SECTIONS', 'TABLES', 'table_for', 'generic_table',
    'tables_of', 'datasets_of', 'result_sort_key', 'ordered_metrics', 'STORED_DECIMALS', 'MeanStd', 'mean_std',
    'repo_relative', 'dataset_from_config', 'table_metrics', 'table_notes', 'record_to_result', 'aggregate', 'EMPTY',
    'Row', 'format_value', 'format_cell', 'VAL_SELECTION_MARK', 'VAL_SELECTION_NOTE', 'link', 'model_cell',
    'shown_columns', 'table_rows', 'markdown_table', 'render_tables', 'run_tables'
]

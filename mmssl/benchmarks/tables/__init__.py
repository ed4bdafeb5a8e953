"""Model-zoo tables of benchmark results, laid out from the benchmarks' own declarations.

- :mod:`.layout`: which table a (Task, Dataset) result fills; a table's Task, columns and layer rows are those its
  benchmark declares.
- :mod:`.results`: a result record as a table result; the mean ± std of a row measured with several seeds.
- :mod:`.markdown`: the Markdown of the tables; :func:`run_tables` renders the records of a suite run.

The package renders; it never reads or writes the repository's docs or metafiles (``tools/analysis_tools/model_zoo``
does, with these tables).
"""
from .layout import (SECTIONS, TABLES, Column, ModelZooError, Table, datasets_of, ordered_metrics, result_sort_key,
                     table_for)
from .markdown import EMPTY, Row, format_value, link, markdown_table, model_cell, render_tables, run_tables, table_rows
from .results import STORED_DECIMALS, MeanStd, aggregate, dataset_from_config, mean_std, record_to_result, repo_relative

__all__ = [
    'ModelZooError', 'Column', 'Table', 'SECTIONS', 'TABLES', 'table_for', 'datasets_of', 'result_sort_key',
    'ordered_metrics', 'STORED_DECIMALS', 'MeanStd', 'mean_std', 'repo_relative', 'dataset_from_config',
    'record_to_result', 'aggregate', 'EMPTY', 'Row', 'format_value', 'link', 'model_cell', 'table_rows',
    'markdown_table', 'render_tables', 'run_tables'
]

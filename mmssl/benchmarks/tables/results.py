"""Benchmark result records as table results, and the mean ± std of a row measured several times.

A record (:mod:`mmssl.benchmarks.records`) becomes the result ``{Task, Dataset, Metrics, Config}`` of the table
its benchmark and data set name (:func:`record_to_result`): the Task is the benchmark's, the Dataset the record's
(the ``dataset_name`` its benchmark config declares), the metrics those its benchmark maps to table columns, the
Config the benchmark config relative to the repository. Runs of one row with several seeds become one result whose
metrics are :class:`MeanStd` (:func:`aggregate`).

A benchmark's own metric mapping (``table_metrics``) knows the taps it declares (ResNet's); the metrics of another
backbone's taps are kept here as the table lays them out (:meth:`~mmssl.benchmarks.tables.layout.Table.tap_of`).
"""
import glob
import os
import os.path as osp
from typing import Dict, List, NamedTuple, Optional, Sequence

import numpy as np
from mmengine.config import Config

from ..records import benchmarks_by_record
from .layout import REFERENCE_TAPS, TABLES, ModelZooError, Table, datasets_of, fail, generic_table, table_for

__all__ = ['STORED_DECIMALS', 'VAL_SELECTION_MARK', 'MeanStd', 'mean_std', 'repo_relative', 'dataset_from_config',
           'table_metrics', 'table_notes', 'record_to_result', 'aggregate']

#: Metric values are percentages; merged records are rounded to this many decimals (float32 noise off).
STORED_DECIMALS = 2
#: Beside a number chosen on the split it is reported on (a grid's ``selection='val'``).
VAL_SELECTION_MARK = '†'


class MeanStd(NamedTuple):
    """One metric of a row measured ``n`` times (pre-training or random-init seeds): mean and sample standard
    deviation (``ddof=1``)."""
    mean: float
    std: float
    n: int


def mean_std(values: Sequence[float]) -> MeanStd:
    """Mean and sample standard deviation of ``values`` (0 for a single value)."""
    values = np.asarray(values, dtype=np.float64)
    return MeanStd(float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0, len(values))


def repo_relative(path: Optional[str], root: str, external_ok: bool = False) -> Optional[str]:
    """A config path as the tables link it: relative to the repository ``root``, '/'-separated. A config outside
    ``root`` is refused (the repository's model zoo links only its own configs), or with ``external_ok`` (a suite
    run's own tables, e.g. of a researcher's config) kept as its absolute path."""
    if path is None:
        return None
    absolute = osp.abspath(path if osp.isabs(path) else osp.join(root, path))
    if not osp.isfile(absolute) and not osp.isabs(path):
        absolute = osp.abspath(path)  # given relative to the working directory instead
    rel = osp.relpath(absolute, osp.abspath(root))
    if rel.startswith('..'):
        if external_ok:
            return absolute
        raise ModelZooError(f'config {path} is outside the repository {root}; the model zoo links configs in it')
    return rel.replace(os.sep, '/')


def dataset_from_config(config: str) -> Optional[str]:
    """The Dataset a benchmark config declares (``dataset_name``; a grid folder: that of its configs)."""
    if osp.isdir(config):
        names = {dataset_from_config(path) for path in sorted(glob.glob(osp.join(config, '*.py')))}
        return names.pop() if len(names) == 1 else None
    return Config.fromfile(config).get('dataset_name')


def _record_dataset(record: dict, config: str, task: str, root: str, where: str, required: bool = True) -> str:
    """The Dataset of ``record``: its own, else its benchmark config's; a clear error when neither says (unless
    not ``required``: then ``''``)."""
    dataset = record.get('dataset')
    if dataset is None and osp.exists(osp.join(root, config)):
        dataset = dataset_from_config(osp.join(root, config))
    fine_tuning = benchmarks_by_record()['semi_sup'].task
    if record['benchmark'] == 'linear_eval' and dataset in datasets_of(fine_tuning):
        fail(where, f'{config} is one point of the semi-supervised grid; add the semi_sup record that '
             'semi_sup_grid.py writes (best of the grid) instead')
    if dataset is None and required:
        fail(where, f'cannot tell the dataset: the record and {config} declare none (dataset_name); give it '
             f'(--dataset), one of {sorted(set(datasets_of(task)))}')
    return dataset or ''


def _keeps_names(benchmark: type, table: Table) -> bool:
    """Whether ``benchmark`` records a tap's metric under the tap's own name (SVM), so that a record metric of
    another backbone's tap is its raw name too (a linear head's is only a name its mapping gives)."""
    probe = {table.tap_metrics[0]: 0.0} if table.tap_metrics else {}
    return bool(probe) and benchmark.table_metrics(probe) == probe


def table_metrics(benchmark: type, table: Table, metrics: Dict[str, float]) -> Dict[str, float]:
    """A record's ``metrics`` -> those of ``table``'s columns (and layer rows): the benchmark's mapping, plus the
    metrics of taps other than the reference ones that it leaves out.

    In a table with a column per tap, a record of the reference taps shows those only (others it carries are not
    tap values); a record of none of them shows each metric that is no other declared column as a tap's.
    """
    mapped = benchmark.table_metrics(metrics)
    allowed = set(table.result_metrics)
    known = {name: value for name, value in mapped.items() if name in allowed}
    if table.layered:
        candidates = metrics
    elif any(name in REFERENCE_TAPS for name in known) or not table.tap_metrics:
        return known
    else:
        candidates = dict(mapped, **(metrics if _keeps_names(benchmark, table) else {}))
    others = {name: value for name, value in candidates.items()
              if name not in known and '/' not in name and table.tap_of(name) not in (None, *REFERENCE_TAPS)}
    return dict(known, **others)


def table_notes(benchmark: type, record: dict, metrics: Dict[str, float]) -> Dict[str, str]:
    """Column -> the note shown beside its number: the grid point a benchmark chose for it (``lr 0.1``, ``C 0.01``),
    with :data:`VAL_SELECTION_MARK` when it was chosen on the validation set.

    The benchmark's own ``table_notes(record)`` where it has one (the linear benchmark's); otherwise every
    ``extra['selected_<param>']`` of the record (tap -> chosen number, e.g. the probe's ``selected_C``) for the
    columns ``metrics`` has of those taps. Notes of columns not in ``metrics`` are left out.
    """
    own = getattr(benchmark, 'table_notes', None)
    if own is not None:
        notes = own(record)
    else:
        extra = record.get('extra') or {}
        mark = VAL_SELECTION_MARK if (extra.get('selection') or {}).get('rule') == 'val' else ''
        notes = {}
        for key, chosen in extra.items():
            if key.startswith('selected_') and isinstance(chosen, dict):
                for tap, value in chosen.items():
                    if isinstance(value, (int, float)) and not isinstance(value, bool):
                        notes[tap] = f'{notes[tap]}, ' if tap in notes else ''
                        notes[tap] += f'{key[len("selected_"):]} {value:.3g}'
        notes = {tap: note + mark for tap, note in notes.items()}
    return {name: note for name, note in notes.items() if name in metrics}


def record_to_result(record: dict, root: str, dataset: Optional[str] = None, where: str = 'record',
                     decimals: Optional[int] = STORED_DECIMALS, generic: bool = False, notes: bool = False,
                     external_ok: bool = False) -> dict:
    """The table result (Task, Dataset, Metrics, Config) that a result record stands for.

    Args:
        record: as :func:`mmssl.benchmarks.records.read_result` returns it.
        root: repository root (configs are stored relative to it).
        dataset: the Dataset, when neither the record nor its benchmark config declares it.
        where: how to name the record in errors (its file).
        decimals: rounding of the metrics, as the metafiles store them (``None``: as recorded).
        generic: a record of a benchmark that no table of the layout shows (a plugin's) fills its benchmark's
            :func:`~mmssl.benchmarks.tables.layout.generic_table` (a suite run's tables) instead of being refused
            (the published ones); its data set may then be unknown.
        external_ok: a benchmark config outside the repository is kept as its absolute path instead of refused
            (:func:`repo_relative`; a suite run's own tables).
    """
    declared = benchmarks_by_record()
    benchmark = record.get('benchmark')
    if benchmark not in declared:
        fail(where, f'unknown benchmark {benchmark!r}; the model zoo takes {sorted(declared)}')
    task = declared[benchmark].task
    config = record.get('benchmark_config')
    if config is None:
        fail(where, 'the record names no benchmark_config; the model zoo links the config of every result')
    try:
        config = repo_relative(config, root, external_ok)
    except ModelZooError as error:
        fail(where, str(error))
    generic = generic and all(table.record != benchmark for table in TABLES)
    if dataset is None:
        dataset = _record_dataset(record, config, task, root, where, required=not generic)
    table = generic_table(declared[benchmark], dataset) if generic else table_for(task, dataset, where)
    # Evaluators report more than the tables show (mmdet's AP_s/m/l, mmseg's aAcc, top-5): leave those out.
    mapped = table_metrics(declared[benchmark], table, record.get('metrics', {}))
    metrics = {name: float(value) if decimals is None else round(float(value), decimals)
               for name, value in mapped.items()}
    if not metrics:
        fail(where, f'none of the record\'s metrics {sorted(record.get("metrics", {}))} belongs in the '
             f'{table.title} table')
    result = dict(Task=task, Dataset=dataset, Metrics=table.order_metrics(metrics), Config=config)
    chosen = table_notes(declared[benchmark], record, metrics) if notes else {}
    if chosen:
        result['Notes'] = chosen
    return result


def _merged_notes(group: List[dict]) -> Dict[str, str]:
    """The notes of several runs of one row: each column's distinct notes in run order, joined by ' / ' (runs of
    several seeds may choose different points)."""
    names = dict.fromkeys(name for result in group for name in result.get('Notes') or {})
    return {name: ' / '.join(dict.fromkeys(result['Notes'][name] for result in group
                                           if name in (result.get('Notes') or {}))) for name in names}


def aggregate(results: List[dict], where: str) -> List[dict]:
    """Results of several runs of one row (one per seed) -> one result per (Task, Dataset, Config) whose metrics
    are :class:`MeanStd`; a single run's result is kept as it is."""
    groups: Dict[tuple, List[dict]] = {}
    for result in results:
        groups.setdefault((result['Task'], result['Dataset'], result['Config']), []).append(result)
    merged = []
    for (_, _, config), group in groups.items():
        if len(group) == 1:
            merged.append(group[0])
            continue
        names = list(group[0]['Metrics'])
        differing = [sorted(result['Metrics']) for result in group if set(result['Metrics']) != set(names)]
        if differing:
            fail(where, f'the runs of {config} report different metrics ({sorted(names)} vs {differing[0]}); '
                 'mean ± std needs the same metrics in every run')
        merged.append(dict(group[0], Metrics={name: mean_std([r['Metrics'][name] for r in group]) for name in names}))
        notes = _merged_notes(group)
        merged[-1].pop('Notes', None)
        if notes:
            merged[-1]['Notes'] = notes
    return merged

"""Benchmark result records as table results, and the mean ± std of a row measured several times.

A record (:mod:`mmssl.benchmarks.records`) becomes the result ``{Task, Dataset, Metrics, Config}`` of the table
its benchmark and data set name (:func:`record_to_result`): the Task is the benchmark's, the Dataset the record's
(the ``dataset_name`` its benchmark config declares), the metrics those its benchmark maps to table columns, the
Config the benchmark config relative to the repository. Runs of one row with several seeds become one result whose
metrics are :class:`MeanStd` (:func:`aggregate`).
"""
import glob
import os
import os.path as osp
from typing import Dict, List, NamedTuple, Optional, Sequence

import numpy as np
from mmengine.config import Config

from ..records import benchmarks_by_record
from .layout import ModelZooError, datasets_of, fail, ordered_metrics, table_for

__all__ = ['STORED_DECIMALS', 'MeanStd', 'mean_std', 'repo_relative', 'dataset_from_config', 'record_to_result',
           'aggregate']

#: Metric values are percentages; merged records are rounded to this many decimals (float32 noise off).
STORED_DECIMALS = 2


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


def repo_relative(path: Optional[str], root: str) -> Optional[str]:
    """A config path as the tables link it: relative to the repository ``root``, '/'-separated."""
    if path is None:
        return None
    absolute = osp.abspath(path if osp.isabs(path) else osp.join(root, path))
    if not osp.isfile(absolute) and not osp.isabs(path):
        absolute = osp.abspath(path)  # given relative to the working directory instead
    rel = osp.relpath(absolute, osp.abspath(root))
    if rel.startswith('..'):
        raise ModelZooError(f'config {path} is outside the repository {root}; the model zoo links configs in it')
    return rel.replace(os.sep, '/')


def dataset_from_config(config: str) -> Optional[str]:
    """The Dataset a benchmark config declares (``dataset_name``; a grid folder: that of its configs)."""
    if osp.isdir(config):
        names = {dataset_from_config(path) for path in sorted(glob.glob(osp.join(config, '*.py')))}
        return names.pop() if len(names) == 1 else None
    return Config.fromfile(config).get('dataset_name')


def _record_dataset(record: dict, config: str, task: str, root: str, where: str) -> str:
    """The Dataset of ``record``: its own, else its benchmark config's; a clear error when neither says."""
    dataset = record.get('dataset')
    if dataset is None and osp.exists(osp.join(root, config)):
        dataset = dataset_from_config(osp.join(root, config))
    fine_tuning = benchmarks_by_record()['semi_sup'].task
    if record['benchmark'] == 'linear_eval' and dataset in datasets_of(fine_tuning):
        fail(where, f'{config} is one point of the semi-supervised grid; add the semi_sup record that '
             'semi_sup_grid.py writes (best of the grid) instead')
    if dataset is None:
        fail(where, f'cannot tell the dataset: the record and {config} declare none (dataset_name); give it '
             f'(--dataset), one of {sorted(set(datasets_of(task)))}')
    return dataset


def record_to_result(record: dict, root: str, dataset: Optional[str] = None, where: str = 'record',
                     decimals: Optional[int] = STORED_DECIMALS) -> dict:
    """The table result (Task, Dataset, Metrics, Config) that a result record stands for.

    Args:
        record: as :func:`mmssl.benchmarks.records.read_result` returns it.
        root: repository root (configs are stored relative to it).
        dataset: the Dataset, when neither the record nor its benchmark config declares it.
        where: how to name the record in errors (its file).
        decimals: rounding of the metrics, as the metafiles store them (``None``: as recorded).
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
        config = repo_relative(config, root)
    except ModelZooError as error:
        fail(where, str(error))
    if dataset is None:
        dataset = _record_dataset(record, config, task, root, where)
    table = table_for(task, dataset, where)
    # Evaluators report more than the tables show (mmdet's AP_s/m/l, mmseg's aAcc, top-5): leave those out.
    allowed = table.result_metrics
    mapped = declared[benchmark].table_metrics(record.get('metrics', {}))
    metrics = {name: float(value) if decimals is None else round(float(value), decimals)
               for name, value in mapped.items() if name in allowed}
    if not metrics:
        fail(where, f'none of the record\'s metrics {sorted(record.get("metrics", {}))} belongs in the '
             f'{table.title} table')
    return dict(Task=task, Dataset=dataset, Metrics=ordered_metrics(table, metrics), Config=config)


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
    return merged

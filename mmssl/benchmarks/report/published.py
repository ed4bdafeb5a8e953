"""Deltas of a comparison's cells to numbers published elsewhere, only where the protocol is the same.

Published numbers are those the model zoo keeps apart from mmssl's own (``configs/selfsup/<method>/published.yml``,
each file naming its ``Source``); the tool reads them there and passes them in as :class:`Published` entries
(this package never reads the repository's model-zoo files). A cell of a row gets a delta (its mean minus the
published number) when all of these agree, and otherwise none, with the reason on the row's protocol card:

- model: the row's runs name the pre-training config of the published model, or the row was declared the
  released checkpoint of the published model (a checkpoint released elsewhere has no pre-training config; whoever
  declares it vouches that the files are those released);
- benchmark and data set: the column's benchmark is of the published entry's Task, its data set the entry's;
- metric: the model zoo's own mapping (:func:`mmssl.benchmarks.tables.table_metrics`) turns the column's metric
  into a metric the entry gives;
- protocol: the column's benchmark config is the entry's ``Config`` when it names one; an entry that names none
  states its protocol by Task and Dataset only, as the model-zoo tables compare it, so it is compared with the
  repository's own benchmark configs only (``configs/benchmarks/``); and no run changed its config with
  ``--cfg-options``.
"""
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

from ..records import benchmarks_by_record
from ..tables import ModelZooError, table_for, table_metrics
from .data import Column, Run

#: Where the repository keeps its benchmark configs (relative to its root).
BENCHMARK_CONFIGS = 'configs/benchmarks/'


@dataclass(frozen=True)
class Published:
    """Numbers published for one model on one (Task, Dataset).

    Attributes:
        model: the model-zoo name of the model.
        pretrain_config: its pre-training config, relative to the repository root.
        task: the model-zoo Task (a benchmark's ``task``).
        dataset: the model-zoo Dataset.
        metrics: published metric name -> number.
        source: where the numbers were published (the file that keeps them and what it says of their origin).
        benchmark_config: the benchmark config that follows the published protocol, relative to the repository
            root; ``None`` when the entry names none.
    """
    model: str
    pretrain_config: str
    task: str
    dataset: str
    metrics: Dict[str, float]
    source: str
    benchmark_config: Optional[str] = None


@dataclass(frozen=True)
class Delta:
    """A cell's mean minus the published number ``published`` of metric ``metric`` of ``entry``."""
    value: float
    published: float
    metric: str
    entry: Published


def relative(path: Optional[str], root: str) -> Optional[str]:
    """``path`` (absolute, or relative to the repository ``root``) relative to ``root``, '/'-separated; ``None``
    when it is ``None`` or outside ``root``."""
    if not path:
        return None
    absolute = osp.realpath(path if osp.isabs(path) else osp.join(root, path))
    rel = osp.relpath(absolute, osp.realpath(root))
    return None if rel.startswith('..') else rel.replace(osp.sep, '/')


def _model_entries(runs: List[Run], published: Sequence[Published], root: str,
                   released: Optional[str] = None) -> Union[List[Published], str]:
    """The published entries of the model of ``runs`` (``released``: the model-zoo name of the released checkpoint
    the runs evaluate), or why there are none."""
    configs = {relative(run.record.get('pretrain_config'), root) for run in runs}
    if not any(run.record.get('checkpoint') for run in runs):
        return 'a random backbone has no published numbers'
    if released is not None:
        entries = [entry for entry in published if entry.model == released]
        return entries or f'no published numbers for the released checkpoint {released}'
    if len(configs) != 1 or None in configs:
        return 'the runs name no single pre-training config of this repository'
    config = configs.pop()
    entries = [entry for entry in published if entry.pretrain_config == config]
    return entries or f'no published numbers for the pre-training config {config}'


def _published_metric(column: Column, task: str) -> Union[str, Tuple[str]]:
    """The model-zoo metric name of the column's metric (a 1-tuple), or why it has none."""
    try:
        table = table_for(task, column.dataset or '')
    except ModelZooError:
        return f'no model-zoo table shows {task} on {column.dataset}'
    mapped = table_metrics(benchmarks_by_record()[column.benchmark], table, {column.metric: 0.0})
    if len(mapped) != 1:
        return f'{column.metric} is no metric of the model-zoo table {table.title}'
    return (next(iter(mapped)), )


def _same_protocol(column: Column, entry: Published, runs: List[Run], root: str) -> Optional[str]:
    """``None`` when the column's protocol is the published entry's, else why not."""
    config = relative(column.benchmark_config, root)
    if entry.benchmark_config is not None and config != entry.benchmark_config:
        return f'benchmark config {column.benchmark_config}, the published protocol is {entry.benchmark_config}'
    if entry.benchmark_config is None and not (config and config.startswith(BENCHMARK_CONFIGS)
                                               and osp.isfile(osp.join(root, config))):
        return (f'benchmark config {column.benchmark_config} is not one of the repository\'s '
                f'({BENCHMARK_CONFIGS}), and the published entry states its protocol by Task and Dataset only')
    if column.cfg_options:
        return f'the runs changed the benchmark config with --cfg-options {column.cfg_options}'
    return None


def published_delta(column: Column, runs: List[Run], mean: float, published: Sequence[Published],
                    root: str, released: Optional[str] = None) -> Union[Delta, str]:
    """The delta of a cell (the mean of ``runs`` on ``column``) to its published number, or why it has none;
    ``released``: the model-zoo name of the released checkpoint the runs evaluate."""
    entries = _model_entries(runs, published, root, released)
    if isinstance(entries, str):
        return entries
    benchmark = benchmarks_by_record().get(column.benchmark)
    task = benchmark.task if benchmark is not None else column.benchmark
    entries = [entry for entry in entries if entry.task == task and entry.dataset == column.dataset]
    if not entries:
        return f'no published {task} numbers on {column.dataset} for this model'
    metric = _published_metric(column, task)
    if isinstance(metric, str):
        return metric
    entries = [entry for entry in entries if metric[0] in entry.metrics]
    if not entries:
        return f'the published {task} numbers on {column.dataset} give no {metric[0]}'
    reasons = []
    for entry in entries:
        reason = _same_protocol(column, entry, runs, root)
        if reason is None:
            value = float(entry.metrics[metric[0]])
            return Delta(mean - value, value, metric[0], entry)
        reasons.append(reason)
    return '; '.join(reasons)

"""Which model-zoo table a benchmark result fills, and how the tables are laid out.

A table's Task, columns and layer rows are those its benchmark declares (:class:`~mmssl.benchmarks.base.Benchmark`:
``task``, ``columns``, ``layered``), found through the record name it writes; the layout here adds only what is about
display: the data sets a table shows, its title, the section it stands in, the columns it leaves out, its decimals.

A result (as the metafiles store it and :func:`~mmssl.benchmarks.tables.results.record_to_result` maps a record) is
``{Task, Dataset, Metrics, Config}``; its (Task, Dataset) pair names its table.

Layer names come from the results: a benchmark evaluates whatever taps its backbone declares, so a SVM or linear
table has a column per tap its results carry, a low-shot table a row per tap. The benchmarks declare ResNet's taps
(:data:`REFERENCE_TAPS`, ``feature1`` … ``feature5``); the tables use that declaration only to order those names and
to check the published (metafile) results, which are all of ResNets. Another backbone's taps follow, in the order
its record lists them.

A benchmark with no entry in :data:`TABLES` (a plugin's) still shows in a suite run's tables:
:func:`generic_table` lays one out from its own declaration.
"""
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from mmssl.constants import LAYERS

from ..records import benchmarks_by_record

__all__ = ['ModelZooError', 'fail', 'REFERENCE_TAPS', 'Column', 'Table', 'SECTIONS', 'TABLES', 'table_for',
           'generic_table', 'tables_of', 'datasets_of', 'result_sort_key', 'ordered_metrics']

#: The taps the benchmarks declare their per-layer columns with (ResNet's): the order of those names in a table.
REFERENCE_TAPS = LAYERS


class ModelZooError(ValueError):
    """Bad model-zoo input; the message names the file and the offending key."""


def fail(where: str, message: str):
    """Raise :class:`ModelZooError` for ``where`` (a file, a key, a record)."""
    raise ModelZooError(f'{where}: {message}')


@dataclass(frozen=True)
class Column:
    """One metric column of a table: its header and the metric name of a result that fills it."""
    header: str
    metric: str


@dataclass(frozen=True)
class Table:
    """One model-zoo table: the benchmark whose results fill it and how it is shown.

    Attributes:
        key: stable identifier.
        record: the record name of the benchmark that declares its Task, columns and layer rows.
        title: heading shown above the table.
        datasets: the ``Dataset`` values that fill it; with several, a row per dataset and a column naming it.
        section: key of :data:`SECTIONS` the table is shown under.
        shown: the declared column metrics it shows, in this order (``None``: all, in the declared order).
        decimals: digits after the point in the cells.
        dataset_header: header of the column naming the dataset (tables of several datasets).
        architecture: the backbone family whose pre-trainings it can evaluate (a model's ``Architecture``, e.g.
            ``ViT-B/16``, starts with it); ``None``: any. Models of other families get no "–" row in it.
    """
    key: str
    record: str
    title: str
    datasets: Tuple[str, ...]
    section: str
    shown: Optional[Tuple[str, ...]] = None
    decimals: int = 2
    dataset_header: str = 'Dataset'
    architecture: Optional[str] = None

    def takes(self, architecture: Optional[str]) -> bool:
        """Whether a model of ``architecture`` (``None``: not stated) could fill this table."""
        return self.architecture is None or architecture is None or architecture.startswith(self.architecture)

    @property
    def benchmark(self) -> type:
        """The registered benchmark class whose record fills this table."""
        return benchmarks_by_record()[self.record]

    @property
    def task(self) -> str:
        """The ``Task`` of the results that fill it (the benchmark's)."""
        return self.benchmark.task

    @property
    def layered(self) -> bool:
        """Low-shot style (the benchmark's): metrics are ``<layer>_<column metric>``, a row per layer."""
        return self.benchmark.layered

    @property
    def columns(self) -> Tuple[Column, ...]:
        """The metric columns, in order: the benchmark's declared ``(header, metric)`` pairs this table shows."""
        declared = {metric: header for header, metric in self.benchmark.columns}
        return tuple(Column(declared[metric], metric) for metric in (self.shown or declared))

    @property
    def metrics(self) -> Tuple[str, ...]:
        """The metric of each column, in order."""
        return tuple(column.metric for column in self.columns)

    @property
    def tap_metrics(self) -> Tuple[str, ...]:
        """The declared columns that are taps (a column per layer: SVM, multi-head linear), in declared order."""
        return () if self.layered else tuple(metric for metric in self.metrics if metric in REFERENCE_TAPS)

    @property
    def result_metrics(self) -> Tuple[str, ...]:
        """Every metric name a result of the reference taps may carry, in display order (what a published result may
        carry)."""
        if self.layered:
            return tuple(f'{layer}_{metric}' for layer in REFERENCE_TAPS for metric in self.metrics)
        return self.metrics

    def tap_of(self, name: str) -> Optional[str]:
        """The tap a result metric ``name`` is of (``<tap>_<column metric>`` in a layered table; a column of its own
        in a table with a column per tap, unless it is a declared column of another kind), or ``None``."""
        if self.layered:
            tap, _, metric = name.rpartition('_')
            return tap if tap and metric in self.metrics else None
        if not self.tap_metrics:
            return None
        return name if name in self.tap_metrics or name not in self.metrics else None

    def taps_of(self, names: Iterable[str]) -> Tuple[str, ...]:
        """The taps of the metric ``names``: the reference taps in their declared order, then others as listed."""
        found = list(dict.fromkeys(tap for tap in map(self.tap_of, names) if tap is not None))
        return tuple(tap for tap in REFERENCE_TAPS if tap in found) + tuple(t for t in found if t not in REFERENCE_TAPS)

    def columns_for(self, results: Iterable[dict]) -> Tuple[Column, ...]:
        """The columns that show ``results``: the declared ones, where another backbone's taps replace (or follow)
        the reference taps' columns.

        Results of the reference taps only (every published one) keep every declared column, measured or not.
        """
        taps = self.taps_of(name for result in results for name in result['Metrics'])
        others = [Column(tap.capitalize(), tap) for tap in taps if tap not in REFERENCE_TAPS]
        if not others or not self.tap_metrics:  # a layered table shows its taps as rows
            return self.columns
        own = [column for column in self.columns if column.metric in self.tap_metrics]
        own = (own if len(others) < len(taps) else []) + others
        first = min(i for i, column in enumerate(self.columns) if column.metric in self.tap_metrics)
        rest = [column for column in self.columns if column.metric not in self.tap_metrics]
        return tuple(rest[:first] + own + rest[first:])

    def layers_of(self, metrics: Sequence[str]) -> Tuple[Optional[str], ...]:
        """The rows of one result: each layer its ``metrics`` name, the reference taps in network order, then
        others in the order of ``metrics`` (``(None, )`` unless layered)."""
        if not self.layered:
            return (None, )
        return self.taps_of(metrics)

    def order_metrics(self, metrics: dict) -> dict:
        """``metrics`` in display order: tap by tap (the reference taps first), column by column; names of no
        column are left out."""
        if self.layered:
            names = [f'{layer}_{metric}' for layer in self.taps_of(metrics) for metric in self.metrics]
        else:
            names = [column.metric for column in self.columns_for([dict(Metrics=metrics)])]
        return {name: metrics[name] for name in names if name in metrics}


#: Table sections: key -> (heading, pre-training data whose models get a row even without results).
SECTIONS = {
    'standard': ('Standard benchmarks: ResNet-50 pre-trained on ImageNet-1k', 'ImageNet-1k'),
    'demo': ('Fashion-MNIST CPU demo: ResNet-18', 'Fashion-MNIST'),
    'other': ('Benchmarks without a model-zoo table', None),
}

#: Every table, in display order. Metric names (the keys of a result's ``Metrics``) follow the benchmarks' columns:
#: SVM ``feature1``..``feature5`` (mAP %); low-shot ``<layer>_k<k>`` (mean mAP % over the samples);
#: linear ``feature1``..``feature5``, ``avgpool`` (top-1 %); fine-tuning ``top1``, ``top5``; kNN ``k<k>``
#: (top-1 %); VOC07+12 ``AP50``; COCO ``bbox_mAP``, ``bbox_mAP_50``, ``bbox_mAP_75``, ``segm_*`` (mmdet's names,
#: in %: records carry mmdet's fractions, converted on merge); segmentation ``mIoU`` (%).
TABLES = (
    Table('svm_voc07', 'svm_voc07', 'VOC07 linear SVM (mAP %)', ('VOC07', ), 'standard'),
    Table('svm_coco2014', 'svm_coco2014', 'COCO2014 linear SVM (mAP %)', ('COCO2014', ), 'standard'),
    Table('lowshot_svm_voc07', 'lowshot_svm_voc07', 'VOC07 low-shot SVM (mAP %, mean of the samples)', ('VOC07', ),
          'standard'),
    Table('lowshot_svm_places205', 'lowshot_svm_places205', 'Places205 low-shot SVM (mAP %, mean of the samples)',
          ('Places205', ), 'standard'),
    Table('linear_in1k', 'linear_eval', 'ImageNet-1k linear evaluation (top-1 %)', ('ImageNet-1k', ), 'standard'),
    Table('linear_inat18', 'linear_eval', 'iNaturalist 2018 linear evaluation (top-1 %)', ('iNaturalist2018', ),
          'standard'),
    Table('linear_places205', 'linear_eval', 'Places205 linear evaluation (top-1 %)', ('Places205', ), 'standard'),
    Table('semi_sup_in1k', 'semi_sup', 'ImageNet-1k semi-supervised fine-tuning, best of the lr grid (%)',
          ('ImageNet-1k 1%', 'ImageNet-1k 10%'), 'standard', dataset_header='Labels'),
    Table('knn_in1k', 'knn', 'ImageNet-1k kNN (top-1 %)', ('ImageNet-1k', ), 'standard'),
    Table('probe_in1k', 'probe', 'ImageNet-1k logistic-regression probe, C chosen on held-out train (top-1 %)',
          ('ImageNet-1k', ), 'standard', shown=('feature5', )),
    Table('probe_voc07', 'probe', 'VOC07 logistic-regression probe, C chosen on held-out trainval (mAP %)', ('VOC07', ),
          'standard', shown=('feature5', )),
    Table('det_voc0712', 'detection', 'VOC07+12 detection, Faster R-CNN R50-C4 (%)', ('VOC07+12', ), 'standard',
          shown=('AP50', )),
    Table('det_coco', 'detection', 'COCO detection and instance segmentation, Mask R-CNN R50-FPN / R50-C4 (%)',
          ('COCO', ), 'standard', decimals=1,
          shown=('bbox_mAP', 'bbox_mAP_50', 'bbox_mAP_75', 'segm_mAP', 'segm_mAP_50', 'segm_mAP_75')),
    Table('seg_voc12aug', 'segmentation', 'VOC12aug segmentation, FCN R50-D8 (mIoU %)', ('VOC12aug', ), 'standard'),
    Table('seg_cityscapes', 'segmentation', 'Cityscapes segmentation, FCN R50-D8 (mIoU %)', ('Cityscapes', ),
          'standard'),
    Table('seg_ade20k', 'segmentation', 'ADE20K segmentation, UperNet ViT (mIoU %)', ('ADE20K', ), 'standard',
          architecture='ViT'),
    Table('svm_fmnist', 'svm_voc07', 'Fashion-MNIST VOC07-style mosaics, linear SVM (mAP %)', ('Fashion-MNIST', ),
          'demo'),
    Table('lowshot_svm_fmnist', 'lowshot_svm_voc07',
          'Fashion-MNIST VOC07-style mosaics, low-shot SVM (mAP %, mean of the samples)', ('Fashion-MNIST', ), 'demo'),
    Table('linear_fmnist', 'linear_eval', 'Fashion-MNIST multi-head linear evaluation (top-1 %, 500 held-out photos)',
          ('Fashion-MNIST', ), 'demo'),
    Table('knn_fmnist', 'knn', 'Fashion-MNIST kNN (top-1 %)', ('Fashion-MNIST', ), 'demo'),
    Table('probe_fmnist', 'probe', 'Fashion-MNIST logistic-regression probe, C chosen on held-out train (top-1 %)',
          ('Fashion-MNIST', ), 'demo', shown=('feature4', 'feature5')),
)


def _by_task() -> Dict[Tuple[str, str], Table]:
    """(Task, Dataset) -> the table its results fill."""
    return {(table.task, dataset): table for table in TABLES for dataset in table.datasets}


def table_for(task: str, dataset: str, where: str = 'result') -> Table:
    """The table that results of ``task`` on ``dataset`` fill; a clear error for an unknown pair."""
    tables = _by_task()
    if (task, dataset) not in tables:
        known = ', '.join(f'{t} / {d}' for t, d in tables)
        fail(where, f'unknown Task / Dataset {task!r} / {dataset!r}; known: {known}')
    return tables[(task, dataset)]


def generic_table(benchmark: type, dataset: Optional[str]) -> Table:
    """The table of a suite run's results of ``benchmark`` on ``dataset`` when :data:`TABLES` has none for them:
    the benchmark's title and columns, in the ``'other'`` section (the published tables take only those of
    :data:`TABLES`)."""
    title = benchmark.title if not dataset else f'{benchmark.title}, {dataset}'
    return Table(benchmark.record_name, benchmark.record_name, title, (dataset or '', ), 'other')


def tables_of(results: Iterable[dict]) -> List[Table]:
    """:data:`TABLES`, then a :func:`generic_table` for each (Task, Dataset) of ``results`` that none of them shows
    (laid out by the first registered benchmark of that Task)."""
    tables, known = list(TABLES), _by_task()
    by_task = {}
    for benchmark in benchmarks_by_record().values():
        by_task.setdefault(benchmark.task, benchmark)
    for result in results:
        if (result['Task'], result['Dataset']) not in known:
            table = generic_table(by_task[result['Task']], result['Dataset'])
            known[(result['Task'], result['Dataset'])] = table
            tables.append(table)
    return tables


def datasets_of(task: str) -> Tuple[str, ...]:
    """Every Dataset that a table of ``task`` shows, in display order."""
    return tuple(dataset for table in TABLES if table.task == task for dataset in table.datasets)


def result_sort_key(result: dict) -> tuple:
    """Results in display order: their table's, then their dataset's within it, then their benchmark config."""
    table = table_for(result['Task'], result['Dataset'])
    return TABLES.index(table), table.datasets.index(result['Dataset']), result.get('Config') or ''


def ordered_metrics(table: Table, metrics: dict) -> dict:
    """``metrics`` in the table's display order (names it does not show are left out)."""
    return table.order_metrics(metrics)

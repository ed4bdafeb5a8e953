"""What a benchmark declares, and what every benchmark shares: the record writer, the work-dir scheme.

A benchmark is a class registered in :data:`mmssl.registry.BENCHMARKS`. It declares itself once, in class
attributes: its name (the suite key and the ``python -m mmssl.benchmarks NAME`` argument), its result record, its
model-zoo task and table columns, whether it can evaluate a random backbone, its own command-line options. Its
config declares the data set it evaluates on (``dataset_name = 'VOC07'``). :meth:`Benchmark.run` does the work
and writes the record through :meth:`Benchmark.write_record`.
"""
import argparse
import os.path as osp
import re
from abc import ABC, abstractmethod
from typing import ClassVar, Dict, Optional, Tuple, Union

from mmengine.config import Config
from mmengine.dist import is_main_process

from mmssl.constants import RANDOM_INIT_SEED
from mmssl.registry import BENCHMARKS
from mmssl.utils import register_all_modules
from mmssl.utils.checkpoint import BackboneWeights, LoadReport
from mmssl.utils.config import merge_cfg_options

from .records import write_result

__all__ = ['Benchmark', 'get_benchmark', 'benchmark_names', 'default_work_dir', 'dataset_of', 'load_benchmark_config',
           'config_overrides']


# Where a loaded config keeps the ``--cfg-options`` merged into it: an attribute of the Config object, not a
# config key, so that a config dumped by a run stays the config it was.
_OVERRIDES = '_mmssl_cfg_options'


def load_benchmark_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """Read a benchmark config (every mmssl module registered) and apply ``--cfg-options`` (remembered for the
    records, :func:`config_overrides`)."""
    register_all_modules(init_default_scope=False)
    cfg = merge_cfg_options(Config.fromfile(path), cfg_options)
    object.__setattr__(cfg, _OVERRIDES, dict(cfg_options or {}))
    if cfg.get('default_scope', 'mmssl') == 'mmssl':
        # Data pipelines build their transforms in the default scope; mmdet / mmseg configs name their own.
        register_all_modules(init_default_scope=True)
    return cfg


def config_overrides(cfg: Optional[Config]) -> dict:
    """The ``--cfg-options`` :func:`load_benchmark_config` merged into ``cfg``, as given (key -> value; empty for
    a config loaded otherwise)."""
    return dict(vars(cfg).get(_OVERRIDES) or {}) if cfg is not None else {}


class Benchmark(ABC):
    """Base class of a benchmark protocol run on a pre-trained (or randomly initialised) backbone.

    Class attributes (the declaration):
        name: suite key and command name, e.g. ``'svm'``.
        record_name: the ``benchmark`` of its result record, e.g. ``'svm_voc07'``.
        title: human-readable name.
        task: the model-zoo ``Task`` its results fill, e.g. ``'SVM'``.
        columns: ``(header, metric)`` of its model-zoo table, in order.
        layered: the table has a row per layer and its metrics are ``<layer>_<metric>``.
        accepts_random: whether ``none`` (a seeded random backbone) can be evaluated.
        work_subdir: folder of a suite run's work dir it runs in (default: ``name``); benchmarks sharing one
            share its files (the SVM and low-shot benchmarks share the extracted features).
        record_file: file name of its record in the work dir.
    """
    name: ClassVar[str]
    record_name: ClassVar[str]
    title: ClassVar[str]
    task: ClassVar[str]
    columns: ClassVar[Tuple[Tuple[str, str], ...]] = ()
    layered: ClassVar[bool] = False
    accepts_random: ClassVar[bool] = True
    work_subdir: ClassVar[Optional[str]] = None

    @classmethod
    def record_file(cls) -> str:
        return f'result_{cls.record_name}.json'

    @classmethod
    def load_config(cls, path: str, cfg_options: Optional[dict] = None) -> Config:
        """Read the benchmark config ``path`` and apply ``--cfg-options``."""
        return load_benchmark_config(path, cfg_options)

    @classmethod
    def record_path(cls, work_dir: str) -> str:
        """Where :meth:`run` with ``work_dir`` writes its result record."""
        return osp.join(work_dir, cls.record_file())

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """The benchmark's own command-line options (every one is reachable from a suite file's ``args``)."""

    @classmethod
    def table_metrics(cls, metrics: Dict[str, float]) -> Dict[str, float]:
        """Record metrics -> the metric names of its table's columns (others are left out)."""
        allowed = {metric for _, metric in cls.columns}
        return {name: value for name, value in metrics.items() if name in allowed}

    @abstractmethod
    def run(self, cfg: Config, weights: BackboneWeights, work_dir: str, **options) -> Dict[str, float]:
        """Evaluate ``weights`` (a checkpoint's backbone, or the seeded random backbone) with benchmark config
        ``cfg``.

        Writes the result record into ``work_dir`` (:meth:`write_record`, with the :class:`LoadReport` of the load
        the run did) and returns the metrics (on the main process; other processes of a distributed run may return
        an empty dict).
        """

    def write_record(self, work_dir: str, metrics: Dict[str, float], cfg: Optional[Config], weights: BackboneWeights,
                     load_report: Union[LoadReport, dict, None], *, pretrain_config: Optional[str] = None,
                     seeds: Optional[dict] = None, extra: Optional[dict] = None, record_file: Optional[str] = None,
                     benchmark_config: Optional[str] = None, dataset: Optional[str] = None) -> Optional[dict]:
        """Write the result record (main process only) and print the metrics; the one writer of every benchmark.

        The benchmark config and data set are ``cfg``'s unless given (a run on a feature folder has no config, only
        the folder's record of it). The record's ``checkpoint`` is ``weights``' path and sha256 (``None`` for the
        random backbone, whose seed goes to ``seeds['random_init']``). Every record carries
        ``extra['checkpoint_format']``, the layout the checkpoint was read as (``'random-init'`` for the random
        backbone), and ``extra['checkpoint_load']``, ``load_report`` in its record form (matched / missing /
        unexpected counts, the modules that did not load; for the random backbone mode ``'random-init'`` and its
        seed; ``None`` only for a feature folder extracted before loads were recorded) and, given ``cfg``,
        ``extra['cfg_options']``, the ``--cfg-options`` it was loaded with (a run on a feature folder records those
        and the folder's identity itself).
        """
        if not is_main_process():
            return None
        seeds = dict(seeds or {})
        if weights.is_random:
            seeds.setdefault('random_init', weights.random_init_seed)
        if isinstance(load_report, LoadReport):
            load_report = load_report.to_record()
        extra = dict(extra or {}, checkpoint_format=weights.layout, checkpoint_load=load_report)
        if cfg is not None:
            extra.setdefault('cfg_options', config_overrides(cfg))
        record = write_result(
            osp.join(work_dir, record_file or self.record_file()), self.record_name, metrics,
            checkpoint=weights.record(), pretrain_config=pretrain_config,
            benchmark_config=benchmark_config or (cfg and cfg.filename), seeds=seeds,
            dataset=dataset or (cfg and dataset_of(cfg)),
            extra=dict(work_dir=work_dir, **(extra or {})))
        for name, value in sorted(metrics.items()):
            print(f'{name}: {value:.4f}')
        return record


def _registered() -> Dict[str, type]:
    """Benchmark name -> class, of every benchmark registered so far (the registry keys are class names)."""
    BENCHMARKS.import_from_location()
    return {cls.name: cls for cls in BENCHMARKS.module_dict.values()}


def get_benchmark(name: str, config: Optional[str] = None) -> Benchmark:
    """An instance of the benchmark whose ``name`` is ``name``; a clear error listing the known ones.

    A benchmark of a plugin registers when its config is read (``custom_imports``), so ``config`` is read first
    when ``name`` is not registered yet.
    """
    cls = _registered().get(name)
    if cls is None and config is not None and osp.isfile(config):
        Config.fromfile(config)  # imports the config's custom_imports
        cls = _registered().get(name)
    if cls is None:
        raise KeyError(f'unknown benchmark {name!r}, expected one of {benchmark_names()}')
    return cls()


def benchmark_names() -> list:
    return sorted(_registered())


def dataset_of(cfg: Config) -> Optional[str]:
    """The data set a benchmark config declares (``dataset_name``)."""
    return cfg.get('dataset_name')


def default_work_dir(name: str, config: str, checkpoint: Optional[str], sha256: Optional[str] = None,
                     random_init_seed: int = RANDOM_INIT_SEED) -> str:
    """``work_dirs/benchmarks/<benchmark>/<config name>/<checkpoint name>-<first 8 hex of its sha256>``.

    The content hash keeps two different files of the same name (every run has an ``iter_300.pth``) apart;
    a random backbone runs in ``random-init-seed<seed>``.
    """
    config_name = osp.splitext(osp.basename(config.rstrip('/')))[0]
    if checkpoint is None:
        tag = f'random-init-seed{random_init_seed}'
    else:
        if sha256 is None:
            from mmssl.utils.checkpoint import read_checkpoint
            sha256 = read_checkpoint(checkpoint).sha256
        tag = f'{re.sub(r"[^A-Za-z0-9._-]", "_", osp.splitext(osp.basename(checkpoint))[0])}-{sha256[:8]}'
    return osp.join('work_dirs', 'benchmarks', name, config_name, tag)

"""Machine-readable benchmark results: one JSON record per benchmark run.

Every benchmark writes its record through :meth:`mmssl.benchmarks.base.Benchmark.write_record`, which calls
:func:`write_result`; the suite and the model-zoo tools read them back with :func:`read_result`. A record says
what was measured (``metrics``) and everything needed to trust or reproduce it::

    {"format": "mmssl.result.v1",
     "benchmark": "svm_voc07",                      # the record name a registered benchmark declares
     "dataset": "VOC07",                             # the benchmark config's dataset_name
     "metrics": {"feature1": 40.1, ...},            # flat name -> number
     "pretrain_config": "configs/selfsup/...py",     # or null (e.g. a random backbone)
     "checkpoint": {"path": "...", "sha256": "..."}, # or null for a random backbone
     "benchmark_config": "configs/benchmarks/...py",
     "date": "2026-11-25T18:00:00+00:00",
     "versions": {"mmssl": ..., "torch": ..., ...},
     "seeds": {"seed": 0, ...},
     "extra": {...}}                                 # benchmark-specific details
"""
import datetime
import importlib.metadata
import json
import platform
from typing import Dict, Optional, Union

from mmssl.utils.atomic_files import atomic_write_text
from mmssl.utils.checkpoint import checkpoint_record

RESULT_FORMAT = 'mmssl.result.v1'


def benchmarks_by_record() -> Dict[str, type]:
    """Record name -> the registered benchmark class that writes it."""
    from mmssl.registry import BENCHMARKS
    BENCHMARKS.import_from_location()
    return {cls.record_name: cls for cls in BENCHMARKS.module_dict.values()}


def record_names() -> Dict[str, str]:
    """Record name -> title of every registered benchmark."""
    return {name: cls.title for name, cls in benchmarks_by_record().items()}


def environment_versions() -> Dict[str, str]:
    """Versions of Python and of the packages that decide the numbers."""
    import mmengine
    import numpy
    import torch
    import torchvision

    import mmssl
    versions = dict(python=platform.python_version(), mmssl=mmssl.__version__, torch=torch.__version__,
                    torchvision=torchvision.__version__, mmengine=mmengine.__version__, numpy=numpy.__version__,
                    sklearn=importlib.metadata.version('scikit-learn'))  # no import: ~1 s
    try:
        import mmcv
        versions['mmcv'] = mmcv.__version__
    except ImportError:  # the core package works without mmcv's ops
        pass
    return versions


def write_result(path: str,
                 benchmark: str,
                 metrics: Dict[str, float],
                 *,
                 checkpoint: Union[str, dict, None] = None,
                 pretrain_config: Optional[str] = None,
                 benchmark_config: Optional[str] = None,
                 seeds: Optional[dict] = None,
                 dataset: Optional[str] = None,
                 extra: Optional[dict] = None) -> dict:
    """Write one result record atomically and return it.

    Args:
        path: output ``.json`` file; its directory is created.
        benchmark: the record name of a registered benchmark.
        metrics: flat mapping of metric name to number.
        checkpoint: the evaluated checkpoint (hashed here), its ``{'path', 'sha256'}`` when known already (a feature
            folder's ``meta.json``: the file may be gone), or ``None`` for a randomly initialised backbone.
        pretrain_config: the config that produced ``checkpoint``.
        benchmark_config: the benchmark's own config.
        seeds: every seed that influenced the run.
        dataset: the data set evaluated on, as the benchmark config declares it (``dataset_name``).
        extra: benchmark-specific details (JSON-serialisable).

    Returns:
        dict: the record as written.
    """
    known = record_names()
    if benchmark not in known:
        raise ValueError(f'unknown benchmark {benchmark!r}, expected one of {sorted(known)}')
    bad = {k: v for k, v in metrics.items() if not isinstance(v, (int, float))}
    if bad:
        raise ValueError(f'metrics must be numbers, got {bad}')
    record = dict(
        format=RESULT_FORMAT,
        benchmark=benchmark,
        dataset=dataset,
        metrics={k: float(v) for k, v in metrics.items()},
        pretrain_config=pretrain_config,
        checkpoint=_checkpoint_entry(checkpoint),
        benchmark_config=benchmark_config,
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        versions=environment_versions(),
        seeds=seeds or {},
        extra=extra or {})
    atomic_write_text(path, json.dumps(record, indent=2))
    return record


def _checkpoint_entry(checkpoint: Union[str, dict, None]) -> Optional[dict]:
    if checkpoint is None or isinstance(checkpoint, dict):
        return None if checkpoint is None else dict(path=checkpoint['path'], sha256=checkpoint['sha256'])
    return checkpoint_record(checkpoint)


def read_result(path: str) -> dict:
    """Read a record written by :func:`write_result`, checking its format and required fields."""
    with open(path) as f:
        record = json.load(f)
    if not isinstance(record, dict) or record.get('format') != RESULT_FORMAT:
        raise ValueError(f'{path}: not an mmssl result record (expected "format": "{RESULT_FORMAT}")')
    missing = [k for k in ('benchmark', 'metrics', 'checkpoint', 'date', 'versions') if k not in record]
    if missing:
        raise ValueError(f'{path}: result record lacks {missing}')
    known = record_names()
    if record['benchmark'] not in known:
        raise ValueError(f'{path}: unknown benchmark {record["benchmark"]!r}, expected one of {sorted(known)}')
    return record

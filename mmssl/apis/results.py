"""Machine-readable benchmark results: one JSON record per benchmark run.

Every benchmark tool writes a record with :func:`write_result`; the model-zoo generator and the
benchmark orchestrator read them back with :func:`read_result`. A record says what was measured
(``metrics``) and everything needed to trust or reproduce it::

    {"format": "mmssl.result.v1",
     "benchmark": "svm_voc07",                      # a key of BENCHMARKS
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
import hashlib
import json
import os
import os.path as osp
import platform
from typing import Dict, Optional

#: Benchmarks that write records, with a human-readable title.
BENCHMARKS = {
    'svm_voc07': 'VOC07 linear SVM',
    'lowshot_svm_voc07': 'VOC07 low-shot SVM',
    'linear_eval': 'Linear evaluation / fine-tuning',
    'semi_sup': 'Semi-supervised fine-tuning (best of grid)',
    'knn': 'k-nearest-neighbour classification',
    'detection': 'Detection (mmdet)',
    'segmentation': 'Segmentation (mmseg)',
}
RESULT_FORMAT = 'mmssl.result.v1'
_HASH_CHUNK = 1 << 20


def file_sha256(path: str) -> str:
    """SHA-256 of a file, read in chunks (checkpoints can be large)."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(_HASH_CHUNK), b''):
            digest.update(chunk)
    return digest.hexdigest()


def environment_versions() -> Dict[str, str]:
    """Versions of Python and of the packages that decide the numbers."""
    import mmengine
    import numpy
    import sklearn
    import torch
    import torchvision

    import mmssl
    versions = dict(python=platform.python_version(), mmssl=mmssl.__version__, torch=torch.__version__,
                    torchvision=torchvision.__version__, mmengine=mmengine.__version__, numpy=numpy.__version__,
                    sklearn=sklearn.__version__)
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
                 checkpoint: Optional[str] = None,
                 pretrain_config: Optional[str] = None,
                 benchmark_config: Optional[str] = None,
                 seeds: Optional[dict] = None,
                 extra: Optional[dict] = None) -> dict:
    """Write one result record atomically and return it.

    Args:
        path: output ``.json`` file; its directory is created.
        benchmark: a key of :data:`BENCHMARKS`.
        metrics: flat mapping of metric name to number.
        checkpoint: the evaluated checkpoint; ``None`` for a randomly initialised backbone.
        pretrain_config: the config that produced ``checkpoint``.
        benchmark_config: the benchmark's own config.
        seeds: every seed that influenced the run.
        extra: benchmark-specific details (JSON-serialisable).

    Returns:
        dict: the record as written.
    """
    if benchmark not in BENCHMARKS:
        raise ValueError(f'unknown benchmark {benchmark!r}, expected one of {sorted(BENCHMARKS)}')
    bad = {k: v for k, v in metrics.items() if not isinstance(v, (int, float))}
    if bad:
        raise ValueError(f'metrics must be numbers, got {bad}')
    if checkpoint is not None and not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint {checkpoint} does not exist')
    record = dict(
        format=RESULT_FORMAT,
        benchmark=benchmark,
        metrics={k: float(v) for k, v in metrics.items()},
        pretrain_config=pretrain_config,
        checkpoint=None if checkpoint is None else dict(path=checkpoint, sha256=file_sha256(checkpoint)),
        benchmark_config=benchmark_config,
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        versions=environment_versions(),
        seeds=seeds or {},
        extra=extra or {})
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump(record, f, indent=2)
    os.replace(tmp, path)
    return record


def read_result(path: str) -> dict:
    """Read a record written by :func:`write_result`, checking its format and required fields."""
    with open(path) as f:
        record = json.load(f)
    if not isinstance(record, dict) or record.get('format') != RESULT_FORMAT:
        raise ValueError(f'{path}: not an mmssl result record (expected "format": "{RESULT_FORMAT}")')
    missing = [k for k in ('benchmark', 'metrics', 'checkpoint', 'date', 'versions') if k not in record]
    if missing:
        raise ValueError(f'{path}: result record lacks {missing}')
    if record['benchmark'] not in BENCHMARKS:
        raise ValueError(f'{path}: unknown benchmark {record["benchmark"]!r}, expected one of {sorted(BENCHMARKS)}')
    return record

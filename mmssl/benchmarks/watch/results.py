"""The records of a watched training: one folder per checkpoint, each marked complete by ``watch.json``.

Layout of a watch's output folder ``OUT`` (the same for the watcher and :class:`~.hook.BenchmarkHook`)::

    OUT/[<run>/]iter_<N>/<benchmark>/result_<record>.json   # the benchmark's own record and work files
    OUT/[<run>/]iter_<N>/watch.json                         # written last, atomically: the step is complete
    OUT/random_init_seed<S>/<benchmark>/...                 # the random-init baseline of seed S
    OUT/random_init_seed<S>/watch.json
    OUT/curves.png, OUT/curves.md                           # mmssl.benchmarks.watch.curves

``<run>/`` is there when several trainings (e.g. seeds) are watched into one ``OUT``. ``watch.json`` says what the
step is (run, unit, step), which weights were benchmarked (the checkpoint's path, sha256, size and mtime; or the
in-memory state dict's digest; or the random-init seed), the weights' identity (:func:`.checkpoints.weights_identity`)
and where each benchmark's record is. A step whose ``watch.json`` lists every requested benchmark is done; a
restart skips it without reading its checkpoint again.
"""
import json
import os.path as osp
from typing import Callable, Dict, Optional, Sequence

from mmssl.utils import BackboneWeights
from mmssl.utils.atomic_files import atomic_write_text

from ..base import get_benchmark
from ..records import read_result

__all__ = ['STEP_FILE', 'WATCH_FORMAT', 'read_step', 'write_step', 'benchmark_step', 'baseline_dir', 'BenchmarkFn']

STEP_FILE = 'watch.json'
WATCH_FORMAT = 'mmssl.watch.v1'

#: runs one benchmark: (name, weights, work dir) -> its result record
BenchmarkFn = Callable[[str, BackboneWeights, str], dict]


def baseline_dir(out_dir: str, seed: int) -> str:
    """The folder of the random-init baseline of ``seed``."""
    return osp.join(out_dir, f'random_init_seed{seed}')


def read_step(step_dir: str) -> Optional[dict]:
    """The ``watch.json`` of a step folder, or ``None`` when the step was never completed.

    Raises:
        ValueError: the file is not a watch step record; names it.
    """
    path = osp.join(step_dir, STEP_FILE)
    if not osp.exists(path):
        return None
    try:
        with open(path) as f:
            step = json.load(f)
        if step.get('format') != WATCH_FORMAT or not isinstance(step.get('records'), dict):
            raise ValueError(f'expected "format": "{WATCH_FORMAT}" and "records"')
    except (ValueError, AttributeError) as error:
        raise ValueError(f'{path} is not a watch step record ({error}); move the folder away to benchmark that '
                         'step again') from None
    return step


def write_step(step_dir: str, step: dict, records: Dict[str, str]) -> dict:
    """Write ``watch.json`` (atomically, last): ``step`` (run, unit, step, weights, identity) and ``records``
    (benchmark -> record path relative to ``step_dir``). Returns what was written."""
    content = dict(format=WATCH_FORMAT, **step, records=dict(sorted(records.items())))
    atomic_write_text(osp.join(step_dir, STEP_FILE), json.dumps(content, indent=1))
    return content


def _reusable(path: str, weights: BackboneWeights) -> bool:
    """Whether the record at ``path`` is of ``weights`` (a step killed between two benchmarks keeps the first's)."""
    if not osp.exists(path):
        return False
    try:
        record = read_result(path)
    except ValueError:
        return False
    if weights.is_random:
        return record['checkpoint'] is None and (record.get('seeds') or {}).get('random_init') == \
            weights.random_init_seed
    return (record['checkpoint'] or {}).get('sha256') == weights.sha256


def benchmark_step(weights: BackboneWeights, benchmarks: Sequence[str], step_dir: str, step: dict,
                   run_benchmark: BenchmarkFn, done: Optional[Dict[str, str]] = None) -> dict:
    """Run ``benchmarks`` on ``weights`` into ``step_dir/<benchmark>`` and mark the step complete.

    A benchmark listed in ``done`` (the step's earlier ``watch.json``), or whose record there is already of these
    weights, is not run again.

    Returns:
        dict: the written ``watch.json``.
    """
    records = dict(done or {})
    for name in benchmarks:
        if name in records:
            continue
        declared = get_benchmark(name)
        work_dir = osp.join(step_dir, declared.work_subdir or name)
        path = declared.record_path(work_dir)
        if not _reusable(path, weights):
            run_benchmark(name, weights, work_dir)
        records[name] = osp.relpath(path, step_dir)
    return write_step(step_dir, step, records)

"""Benchmark every checkpoint of one or more trainings as they write them: :func:`watch`.

The watcher polls each training's work dir, judges which checkpoints are complete (:class:`.checkpoints.CompletionRule`)
and benchmarks each complete checkpoint once, in order of step, into ``OUT/[<run>/]<unit>_<step>`` (the layout of
:mod:`.results`), redrawing the curves (:mod:`.curves`) after each. It stops once every training's last checkpoint
(``train_cfg.max_iters`` / ``max_epochs`` of the pre-training config, or ``until``) is done, and fails after
``idle_timeout`` seconds without a new checkpoint. It holds the lock of ``OUT`` meanwhile; a restarted watcher skips
every step whose ``watch.json`` lists the requested benchmarks, without reading its checkpoint again.
"""
import os
import os.path as osp
import time
import warnings
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Set

from mmengine.logging import MMLogger, print_log

from mmssl.utils import BackboneWeights
from mmssl.utils.checkpoint import read_checkpoint
from mmssl.utils.errors import InputError
from mmssl.utils.work_dir_lock import work_dir_lock

from .checkpoints import (Checkpoint, CompletionRule, describe_difference, last_checkpoint_step, list_checkpoints,
                          weights_identity)
from .results import BenchmarkFn, baseline_dir, benchmark_step, read_step

__all__ = ['CheckpointVanishedWarning', 'IdleTimeoutError', 'WatchedRun', 'watch', 'plan_runs']


class CheckpointVanishedWarning(UserWarning):
    """A checkpoint seen in the work dir disappeared before it was benchmarked; the message names it."""


class IdleTimeoutError(InputError):
    """No new checkpoint appeared for ``idle_timeout`` seconds: the training stopped (or writes elsewhere). Reported
    as one line, like an input error: the message names the work dirs, the last checkpoint and the one awaited."""


@dataclass
class WatchedRun:
    """One training being watched and what the watcher knows of it.

    Attributes:
        name: the run's name in the records and curves (its work dir's folder name).
        work_dir: where the training writes its checkpoints.
        out_dir: where its steps' records go (``OUT``, or ``OUT/<name>`` when several runs are watched).
    """
    name: str
    work_dir: str
    out_dir: str
    rule: CompletionRule = field(default_factory=CompletionRule)
    done: Dict[int, dict] = field(default_factory=dict)
    pending: Dict[str, Checkpoint] = field(default_factory=dict)
    lost: Set[int] = field(default_factory=set)
    reference: Optional[dict] = None
    unreadable: Optional[str] = None


def plan_runs(work_dirs: Sequence[str], out_dir: str) -> List[WatchedRun]:
    """The runs of ``work_dirs``: one run writes into ``out_dir`` itself, several into ``out_dir/<folder name>``.

    Raises:
        InputError: two work dirs share a folder name (their records would mix), or one is ``out_dir``.
    """
    names = [osp.basename(osp.normpath(osp.abspath(work_dir))) for work_dir in work_dirs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        clashing = [work_dir for work_dir, name in zip(work_dirs, names) if name == repeated[0]]
        raise InputError(f'WORK_DIRs {clashing} share the folder name {repeated[0]!r}, which names their records '
                         f'in {out_dir}; rename one')
    single = len(work_dirs) == 1
    return [WatchedRun(name, osp.abspath(work_dir), out_dir if single else osp.join(out_dir, name))
            for work_dir, name in zip(work_dirs, names)]


def _stat(path: str) -> tuple:
    stat = os.stat(path)
    return stat.st_size, stat.st_mtime_ns


class _Watch:
    """The polling loop of :func:`watch` (one instance per call)."""

    def __init__(self, runs: List[WatchedRun], benchmarks: Sequence[str], run_benchmark: BenchmarkFn, unit: str,
                 target: int, checkpoint_options: dict, on_step: Callable[[], None], logger):
        self.runs, self.benchmarks, self.run_benchmark = runs, list(benchmarks), run_benchmark
        self.unit, self.target, self.options = unit, target, checkpoint_options
        self.on_step, self.logger = on_step, logger

    def log(self, message: str) -> None:
        print_log(message, self.logger)

    def restore(self) -> None:
        """Read the steps an earlier watcher completed into each run's ``done``."""
        for run in self.runs:
            if not osp.isdir(run.out_dir):
                continue
            for name in sorted(os.listdir(run.out_dir)):
                step = read_step(osp.join(run.out_dir, name)) if name.startswith(f'{self.unit}_') else None
                if step and step.get('unit') == self.unit and set(self.benchmarks) <= set(step['records']):
                    run.done[step['step']] = step
                    run.reference = run.reference or step
            if run.done:
                self.log(f'{run.work_dir}: {len(run.done)} checkpoint(s) benchmarked already: {sorted(run.done)}')

    def finished(self, run: WatchedRun, found: List[Checkpoint]) -> bool:
        """Whether ``run``'s last checkpoint (or a later one) is done, or lost, or known complete beyond it."""
        settled = set(run.done) | run.lost
        if any(step >= self.target for step in settled):
            return True
        below = [c.step for c in found if c.step <= self.target]
        return any(c.step > self.target for c in found) and set(below) <= settled

    def poll(self) -> tuple:
        """One look at every work dir: benchmark what is complete. Returns (progressed, all finished)."""
        progressed, ready = False, []
        listings = {}
        for index, run in enumerate(self.runs):
            found = listings[run.name] = list_checkpoints(run.work_dir)
            other = [c.path for c in found if c.unit != self.unit]
            if other:
                raise InputError(f'{other[0]} is a checkpoint by {found[0].unit}, but the pre-training config '
                                 f'counts its last checkpoint by {self.unit}; give --until STEP of that unit')
            self.forget_vanished(run, found)
            named = last_checkpoint_step(run.work_dir, self.unit)
            for position, checkpoint in enumerate(found):
                if checkpoint.step > self.target:
                    continue
                if checkpoint.step in run.done:
                    self.check_unchanged(run, checkpoint)
                    continue
                if checkpoint.path not in run.pending:
                    run.pending[checkpoint.path] = checkpoint
                    progressed = True
                completion = run.rule.judge(checkpoint, position < len(found) - 1, named)
                if completion.ready:
                    ready.append((checkpoint.step, index, checkpoint, completion.complete))
        for _, index, checkpoint, complete in sorted(ready, key=lambda item: item[:2]):
            progressed |= self.benchmark(self.runs[index], checkpoint, complete)
        return progressed, all(self.finished(run, listings[run.name]) for run in self.runs)

    def forget_vanished(self, run: WatchedRun, found: List[Checkpoint]) -> None:
        """Warn about checkpoints seen earlier, never benchmarked, and gone now."""
        present = {checkpoint.path for checkpoint in found}
        for path, checkpoint in list(run.pending.items()):
            if path not in present:
                self.lose(run, checkpoint, 'it disappeared before it was benchmarked')

    def lose(self, run: WatchedRun, checkpoint: Checkpoint, why: str) -> None:
        """Give up on ``checkpoint`` (gone): warn, naming it; its step stays out of the records and curves."""
        run.pending.pop(checkpoint.path, None)
        run.lost.add(checkpoint.step)
        warnings.warn(f'checkpoint {checkpoint.path}: {why} (deleted by max_keep_ckpts, or by hand?); '
                      f'{checkpoint.name} is missing from the records and curves', CheckpointVanishedWarning)

    def check_unchanged(self, run: WatchedRun, checkpoint: Checkpoint) -> None:
        """Refuse a benchmarked step whose file was replaced since (a new training in the same work dir)."""
        recorded = run.done[checkpoint.step].get('checkpoint') or {}
        try:
            now = _stat(checkpoint.path)
        except FileNotFoundError:
            return  # deleted after it was benchmarked: its records stand
        if recorded.get('size') is not None and now != (recorded['size'], recorded['mtime_ns']):
            raise InputError(
                f'{checkpoint.path} changed since it was benchmarked into {osp.join(run.out_dir, checkpoint.name)} '
                f'(then sha256 {recorded.get("sha256")}, {recorded["size"]} bytes): a new training in the same work '
                'dir? Give another --out, or move that folder away')

    def benchmark(self, run: WatchedRun, checkpoint: Checkpoint, complete: bool) -> bool:
        """Read ``checkpoint`` and benchmark it; ``False`` when it is not readable yet (or gone)."""
        try:
            before = _stat(checkpoint.path)
            weights = BackboneWeights.from_checkpoint(checkpoint.path, **self.options)
            after = _stat(checkpoint.path)
        except FileNotFoundError:
            self.lose(run, checkpoint, 'it disappeared while it was read')
            return False
        except InputError as error:
            if complete:
                raise
            run.unreadable = f'{checkpoint.path} is unchanged over two polls but does not load ({error})'
            return False  # only stable so far (rule 3): a file still being written does not load; wait
        if before != after:
            return False  # rewritten while it was read: read it again at the next poll
        identity = weights_identity(weights.state_dict, read_checkpoint(checkpoint.path).content)
        self.check_identity(run, checkpoint, identity)
        step_dir = osp.join(run.out_dir, checkpoint.name)
        earlier = read_step(step_dir)
        step = dict(run=run.name, unit=checkpoint.unit, step=checkpoint.step, source='checkpoint',
                    checkpoint=dict(path=checkpoint.path, sha256=weights.sha256, size=after[0], mtime_ns=after[1]),
                    identity=identity)
        self.log(f'benchmarking {checkpoint.path} ({", ".join(self.benchmarks)}) into {step_dir}')
        run.done[checkpoint.step] = benchmark_step(weights, self.benchmarks, step_dir, step, self.run_benchmark,
                                                   (earlier or {}).get('records'))
        run.reference = run.reference or run.done[checkpoint.step]
        run.pending.pop(checkpoint.path, None)
        run.unreadable = None
        self.on_step()
        return True

    def check_identity(self, run: WatchedRun, checkpoint: Checkpoint, identity: dict) -> None:
        """Refuse a checkpoint of another training than the run's first benchmarked one, naming both files."""
        if run.reference is None:
            return
        why = describe_difference(run.reference['identity'], identity)
        if why:
            first = (run.reference.get('checkpoint') or {}).get('path', run.reference.get('step'))
            raise InputError(f'{checkpoint.path} and {first} are checkpoints of two different trainings ({why}); '
                             f'a watched work dir must hold one training\'s checkpoints: give each its own '
                             f'WORK_DIR (and --out)')

    def describe_wait(self) -> str:
        parts = []
        for run in self.runs:
            latest = max(run.done, default=None)
            parts.append(f'{run.work_dir} (last benchmarked: '
                         f'{"none" if latest is None else f"{self.unit}_{latest}"}'
                         + (f'; {run.unreadable}' if run.unreadable else '') + ')')
        return f'{", ".join(parts)}; waiting for {self.unit}_{self.target}'


def run_baselines(seeds: Sequence[int], out_dir: str, benchmarks: Sequence[str], run_benchmark: BenchmarkFn,
                  logger=None) -> None:
    """Benchmark the seeded random backbone of each of ``seeds`` into ``OUT/random_init_seed<S>`` (skipped when
    done)."""
    for seed in seeds:
        step_dir = baseline_dir(out_dir, seed)
        earlier = read_step(step_dir)
        if earlier and set(benchmarks) <= set(earlier['records']):
            continue
        print_log(f'benchmarking the random-init backbone of seed {seed} into {step_dir}', logger)
        benchmark_step(BackboneWeights.random(seed), benchmarks, step_dir,
                       dict(run='random init', unit=None, step=None, source='random-init', random_init_seed=seed),
                       run_benchmark, (earlier or {}).get('records'))


def watch(work_dirs: Sequence[str], out_dir: str, benchmarks: Sequence[str], run_benchmark: BenchmarkFn,
          unit: str, target: int, poll: float = 10.0, idle_timeout: float = 1800.0,
          baseline_seeds: Sequence[int] = (), checkpoint_options: Optional[dict] = None,
          on_step: Optional[Callable[[], None]] = None, clock: Callable[[], float] = time.monotonic,
          sleep: Callable[[float], None] = time.sleep) -> List[WatchedRun]:
    """Benchmark every checkpoint ``<unit>_<N>.pth`` (``N <= target``) the trainings in ``work_dirs`` write, each
    once and in order, until each has its ``target`` step done.

    Args:
        work_dirs: the trainings' work dirs (several: e.g. seeds; one line each in the curves).
        out_dir: where the records go (:mod:`.results`); locked for the whole watch.
        benchmarks: registered benchmark names, run in this order on each checkpoint.
        run_benchmark: runs one benchmark: ``(name, weights, work dir) -> record``.
        unit, target: ``'iter'`` / ``'epoch'`` and the step of the last checkpoint to benchmark.
        poll: seconds between two looks at the work dirs.
        idle_timeout: seconds without a new checkpoint after which the watch fails (:class:`IdleTimeoutError`).
        baseline_seeds: seeds of random-init backbones to benchmark first (the curves' band).
        checkpoint_options: how to read the checkpoints (``checkpoint_format``, ``prefix``, ``key_path``).
        on_step: called after each benchmarked step (and the baselines), e.g. to redraw the curves.
        clock, sleep: time source and wait (replaced in tests).

    Returns:
        the watched runs, with every step done.
    """
    logger = MMLogger.get_current_instance()
    on_step = on_step or (lambda: None)
    runs = plan_runs(work_dirs, out_dir)
    with work_dir_lock(out_dir):
        if baseline_seeds:
            run_baselines(baseline_seeds, out_dir, benchmarks, run_benchmark, logger)
            on_step()
        loop = _Watch(runs, benchmarks, run_benchmark, unit, target, dict(checkpoint_options or {}), on_step, logger)
        loop.restore()
        last_progress = clock()
        while True:
            progressed, finished = loop.poll()
            if finished:
                return runs
            if progressed:
                last_progress = clock()
            elif clock() - last_progress > idle_timeout:
                raise IdleTimeoutError(f'no new checkpoint for {idle_timeout:g} s in {loop.describe_wait()}; has the '
                                       'training stopped? Start the watch again to resume (nothing is repeated)')
            sleep(poll)

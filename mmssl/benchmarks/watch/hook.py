"""``BenchmarkHook``: benchmark the backbone inside the training process every N iterations / epochs.

For users without a spare process for ``tools/benchmarks/watch.py``: the hook benchmarks the model's backbone
from its in-memory state dict (no checkpoint file is written or read for it) on the main process, into the same
layout as the watcher (:mod:`.results`; ``OUT`` defaults to ``<work_dir>/watch``), and redraws the curves
(:mod:`.curves`). Meant for the cheap benchmarks (kNN, the cached probe): the training waits meanwhile.
"""
import contextlib
import hashlib
import os.path as osp
import random
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmssl.registry import HOOKS
from mmssl.utils import BackboneWeights
from mmssl.utils.checkpoint.dropped import dropped_tensors
from mmssl.utils.checkpoint_formats import as_tensors, select_backbone
from mmssl.utils.errors import InputError
from mmssl.utils.work_dir_lock import work_dir_lock

from ..suite import load_suite, run_in_process
from .checkpoints import weights_identity
from .curves import write_curves
from .results import benchmark_step, read_step
from .watcher import run_baselines

__all__ = ['BenchmarkHook', 'in_memory_weights']


def _digest(state_dict: dict) -> str:
    """sha256 of the tensors (names, dtypes, shapes and bytes), in name order: the in-memory weights' identity."""
    digest = hashlib.sha256()
    for key in sorted(state_dict):
        tensor = state_dict[key].detach().cpu().contiguous().reshape(-1)  # a 0-dim tensor has no byte view
        digest.update(f'{key}:{tensor.dtype}:{list(tensor.shape)};'.encode())
        digest.update(tensor.view(torch.uint8).numpy().tobytes() if tensor.numel() else b'')
    return digest.hexdigest()


def in_memory_weights(model: torch.nn.Module, label: str) -> BackboneWeights:
    """The backbone of ``model`` (a training's model, as its checkpoints would hold it) as
    :class:`~mmssl.utils.BackboneWeights`, read by the same layouts as a checkpoint file.

    Args:
        model: the model (a wrapper is unwrapped).
        label: stands for the file path in the records (e.g. ``<work_dir>/iter_4 (in memory)``); its ``sha256``
            is the digest of the model's tensors (:func:`_digest`), not of a file.
    """
    model = model.module if is_model_wrapper(model) else model
    state = {key: value.detach().cpu().clone() for key, value in model.state_dict().items()}
    content = dict(state_dict=state)
    selected, layout = select_backbone(content, label)
    return BackboneWeights(label, _digest(state), layout, state_dict=as_tensors(selected),
                           dropped=dropped_tensors(content, selected.values()))


@contextlib.contextmanager
def _training_randomness_kept():
    """Keep torch's, numpy's and Python's random states: the benchmarks' data loaders draw from them, and a
    training with the hook must draw the same numbers as one without it."""
    python_state, numpy_state = random.getstate(), np.random.get_state()
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        try:
            yield
        finally:
            random.setstate(python_state)
            np.random.set_state(numpy_state)


@HOOKS.register_module()
class BenchmarkHook(Hook):
    """Run benchmarks of a suite on the training's backbone every ``interval`` iterations (or epochs).

    Args:
        suite: the suite file (YAML: benchmark -> config; ``configs/benchmarks/suites``).
        benchmarks: names of the suite's benchmarks to run, in order (cheap ones: ``knn``, ``probe``).
        interval: every that many iterations (epochs with ``by_epoch``); the last step always.
        by_epoch: count epochs instead of iterations.
        initial: also benchmark the initial weights (step 0) before the first training step.
        out_dir: the records' folder (default ``<work_dir>/watch``); the hook holds its lock during training.
        baseline_seeds: seeds of random-init backbones to benchmark once at the start (the curves' band).

    Runs on the main process of a training that has no process group (the benchmarks open and close their own);
    a distributed training is refused before its first step: watch it with ``tools/benchmarks/watch.py``.
    """
    priority = 'VERY_LOW'  # after the checkpoint hook of the same step

    def __init__(self, suite: str, benchmarks: Sequence[str] = ('knn', ), interval: int = 1, by_epoch: bool = False,
                 initial: bool = True, out_dir: Optional[str] = None, baseline_seeds: Sequence[int] = ()):
        if not isinstance(interval, int) or isinstance(interval, bool) or interval < 1:
            raise InputError(f'BenchmarkHook: interval must be an integer >= 1, got {interval!r}')
        self.suite_file, self.benchmarks = suite, list(benchmarks)
        self.interval, self.by_epoch, self.initial = interval, by_epoch, initial
        self.out_dir, self.baseline_seeds = out_dir, list(baseline_seeds)
        self._suite = None
        self._lock = contextlib.ExitStack()

    def before_train(self, runner) -> None:
        """Check the suite and the setting, take the lock of the out dir, run the baselines and step 0."""
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            raise InputError('BenchmarkHook runs its benchmarks in the training process, which a distributed '
                             'training shares with its process group; watch a distributed training with '
                             'tools/benchmarks/watch.py instead')
        self._suite = load_suite(self.suite_file)
        missing = [name for name in self.benchmarks if name not in self._suite]
        if missing:
            raise InputError(f'BenchmarkHook: benchmarks {missing} have no config in the suite {self.suite_file}')
        self.out_dir = osp.abspath(self.out_dir or osp.join(runner.work_dir, 'watch'))
        if not is_main_process():
            return
        self._lock.enter_context(work_dir_lock(self.out_dir))
        if self.baseline_seeds:
            with _training_randomness_kept():
                run_baselines(self.baseline_seeds, self.out_dir, self.benchmarks, self._run_one(runner),
                              runner.logger)
        if self.initial and runner.iter == 0 and runner.epoch == 0:
            self._benchmark(runner, 0)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        """Every ``interval`` iterations and at the last one (unless ``by_epoch``)."""
        if not self.by_epoch and (self.every_n_train_iters(runner, self.interval)
                                  or self.is_last_train_iter(runner)):
            self._benchmark(runner, runner.iter + 1)

    def after_train_epoch(self, runner) -> None:
        """Every ``interval`` epochs and at the last one (with ``by_epoch``)."""
        if self.by_epoch and (self.every_n_epochs(runner, self.interval) or self.is_last_train_epoch(runner)):
            self._benchmark(runner, runner.epoch + 1)

    def after_run(self, runner) -> None:
        """Release the out dir's lock."""
        self._lock.close()

    def _run_one(self, runner):
        pretrain_config = runner.cfg.filename if runner.cfg.filename else None

        def run_one(name: str, weights: BackboneWeights, work_dir: str) -> dict:
            return run_in_process(name, self._suite[name], weights, work_dir, pretrain_config)

        return run_one

    def _benchmark(self, runner, step: int) -> None:
        if not is_main_process():
            return
        unit = 'epoch' if self.by_epoch else 'iter'
        step_dir = osp.join(self.out_dir, f'{unit}_{step}')
        done = read_step(step_dir)
        if done and set(self.benchmarks) <= set(done['records']):
            return
        weights = in_memory_weights(runner.model, f'{osp.abspath(runner.work_dir)}/{unit}_{step} (in memory)')
        record = dict(run=osp.basename(osp.normpath(osp.abspath(runner.work_dir))), unit=unit, step=step,
                      source='hook', checkpoint=dict(path=weights.path, sha256=weights.sha256),
                      identity=weights_identity(weights.state_dict))
        runner.logger.info(f'BenchmarkHook: {", ".join(self.benchmarks)} at {unit} {step} into {step_dir}')
        with _training_randomness_kept():
            benchmark_step(weights, self.benchmarks, step_dir, record, self._run_one(runner),
                           (done or {}).get('records'))
        write_curves(self.out_dir)

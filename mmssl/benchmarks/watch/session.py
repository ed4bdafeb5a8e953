"""One watch of trainings from their configs and a suite: what ``tools/benchmarks/watch.py`` runs.

:func:`watch_training` checks every input before any work (the pre-training config and its last step, the suite
and the benchmarks in it, the work dirs' names), then runs :func:`.watcher.watch` with the suite's benchmarks run in
this process (:func:`mmssl.benchmarks.suite.run_in_process`) and redraws the curves after each step.
"""
import os.path as osp
from typing import Dict, Optional, Sequence

from mmssl.utils import setup_runtime
from mmssl.utils.errors import InputError

from ..suite import REPO_ROOT, load_suite, run_in_process
from .checkpoints import final_step
from .curves import write_curves
from .watcher import plan_runs, watch

__all__ = ['watch_training', 'default_out_dir']


def default_out_dir(work_dirs: Sequence[str]) -> str:
    """``<WORK_DIR>/watch`` for one work dir; several need an explicit one.

    Raises:
        InputError: several work dirs and no ``--out``.
    """
    if len(work_dirs) != 1:
        raise InputError(f'{len(work_dirs)} WORK_DIRs need --out OUT_DIR (their records and curves go there)')
    return osp.join(osp.abspath(work_dirs[0]), 'watch')


def watch_training(work_dirs: Sequence[str], pretrain_config: str, suite_file: str, benchmarks: Sequence[str],
                   out_dir: Optional[str] = None, until: Optional[int] = None, poll: float = 10.0,
                   idle_timeout: float = 1800.0, baseline_seeds: Sequence[int] = (),
                   checkpoint_options: Optional[dict] = None, recompute: bool = False,
                   root: str = REPO_ROOT) -> Dict[str, Optional[str]]:
    """Benchmark each checkpoint of the trainings in ``work_dirs`` as they write them, then write the curves.

    Args:
        work_dirs: the trainings' work dirs (several: one line each, e.g. seeds of one config).
        pretrain_config: their config; its ``train_cfg.max_iters`` / ``max_epochs`` is the last step.
        suite_file: the suite (benchmark -> config) whose ``benchmarks`` run on each checkpoint.
        out_dir: records and curves (default: ``<WORK_DIR>/watch`` for one work dir).
        until: the last step to benchmark instead of the config's.
        poll, idle_timeout: seconds between looks; seconds without a new checkpoint before failing.
        baseline_seeds: random-init backbones to benchmark too (the curves' band).
        checkpoint_options: ``checkpoint_format`` / ``prefix`` / ``key_path`` for the checkpoints.
        recompute: passed to the benchmarks that take it.
        root: the repository the suite file's relative configs are looked up in.

    Returns:
        ``{'table': OUT/curves.md, 'figure': OUT/curves.png or None}``.
    """
    unit, target = final_step(osp.abspath(pretrain_config))
    if until is not None:
        if until < 0:
            raise InputError(f'--until {until}: expected a step >= 0')
        target = until
    suite = load_suite(osp.abspath(suite_file), None, root)
    missing = [name for name in benchmarks if name not in suite]
    if missing:
        raise InputError(f'benchmarks {missing} have no config in the suite {suite_file}; it has {sorted(suite)}')
    if poll <= 0 or idle_timeout <= 0:
        raise InputError(f'--poll {poll} and --idle-timeout {idle_timeout} must be > 0 seconds')
    out_dir = osp.abspath(out_dir or default_out_dir(work_dirs))
    plan_runs(work_dirs, out_dir)  # clashing names fail here, before any work
    setup_runtime()
    config = osp.abspath(pretrain_config)

    def run_one(name, weights, work_dir):
        return run_in_process(name, suite[name], weights, work_dir, config, recompute)

    watch(work_dirs, out_dir, benchmarks, run_one, unit, target, poll, idle_timeout, baseline_seeds,
          checkpoint_options, on_step=lambda: write_curves(out_dir))
    return write_curves(out_dir)

"""An exclusive lock on a work dir, so that two runs never write into the same folder at once.

Two ``train.py`` (or two benchmarks) started on one work dir used to overwrite each other's checkpoints and mix
their results. :func:`work_dir_lock` takes a non-blocking ``fcntl.flock`` on ``<work_dir>/.lock`` and writes the
holder's pid, command line and start time into it; a second run fails at once, naming the holder.

- The kernel drops a flock when its process dies, so the file a killed run leaves behind is no obstacle.
- The lock is re-entrant within one process for the same folder (a benchmark locks its work dir, then the
  training it runs locks it again); different folders are independent locks, so nested runs in sub-folders
  (the semi-sup grid) and benchmark subprocesses in their own folders (the suite) do not deadlock.
- In a distributed run only rank 0 locks (:func:`is_rank_zero`): all ranks share the folder.

Every run takes the lock before any work, so it is also where a work dir whose path is not UTF-8 is refused
(:func:`check_work_dir_path`): mmengine writes the path into text files (``last_checkpoint``, logs) as UTF-8,
and such a run used to die at its first checkpoint save.
"""
import contextlib
import datetime
import fcntl
import json
import os
import os.path as osp
import shlex
import sys
from typing import Dict, Iterator, List

from .errors import InputError

__all__ = ['LOCK_FILE', 'WorkDirLockedError', 'work_dir_lock', 'is_rank_zero', 'check_work_dir_path']

LOCK_FILE = '.lock'

# realpath of a locked work dir -> [file descriptor, depth, created]: the locks this process holds
_held: Dict[str, List[int]] = {}


class WorkDirLockedError(RuntimeError):
    """Another process holds the lock of the work dir."""


def is_rank_zero() -> bool:
    """Whether this process is rank 0 of its job (or not distributed): the one that locks a shared work dir.

    Read from the launcher's environment, because the lock is taken before the Runner opens a process group.
    """
    for variable in ('RANK', 'SLURM_PROCID', 'OMPI_COMM_WORLD_RANK'):
        if os.environ.get(variable, '').strip():
            return int(os.environ[variable]) == 0
    return True


def check_work_dir_path(work_dir: str) -> None:
    """Raise :class:`InputError` naming ``work_dir`` (its bytes) when its path is not valid UTF-8.

    Python hands such a name over with lone surrogates (``os.fsdecode(b'work_\\xff')``), which no UTF-8 text file
    can hold: mmengine's ``last_checkpoint`` and log lines would fail at the first checkpoint save, after the work.
    """
    path = os.path.abspath(os.fspath(work_dir))
    try:
        path.encode('utf-8')
    except UnicodeEncodeError:
        raise InputError(f'work dir {os.fsencode(path)!r} is not a UTF-8 path: training writes it into UTF-8 text '
                         f'files (last_checkpoint, logs) and would fail at its first checkpoint save; give a '
                         f'--work-dir whose path is UTF-8 (rename the folder)') from None


def _holder_info() -> dict:
    return dict(pid=os.getpid(), command=shlex.join(sys.argv) if sys.argv else sys.executable,
                started=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'))


def _describe_holder(path: str) -> str:
    """What the lock file says about its holder, for the error message (it may be half-written: say so)."""
    try:
        with open(path) as f:
            holder = json.load(f)
        return f"pid {holder['pid']} ({holder['command']}), started {holder['started']}"
    except (OSError, ValueError, KeyError, TypeError):
        return f'a process that has not written its details to {path} yet'


def _acquire(work_dir: str) -> int:
    os.makedirs(work_dir, exist_ok=True)  # the caller notes whether it existed: see _release
    path = osp.join(work_dir, LOCK_FILE)
    # Not O_TRUNC: the file of a live holder must keep its details until we hold the lock ourselves.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise WorkDirLockedError(
            f'work dir {work_dir} is in use by another run: {_describe_holder(path)}. Two runs in one work dir '
            'overwrite each other\'s checkpoints and results; wait for it to finish or pass another --work-dir '
            f'(lock file {path})') from None
    os.ftruncate(fd, 0)
    os.write(fd, json.dumps(_holder_info()).encode())
    os.fsync(fd)
    return fd


def _release(fd: int, work_dir: str, created: bool) -> None:
    try:
        os.ftruncate(fd, 0)  # before unlocking, so that nobody reads a finished run as the holder
        if created and os.listdir(work_dir) == [LOCK_FILE]:
            # A run refused before any work leaves nothing behind, not a folder holding only the lock file.
            os.remove(osp.join(work_dir, LOCK_FILE))
            os.rmdir(work_dir)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@contextlib.contextmanager
def work_dir_lock(work_dir: str, enabled: bool = True) -> Iterator[None]:
    """Hold the exclusive lock of ``work_dir`` (created if needed) for the ``with`` block.

    Args:
        work_dir: the folder the run writes into.
        enabled: ``False`` makes this a no-op (e.g. ``is_rank_zero()`` on the other ranks).

    Raises:
        WorkDirLockedError: another process holds it; the message names the folder and the holder's pid and
            command line.
        InputError: the path of ``work_dir`` is not UTF-8 (:func:`check_work_dir_path`), on every rank.
    """
    check_work_dir_path(work_dir)
    if not enabled:
        yield
        return
    key = osp.realpath(work_dir)
    if key in _held:
        _held[key][1] += 1
    else:
        created = not osp.isdir(key)
        _held[key] = [_acquire(key), 1, created]
    try:
        yield
    finally:
        _held[key][1] -= 1
        if _held[key][1] == 0:
            fd, _, created = _held.pop(key)
            _release(fd, key, created)

"""Atomic file writes: a temp file in the same folder, flushed, then renamed over the target.

A run killed while mmengine wrote ``iter_8.pth`` used to leave a truncated file under the final name, which the
next ``--resume`` then tried to load. Renaming within one folder is atomic on POSIX file systems, so a reader sees
either the old file or the complete new one. :func:`use_atomic_local_writes` makes every write of mmengine's local
file backend (checkpoints, ``Runner.save_checkpoint`` → ``save_checkpoint`` → ``put``) go this way.
"""
import os
import os.path as osp
import tempfile
from pathlib import Path
from typing import Union

from mmengine.fileio.backends import LocalBackend, register_backend

__all__ = ['atomic_write_bytes', 'atomic_write_text', 'AtomicLocalBackend', 'use_atomic_local_writes']

PathLike = Union[str, Path]


def atomic_write_bytes(path: PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (its folder is created); a failed write leaves no temp file."""
    path = str(path)
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    # Same folder as the target: a rename across file systems would not be atomic.
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f'.{osp.basename(path)}.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; checkpoints are shared like any other output
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_text(path: PathLike, text: str, encoding: str = 'utf-8') -> None:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode(encoding))


class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend whose ``put`` / ``put_text`` write atomically."""

    def put(self, obj: bytes, filepath: PathLike) -> None:
        """Write bytes to ``filepath`` through a temp file and a rename."""
        atomic_write_bytes(filepath, obj)

    def put_text(self, obj: str, filepath: PathLike, encoding: str = 'utf-8') -> None:
        """Write text to ``filepath`` through a temp file and a rename."""
        atomic_write_text(filepath, obj, encoding)


def use_atomic_local_writes() -> None:
    """Make :class:`AtomicLocalBackend` mmengine's backend of local paths (its documented ``register_backend``)."""
    register_backend('local', AtomicLocalBackend, force=True, prefixes='')

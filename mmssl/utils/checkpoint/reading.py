"""Reading a checkpoint file: once per process, hashed, unpickled weights-only (or, for a detectron2 ``.pkl``, by a
restricted unpickler that accepts numpy arrays and plain containers only).

The weights-only read also accepts ``argparse.Namespace``, the options DINO, iBOT and MAE save beside their weights
(``args``): it is rebuilt from its attribute dict without running code, and its values pass the same restriction.
The class is allowed for this read only (``torch.serialization.safe_globals``), never in torch's process-wide list.

:func:`read_checkpoint` is also mmengine's loader of local files (:func:`use_for_mmengine`), so ``load_from``,
resume and mmdet's / mmseg's ``init_cfg=dict(type='Pretrained')`` reuse the same read.
"""
import argparse
import errno
import hashlib
import importlib
import io
import os
import os.path as osp
import pickle
import re
import warnings
from dataclasses import dataclass
from typing import Any, Dict, Optional

import torch

from ..checkpoint_formats import flat_state_dict
from ..errors import CheckpointMismatchError
from ..torch_serialization import checkpoint_safe_globals

BACKBONE_PREFIX = 'backbone.'
DDP_PREFIX = 'module.'


@dataclass(frozen=True)
class CheckpointFile:
    """A checkpoint file as read from disk, once.

    Attributes:
        path: absolute path.
        sha256: digest of the file's bytes (the result record's checkpoint hash).
        content: the unpickled object (mmengine checkpoint dict, plain state dict, ...).
    """
    path: str
    sha256: str
    content: Any

    @property
    def state_dict(self) -> Dict[str, torch.Tensor]:
        """The flat tensor dict: ``content['state_dict']``, ``content['model']`` or ``content`` itself; a file whose
        ``state_dict`` and ``model`` hold different weights is refused (``--checkpoint-key`` picks one)."""
        if not isinstance(self.content, dict):
            raise CheckpointMismatchError(
                f'{self.path}: expected a dict checkpoint, got {type(self.content).__name__}')
        return flat_state_dict(self.content, self.path)

    def record(self) -> dict:
        """How a result record names this checkpoint."""
        return dict(path=self.path, sha256=self.sha256)


# The one memo of this package: the latest file read, keyed by (path, mtime, size). A benchmark run reads its
# checkpoint when the command line is parsed and again when mmengine's Runner (or mmdet / mmseg) loads it through
# ``init_cfg`` / ``load_from``; the memo makes that one read of the file's bytes. It holds the read only (bytes'
# hash and unpickled content), never a load report or converted weights.
_last_read: Dict[tuple, CheckpointFile] = {}


def _read_bytes(path: str) -> bytes:
    with open(path, 'rb') as f:
        return f.read()


class _ArraysOnlyUnpickler(pickle.Unpickler):
    """Unpickles plain containers, numbers, strings and numpy arrays, and refuses every other global, so that
    a ``.pkl`` (detectron2's format) can never run code: ``__reduce__`` payloads name a global to call."""

    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED_PICKLE_GLOBALS:
            return getattr(importlib.import_module(module), name)
        raise pickle.UnpicklingError(f'global {module}.{name} is not allowed (a detectron2 .pkl holds only numpy '
                                     'arrays and plain containers)')


# numpy 1 pickles name numpy.core.*, numpy 2 numpy._core.*; both import under numpy 2.
_ALLOWED_PICKLE_GLOBALS = {(module, name) for module in ('numpy.core.multiarray', 'numpy._core.multiarray')
                           for name in ('_reconstruct', 'scalar')} | {('numpy', 'ndarray'), ('numpy', 'dtype'),
                                                                      ('collections', 'OrderedDict')}


# Allowed in the weights-only read beyond torch's own list: the training options that DINO's, iBOT's and MAE's full
# checkpoints keep under 'args' (attributes only; no constructor or __reduce__ runs).
_ALLOWED_TORCH_GLOBALS = (argparse.Namespace, )


def _allowed_torch_globals() -> list:
    # mmengine's own checkpoints hold its message hub too; allowed for this read as well, so that a reader need not
    # have called setup_runtime() (which allow-lists them process-wide for mmengine's loaders). Only the ones not
    # already allowed: torch's context manager removes on exit every global it was given.
    allowed = torch.serialization.get_safe_globals()
    return [entry for entry in (*_ALLOWED_TORCH_GLOBALS, *checkpoint_safe_globals()) if entry not in allowed]


LFS_POINTER = b'version https://git-lfs'


def _not_a_checkpoint(data: bytes, path: str) -> Optional[str]:
    """Why ``data`` cannot be a checkpoint at all (empty, a Git LFS pointer), or None.

    torch's own message for these ("weights_only=False will likely succeed") sends users the wrong way.
    """
    if not data:
        return f'{path}: the file is empty (0 bytes), not a checkpoint; an interrupted copy or download? Copy it again'
    if data.startswith(LFS_POINTER):
        return (f'{path}: a Git LFS pointer file ({len(data)} bytes), not the checkpoint it stands for; run '
                '`git lfs pull` in its repository (or download the file itself) to get the weights')
    return None


def _text_file(data: bytes, path: str) -> Optional[str]:
    """What a file that neither loader could read is, when it is text (asked only after both failed: a protocol-0
    pickle is text too)."""
    head = data[:1024]
    if b'\0' not in head:
        try:
            first_line = head.decode('utf-8').splitlines()[0] if head.strip() else ''
        except UnicodeDecodeError:
            return None  # binary: a pickle or an archive, judged by the loaders
        return (f'{path}: a text file ({len(data)} bytes, first line {first_line[:80]!r}), not a checkpoint; '
                'expected a .pth / .pth.tar / .torch file or a detectron2 .pkl')
    return None


def _refused_by_weights_only(message: str) -> Optional[str]:
    """What torch's weights-only unpickler refused (``'the global mypackage.TrainerOptions'``), or None when ``message``
    is not such a refusal (a damaged file). Its wording differs between a global off the allow-list and one of a
    blocked module (``posix.system``); both are a file's content, never damage."""
    if 'Weights only load failed' not in message and 'WeightsUnpickler error' not in message:
        return None
    found = re.search(r'GLOBAL ([\w.]+?)\.?(?:\s|$)', message)
    if found:
        return f'the global {found[1]}'
    details = [line.strip() for line in message.splitlines() if 'WeightsUnpickler error' in line]
    return f'an object ({details[0].split("error:", 1)[-1].strip()})' if details else 'an object it does not allow'


def _unpickle(data: bytes, path: str) -> Any:
    """A torch checkpoint (zip or legacy, weights-only) or else a plain pickle of arrays (restricted)."""
    problem = _not_a_checkpoint(data, path)
    if problem:
        raise CheckpointMismatchError(problem)
    try:
        with warnings.catch_warnings():
            # torch warns about the pickle protocol of a plain (detectron2) pickle before refusing it
            warnings.filterwarnings('ignore', message='Detected pickle protocol')
            with torch.serialization.safe_globals(_allowed_torch_globals()):
                return torch.load(io.BytesIO(data), map_location='cpu', weights_only=True)
    except Exception as torch_error:  # torch raises UnpicklingError, RuntimeError, EOFError ... for a bad file
        if data[:2] == b'PK':  # a (damaged) torch zip archive, not a plain pickle
            reason = torch_error
        else:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter('ignore', DeprecationWarning)  # numpy.core under numpy 2
                    return _ArraysOnlyUnpickler(io.BytesIO(data)).load()
            except Exception as pickle_error:  # UnpicklingError, EOFError, ValueError ... for a bad file
                reason = pickle_error
    detail = str(reason).splitlines()[0] if str(reason) else 'no detail'
    text = _text_file(data, path)
    if text:
        raise CheckpointMismatchError(text)
    refused = _refused_by_weights_only(str(reason))
    if refused:
        # torch suggests weights_only=False or allow-listing the global here; mmssl never unpickles arbitrary objects
        raise CheckpointMismatchError(
            f'{path}: holds {refused}, which a weights-only load refuses; mmssl does not unpickle arbitrary objects. '
            'Save the tensors only, where the file was written (with code you trust): checkpoint = torch.load(FILE, '
            "weights_only=False); torch.save({'state_dict': checkpoint['state_dict']}, 'weights.pth') (or the model's "
            'state_dict())')
    if data[:2] == b'PK':
        raise CheckpointMismatchError(
            f'{path}: a damaged or truncated torch checkpoint ({len(data)} bytes; {type(reason).__name__}: '
            f'{detail.split(". ")[0]}); a run killed while saving, or an incomplete copy? Use the previous '
            'checkpoint or copy the file again')
    raise CheckpointMismatchError(
        f'{path}: cannot be read as a weights-only torch checkpoint or a pickle of numpy arrays '
        f'({type(reason).__name__}: {detail}); expected a .pth / .pth.tar / .torch file or a detectron2 .pkl')


def _require_file(path: str, what: str = 'checkpoint') -> None:
    """Refuse a ``path`` that is not a readable file, saying what it is instead.

    Raises:
        FileNotFoundError: nothing is there (or a symlink points at nothing); names what it points at.
        CheckpointMismatchError: a directory (its checkpoint-like files named) or a symlink loop.
    """
    if osp.isfile(path):
        return
    if osp.isdir(path):
        inside = sorted(name for name in os.listdir(path)
                        if name.endswith(('.pth', '.pth.tar', '.torch', '.pkl', '.pt', '.ckpt')))
        hint = (f'; checkpoint files in it: {", ".join(inside[:5])}{" ..." if len(inside) > 5 else ""}' if inside
                else '; it holds no .pth / .pth.tar / .torch / .pkl file')
        raise CheckpointMismatchError(f'{what} {path} is a directory, not a file; pass the checkpoint file{hint}')
    if osp.islink(path):
        try:
            os.stat(path)
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise CheckpointMismatchError(f'{what} {path} is a symlink loop (it points to {os.readlink(path)}, '
                                              'which leads back to it, never to a file); point it at the checkpoint '
                                              'file')
        raise FileNotFoundError(f'{what} {path} is a symlink to {os.readlink(path)}, which does not exist')
    if osp.exists(path):
        raise CheckpointMismatchError(f'{what} {path} is not a regular file (a device, socket or pipe)')
    raise FileNotFoundError(f'{what} {path} does not exist')


def read_checkpoint(path: str) -> CheckpointFile:
    """Read ``path`` (weights-only) and hash it; a second call for the unchanged file returns the same read.

    Only the latest file is kept, so a process holds at most one checkpoint in memory besides its model.

    Raises:
        FileNotFoundError: nothing is at ``path``.
        CheckpointMismatchError: ``path`` is a directory or a symlink loop, or the file is not a weights-only torch
            checkpoint; the message names it.
    """
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise CheckpointMismatchError(f'expected the path of a checkpoint file, got {path!r}')
    path = osp.abspath(str(path))
    _require_file(path)
    stat = os.stat(path)
    key = (path, stat.st_mtime_ns, stat.st_size)
    if key in _last_read:
        return _last_read[key]
    data = _read_bytes(path)
    content = _unpickle(data, path)
    _last_read.clear()
    _last_read[key] = CheckpointFile(path, hashlib.sha256(data).hexdigest(), content)
    return _last_read[key]


def checkpoint_record(path: str) -> dict:
    """``{'path', 'sha256'}`` of a checkpoint file for a result record: the hash of the read that loaded it (when
    this process read it), else of the file's bytes (e.g. features extracted by another process)."""
    path = osp.abspath(str(path))
    _require_file(path)
    stat = os.stat(path)
    cached = _last_read.get((path, stat.st_mtime_ns, stat.st_size))
    return cached.record() if cached else dict(path=path, sha256=hashlib.sha256(_read_bytes(path)).hexdigest())


def load_checkpoint_state_dict(filename: str) -> Dict[str, torch.Tensor]:
    """The flat state dict of a checkpoint file (see :attr:`CheckpointFile.state_dict`)."""
    return read_checkpoint(filename).state_dict


def _mmengine_local_loader(filename: str, map_location=None):
    return read_checkpoint(filename).content


def use_for_mmengine() -> None:
    """Make :func:`read_checkpoint` mmengine's loader of local files (its documented ``register_scheme``).

    Tensors come back on the CPU whatever ``map_location`` says; mmengine copies them into the model's device.
    """
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(prefixes='', loader=_mmengine_local_loader, force=True)


def select_prefix(state_dict: Dict[str, torch.Tensor], prefix: str) -> Dict[str, torch.Tensor]:
    """Keep the entries under ``prefix`` (e.g. ``'backbone.'``) with the prefix stripped."""
    if prefix and not prefix.endswith('.'):
        prefix += '.'
    return {key[len(prefix):]: value for key, value in state_dict.items() if key.startswith(prefix)}


def strip_ddp_prefix(state_dict: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Drop the ``module.`` of a state dict saved from a DistributedDataParallel wrapper (every key has it)."""
    if state_dict and all(key.startswith(DDP_PREFIX) for key in state_dict):
        return select_prefix(state_dict, DDP_PREFIX)
    return state_dict


def require_prefixed_checkpoint(checkpoint: str, prefix: str = BACKBONE_PREFIX) -> Dict[str, torch.Tensor]:
    """Read ``checkpoint`` and return its entries under ``prefix`` (prefix stripped); refuse anything else.

    Dense benchmarks take a full mmssl pre-training checkpoint (as the train tool writes it, keys
    ``backbone.*``, ``neck.*``, ...). A backbone-only file (``conv1.weight`` ...) is refused rather than guessed
    at, so the same file always loads the same way in every benchmark config.

    Raises:
        FileNotFoundError: ``checkpoint`` is not a file.
        CheckpointMismatchError: no key starts with ``prefix``.
    """
    if not isinstance(checkpoint, str) or not checkpoint:
        raise CheckpointMismatchError(f'expected the path of a pre-training checkpoint, got {checkpoint!r}')
    _require_file(checkpoint, 'pre-trained checkpoint')
    state_dict = load_checkpoint_state_dict(checkpoint)
    selected = select_prefix(state_dict, prefix)
    if not selected:
        hint = ''
        if 'conv1.weight' in state_dict or 'stem.0.weight' in state_dict:
            hint = (' It looks like a backbone-only file; pass the pre-training checkpoint itself (work_dirs/.../'
                    f'epoch_N.pth) or re-add the prefix: {{"state_dict": {{"{prefix}" + key: value}}}}.')
        raise CheckpointMismatchError(
            f'{checkpoint}: expected a full mmssl pre-training checkpoint with "{prefix}"-prefixed keys, but no key '
            f'starts with "{prefix}" (keys e.g.: {", ".join(list(state_dict)[:5]) or "none"}).{hint}')
    return selected

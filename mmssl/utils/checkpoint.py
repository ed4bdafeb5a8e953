"""The one checkpoint loader of mmssl: read a file once, load it into a module by one policy, report one way.

Earlier toolboxes loaded a full algorithm checkpoint (``backbone.*`` keys) into a bare backbone with
``strict=False``, matched nothing and silently evaluated a random network; mmdet / mmseg do the same for a
checkpoint of another stem. Every path in mmssl goes through this module:

- :func:`read_checkpoint` reads a file once per process (the bytes are hashed for the result record and then
  unpickled weights-only); it is also mmengine's loader of local files (:func:`use_for_mmengine`), so
  ``load_from``, resume and mmdet's / mmseg's ``init_cfg=dict(type='Pretrained')`` reuse the same read.
- :func:`load_state_dict_checked` / :func:`load_checkpoint_checked` / :func:`load_backbone` copy matching entries
  into a module and refuse a checkpoint that barely fits; :func:`verify_loaded_weights` checks a module that
  another toolbox initialised. Both return a :class:`LoadReport`.
- :func:`init_random_backbone` draws the seeded random network of the baseline row; the ``SeededRandom``
  initialiser (:mod:`mmssl.models.utils.checked_init`) draws the same one inside the Runner.
"""
import hashlib
import importlib
import io
import logging
import os
import os.path as osp
import pickle
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.logging import MMLogger, print_log

from mmssl.constants import RANDOM_INIT, RANDOM_INIT_SEED

from .checkpoint_formats import backbone_state_dict, flat_state_dict

__all__ = ['CheckpointMismatchError', 'CheckpointFile', 'LoadReport', 'read_checkpoint', 'checkpoint_record',
           'load_checkpoint_state_dict', 'last_load_report',
           'select_prefix', 'load_state_dict_checked', 'load_checkpoint_checked',
           'load_backbone', 'read_backbone', 'import_checkpoint', 'init_random_backbone', 'parse_checkpoint_arg',
           'require_prefixed_checkpoint',
           'compare_module_weights', 'verify_loaded_weights', 'use_for_mmengine']

BACKBONE_PREFIX = 'backbone.'
DDP_PREFIX = 'module.'


class CheckpointMismatchError(RuntimeError):
    """A checkpoint that cannot be read, or whose keys do not fit the module it is meant for."""


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
        """The flat tensor dict: ``content['state_dict']``, ``content['model']`` or ``content`` itself."""
        if not isinstance(self.content, dict):
            raise CheckpointMismatchError(
                f'{self.path}: expected a dict checkpoint, got {type(self.content).__name__}')
        return flat_state_dict(self.content)

    def record(self) -> dict:
        """How a result record names this checkpoint."""
        return dict(path=self.path, sha256=self.sha256)


_last_read: Dict[tuple, CheckpointFile] = {}
_last_reports: Dict[str, 'LoadReport'] = {}
_last_backbone: Dict[tuple, Tuple[Dict[str, torch.Tensor], str]] = {}


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


def _unpickle(data: bytes, path: str) -> Any:
    """A torch checkpoint (zip or legacy, weights-only) or else a plain pickle of arrays (restricted)."""
    problem = _not_a_checkpoint(data, path)
    if problem:
        raise CheckpointMismatchError(problem)
    try:
        with warnings.catch_warnings():
            # torch warns about the pickle protocol of a plain (detectron2) pickle before refusing it
            warnings.filterwarnings('ignore', message='Detected pickle protocol')
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
    refused = [line.strip() for line in str(reason).splitlines() if 'WeightsUnpickler error' in line]
    if refused:
        # torch suggests weights_only=False here; mmssl never unpickles arbitrary objects
        raise CheckpointMismatchError(
            f'{path}: holds objects that a weights-only load refuses ({refused[0]}); mmssl does not unpickle '
            'arbitrary objects: save the tensors only (its state_dict), e.g. with tools/model_converters')
    if data[:2] == b'PK':
        raise CheckpointMismatchError(
            f'{path}: a damaged or truncated torch checkpoint ({len(data)} bytes; {type(reason).__name__}: '
            f'{detail.split(". ")[0]}); a run killed while saving, or an incomplete copy? Use the previous '
            'checkpoint or copy the file again')
    raise CheckpointMismatchError(
        f'{path}: cannot be read as a weights-only torch checkpoint or a pickle of numpy arrays '
        f'({type(reason).__name__}: {detail}); expected a .pth / .pth.tar / .torch file or a detectron2 .pkl')


def read_checkpoint(path: str) -> CheckpointFile:
    """Read ``path`` (weights-only) and hash it; a second call for the unchanged file returns the same read.

    Only the latest file is kept, so a process holds at most one checkpoint in memory besides its model.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        CheckpointMismatchError: the file is not a weights-only torch checkpoint; the message names it.
    """
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise CheckpointMismatchError(f'expected the path of a checkpoint file, got {path!r}')
    path = osp.abspath(str(path))
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint {path} does not exist')
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
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint {path} does not exist')
    stat = os.stat(path)
    cached = _last_read.get((path, stat.st_mtime_ns, stat.st_size))
    return cached.record() if cached else dict(path=path, sha256=hashlib.sha256(_read_bytes(path)).hexdigest())


def load_checkpoint_state_dict(filename: str) -> Dict[str, torch.Tensor]:
    """The flat state dict of a checkpoint file (see :attr:`CheckpointFile.state_dict`)."""
    return read_checkpoint(filename).state_dict


def _mmengine_local_loader(filename: str, map_location=None):
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
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


def _strip_ddp_prefix(state_dict: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    if state_dict and all(key.startswith(DDP_PREFIX) for key in state_dict):
        return select_prefix(state_dict, DDP_PREFIX)
    return state_dict


@dataclass
class LoadReport:
    """How a module's keys relate to the checkpoint entries meant for it.

    A load (``mode='load'``) sorts every module key into ``matched`` (copied), ``missing`` (no entry) or
    ``shape_mismatched`` (an entry of another shape, not copied); ``unexpected`` checkpoint keys have no place in
    the module. A verification (``mode='compare'``) of a module that was initialised elsewhere puts keys holding
    exactly the checkpoint's values in ``matched`` and same-shaped keys with other values in ``different``;
    ``new`` are layers the benchmark adds on top of the pre-trained network (not counted).
    """
    source: str = 'state dict'
    prefix: Optional[str] = None
    format: Optional[str] = None
    mode: str = 'load'
    matched: List[str] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    shape_mismatched: List[str] = field(default_factory=list)
    different: List[str] = field(default_factory=list)
    new: List[str] = field(default_factory=list)
    first_key: str = ''

    @property
    def num_module_keys(self) -> int:
        return len(self.matched) + len(self.missing) + len(self.shape_mismatched) + len(self.different)

    num_keys = num_module_keys

    @property
    def match_ratio(self) -> float:
        return len(self.matched) / max(self.num_module_keys, 1)

    @property
    def input_layer_loaded(self) -> bool:
        return self.first_key in self.matched

    def summary(self) -> str:
        if self.mode == 'compare':
            return (f'{len(self.matched)}/{self.num_module_keys} keys equal to the checkpoint '
                    f'({100 * self.match_ratio:.1f}%), missing {len(self.missing)}, different values '
                    f'{len(self.different)}, shape mismatch {len(self.shape_mismatched)}, new layers {len(self.new)}')
        return (f'matched {len(self.matched)}/{self.num_module_keys} module keys ({100 * self.match_ratio:.1f}%), '
                f'missing {len(self.missing)}, unexpected {len(self.unexpected)}, '
                f'shape mismatch {len(self.shape_mismatched)}')

    def not_loaded_modules(self) -> Dict[str, int]:
        """The largest sub-modules none of whose keys loaded -> their number of keys (``{'layer4': 30}``); a key
        missing from a module that otherwise loaded appears on its own."""
        module_keys = self.matched + self.missing + self.shape_mismatched + self.different
        not_loaded = set(self.missing + self.shape_mismatched + self.different)
        modules: Dict[str, int] = {}
        for key in module_keys:
            if key not in not_loaded:
                continue
            parts = key.split('.')
            for depth in range(1, len(parts) + 1):
                name = '.'.join(parts[:depth])
                under = [other for other in module_keys if other == name or other.startswith(name + '.')]
                if all(other in not_loaded for other in under):
                    modules.setdefault(name, len(under))
                    break
        return modules

    def to_record(self) -> dict:
        """A compact form for result records: counts, the modules and keys that did not load."""
        record = asdict(self)
        record['matched'] = len(self.matched)
        record['unexpected'] = len(self.unexpected)
        record['not_loaded_modules'] = self.not_loaded_modules()
        return record


def _sort_keys(module: torch.nn.Module, state_dict: Dict[str, torch.Tensor], report: LoadReport,
               new_keys: Sequence[str] = ()) -> LoadReport:
    for key, target in module.state_dict().items():
        if any(key.startswith(prefix) for prefix in new_keys):
            report.new.append(key)
            continue
        report.first_key = report.first_key or key
        if key.endswith('num_batches_tracked') and key not in state_dict:
            continue  # BN counters are optional: torchvision's and VISSL's older files have none
        if key not in state_dict:
            report.missing.append(key)
        elif tuple(state_dict[key].shape) != tuple(target.shape):
            report.shape_mismatched.append(key)
        elif report.mode == 'compare' and not torch.equal(
                torch.as_tensor(state_dict[key]).to(device=target.device, dtype=target.dtype), target):
            report.different.append(key)
        else:
            report.matched.append(key)
    report.unexpected = sorted(set(state_dict) - set(module.state_dict()))
    return report


def _check_policy(report: LoadReport, module: torch.nn.Module, state_dict: Dict[str, torch.Tensor], where: str,
                  min_match_ratio: float) -> None:
    """The one policy: at least ``min_match_ratio`` of the module's parameters and running statistics load, no
    shape differs, and the input layer (the first tensor, ``conv1.weight``) loads."""
    problems = []
    if report.match_ratio < min_match_ratio:
        problems.append(f'fewer than {100 * min_match_ratio:.0f}% of its keys match')
    if report.shape_mismatched:
        own = module.state_dict()
        shapes = ', '.join(f'{key} {tuple(state_dict[key].shape)} vs {tuple(own[key].shape)}'
                           for key in report.shape_mismatched[:3])
        problems.append(f'shapes differ (checkpoint vs model: {shapes})')
    if report.first_key and not report.input_layer_loaded:
        problems.append(f'its input layer {report.first_key!r} does not load')
    if not problems:
        return
    sample_missing = ', '.join((report.missing + report.shape_mismatched)[:8]) or 'none'
    sample_present = ', '.join(list(state_dict)[:5]) or 'none'
    modules = report.not_loaded_modules()
    not_loaded = ', '.join(f'{name} (0/{count} keys)' for name, count in list(modules.items())[:10]) or 'none'
    raise CheckpointMismatchError(
        f'{where} does not fit {type(module).__name__}: {" and ".join(problems)}; {report.summary()}. Not loaded: '
        f'{not_loaded}{" ..." if len(modules) > 10 else ""}. Missing e.g.: {sample_missing}. '
        f'Checkpoint keys e.g.: {sample_present}. A full pre-training checkpoint needs '
        'prefix="backbone."; a backbone-only file needs no prefix; docs/en/checkpoints.md lists the layouts mmssl '
        'reads (--checkpoint-format / --checkpoint-prefix / --checkpoint-key).')


def load_state_dict_checked(module: torch.nn.Module,
                            state_dict: Dict[str, torch.Tensor],
                            prefix: Optional[str] = None,
                            min_match_ratio: float = 0.9,
                            source: str = 'state dict',
                            logger: Optional[MMLogger] = None,
                            checkpoint_format: Optional[str] = None) -> LoadReport:
    """Copy matching entries of ``state_dict`` into ``module`` under the one policy, and report what matched.

    Policy: at least ``min_match_ratio`` of the module's parameters and running statistics must be found with
    the same name and shape (``num_batches_tracked`` is optional), no shape may differ, and the input layer must
    load; otherwise :class:`CheckpointMismatchError` names the checkpoint, its layout and what did not match, and
    nothing is loaded.

    Args:
        module: the module to load into.
        state_dict: flat tensor dict, e.g. :attr:`CheckpointFile.state_dict`.
        prefix: when given, only keys starting with it are used, with the prefix removed
            (``'backbone.'`` takes the backbone out of a full algorithm checkpoint).
        min_match_ratio: share of the module's keys that must be matched.
        source: name of the checkpoint, used in messages.
        logger: where to print the report (defaults to the current mmengine logger).
        checkpoint_format: the layout the entries came from (:mod:`mmssl.utils.checkpoint_formats`), reported.
    """
    state_dict = _strip_ddp_prefix(dict(state_dict))
    if prefix:
        state_dict = select_prefix(state_dict, prefix)
    report = _sort_keys(module, state_dict, LoadReport(source=source, prefix=prefix, format=checkpoint_format))
    details = ([f'format {checkpoint_format}'] if checkpoint_format else []) + \
        ([f"prefix '{prefix}'"] if prefix else [])
    where = f'{source} ({", ".join(details)})' if details else source
    _check_policy(report, module, state_dict, where, min_match_ratio)
    module.load_state_dict({key: state_dict[key] for key in report.matched}, strict=False)
    logger = logger or MMLogger.get_current_instance()
    print_log(f'Loaded {where} into {type(module).__name__}: {report.summary()}', logger=logger)
    # One line per module: a whole stage missing at >= 90% used to pass with a single INFO line.
    for name, count in report.not_loaded_modules().items():
        print_log(f'{where}: {name}: 0/{count} keys in the checkpoint, left at its initialisation', logger=logger,
                  level=logging.WARNING)
    _last_reports.clear()
    _last_reports[report.source] = report
    return report


def last_load_report(checkpoint: Optional[str]) -> Optional[LoadReport]:
    """The report of this process's latest checked load of file ``checkpoint`` (None: not loaded here)."""
    if checkpoint is None:
        return None
    return _last_reports.get(osp.abspath(str(checkpoint)))


def load_checkpoint_checked(module: torch.nn.Module,
                            filename: str,
                            prefix: Optional[str] = None,
                            min_match_ratio: float = 0.9,
                            logger: Optional[MMLogger] = None) -> LoadReport:
    """Load checkpoint file ``filename`` into ``module``; see :func:`load_state_dict_checked`."""
    checkpoint = read_checkpoint(filename)
    return load_state_dict_checked(module, checkpoint.state_dict, prefix=prefix, min_match_ratio=min_match_ratio,
                                   source=filename, logger=logger)


def read_backbone(checkpoint: str, checkpoint_format: Optional[str] = None, prefix: Optional[str] = None,
                  key_path: Optional[str] = None) -> Tuple[Dict[str, torch.Tensor], str]:
    """The ResNet backbone of a checkpoint file of any supported layout, with torchvision names, and the layout's
    name (detected, or ``checkpoint_format``); see :mod:`mmssl.utils.checkpoint_formats`.

    A tool run asks several times (to check the layout before work, to load, to record it); the conversion of the
    latest file is kept with its read. The returned dict is shared: callers copy before changing it.
    """
    file = read_checkpoint(checkpoint)
    key = (file.path, file.sha256, checkpoint_format, prefix, key_path)
    if key not in _last_backbone:
        try:
            converted = backbone_state_dict(file.content, file.path, checkpoint_format, prefix, key_path)
        except (KeyError, ValueError) as error:
            raise CheckpointMismatchError(error.args[0]) from None
        _last_backbone.clear()
        _last_backbone[key] = converted
    return _last_backbone[key]


def import_checkpoint(source: str, destination: str, checkpoint_format: Optional[str] = None,
                      prefix: Optional[str] = None, key_path: Optional[str] = None) -> str:
    """Write the ResNet backbone of ``source`` (any supported layout) as an mmssl checkpoint: ``state_dict`` with
    ``backbone.*`` keys and a ``meta`` naming the source file, its layout and its sha256. Written atomically;
    returns ``destination``."""
    state_dict, layout = read_backbone(source, checkpoint_format, prefix, key_path)
    file = read_checkpoint(source)
    meta = dict(source_file=file.path, source_sha256=file.sha256, source_format=layout)
    os.makedirs(osp.dirname(osp.abspath(destination)), exist_ok=True)
    tmp = f'{destination}.tmp{os.getpid()}'
    torch.save({'state_dict': {f'{BACKBONE_PREFIX}{key}': value for key, value in state_dict.items()},
                'meta': meta}, tmp)
    os.replace(tmp, destination)
    return destination


def init_random_backbone(module: torch.nn.Module, seed: int = RANDOM_INIT_SEED) -> None:
    """Initialise ``module`` with its own default initialisation, drawn from ``seed``.

    The global random state is left untouched, so the baseline network is the same in every benchmark and run.
    """
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        module.init_weights()


def load_backbone(module: torch.nn.Module, checkpoint: Optional[str], seed: int = RANDOM_INIT_SEED,
                  checkpoint_format: Optional[str] = None, prefix: Optional[str] = None,
                  key_path: Optional[str] = None, min_match_ratio: float = 0.9) -> Optional[LoadReport]:
    """Load the backbone of a checkpoint of any supported layout into a ResNet (checked), or draw the seeded random
    network when ``checkpoint`` is ``None``.

    Args:
        checkpoint_format, prefix, key_path: overrides of the layout detection (:func:`read_backbone`).
    """
    if checkpoint is None:
        init_random_backbone(module, seed)
        return None
    state_dict, layout = read_backbone(checkpoint, checkpoint_format, prefix, key_path)
    return load_state_dict_checked(module, state_dict, min_match_ratio=min_match_ratio,
                                   source=read_checkpoint(checkpoint).path, checkpoint_format=layout)


def parse_checkpoint_arg(value: Optional[str]) -> Optional[str]:
    """A command line's checkpoint: ``none`` (any case) is a random backbone (``None``), anything else must be a
    file; it is read (and so checked) here, before any work starts, and returned as an absolute path."""
    if value is None or str(value).lower() == RANDOM_INIT:
        return None
    return read_checkpoint(value).path


# ----------------------------------------------------------------------------------------------- verification
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
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'pre-trained checkpoint {checkpoint} does not exist')
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


def compare_module_weights(module: torch.nn.Module, state_dict: Dict[str, torch.Tensor],
                           new_keys: Sequence[str] = ()) -> LoadReport:
    """Compare every tensor of ``module.state_dict()`` with the same-named entry of ``state_dict``.

    Args:
        module: the initialised module (e.g. a detector's backbone).
        state_dict: the checkpoint entries meant for it, prefix already stripped.
        new_keys: key prefixes of layers that the benchmark adds (e.g. ``'norm.'`` after res5); skipped.
    """
    return _sort_keys(module, state_dict, LoadReport(mode='compare'), new_keys)


def verify_loaded_weights(module: torch.nn.Module, state_dict: Dict[str, torch.Tensor], *, name: str,
                          checkpoint: str, prefix: str, new_keys: Sequence[str] = (),
                          min_match_ratio: float = 0.9) -> LoadReport:
    """Raise unless ``module`` holds the checkpoint's weights; return the comparison otherwise.

    Two conditions, both needed: at least ``min_match_ratio`` of the module's keys equal the checkpoint's,
    and the module's first tensor (its input layer) is among them. The second catches a stem mismatch that a
    ratio cannot: a deep-stem ResNetV1c checkpoint shares 312 of a plain ResNet-50's 318 keys (98%), yet
    without its first convolution the network has not been pre-trained in any useful sense.

    Raises:
        CheckpointMismatchError: naming the checkpoint, the prefix, the ratio and example keys.
    """
    result = compare_module_weights(module, state_dict, new_keys)
    result.source, result.prefix = checkpoint, prefix
    problems = []
    if result.match_ratio < min_match_ratio:
        problems.append(f'fewer than {100 * min_match_ratio:.0f}% of the keys were loaded')
    if not result.input_layer_loaded:
        problems.append(f'its input layer {result.first_key!r} was not loaded')
    if problems:
        not_loaded = result.missing + result.shape_mismatched + result.different
        raise CheckpointMismatchError(
            f'pre-trained weights did not load into model.{name} ({type(module).__name__}) from {checkpoint} '
            f'with prefix "{prefix}": {" and ".join(problems)}; {result.summary()}. Not loaded e.g.: '
            f'{", ".join(not_loaded[:6])}. Checkpoint keys e.g.: {", ".join(list(state_dict)[:6]) or "none"}. '
            'Expected a full mmssl pre-training checkpoint of a plain (torchvision-layout) ResNet with '
            f'"{prefix}"-prefixed keys; a deep-stem ResNetV1c checkpoint (stem.0.weight ...) does not fit.')
    return result

"""The checkpoints a training writes into its work dir: which there are, which are complete, and what they hold.

A training (mmengine's ``CheckpointHook``, or mmssl's) writes ``iter_<N>.pth`` (or ``epoch_<N>.pth``) into its work
dir, then the file ``last_checkpoint`` naming it. mmengine writes a checkpoint in place, so a reader can meet a
half-written file under its final name (mmssl's own training writes through a temp file and a rename, but the
watcher also serves plain mmengine trainings and copies). :class:`CompletionRule` decides when a file is complete:

1. ``last_checkpoint`` names it or a later step: both mmengine and mmssl write that file only after the checkpoint
   itself;
2. a later checkpoint exists: a training writes its checkpoints one after another, so an earlier one is finished;
3. otherwise (the last checkpoint of a copy, or of a training whose ``last_checkpoint`` is elsewhere) its size and
   modification time are unchanged over two polls. This alone can be fooled by a writer that stalls longer than a
   poll, so the caller must also load the file and take a failed load as "not yet" (:attr:`Completion.stable`):
   a truncated zip archive never unpickles.
"""
import hashlib
import json
import os
import os.path as osp
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from mmengine.config import Config

from mmssl.utils.errors import InputError

__all__ = ['Checkpoint', 'CompletionRule', 'list_checkpoints', 'last_checkpoint_step', 'final_step',
           'weights_identity', 'describe_difference', 'LAST_CHECKPOINT']

#: the file mmengine's CheckpointHook writes after each checkpoint: the path of the latest one
LAST_CHECKPOINT = 'last_checkpoint'
_NAME = re.compile(r'^(iter|epoch)_(\d+)\.pth$')


@dataclass(frozen=True)
class Checkpoint:
    """One checkpoint file of a training: ``<unit>_<step>.pth``.

    Attributes:
        path: absolute path.
        unit: ``'iter'`` or ``'epoch'``.
        step: the iteration or epoch it was saved after (0: the initial weights).
    """
    path: str
    unit: str
    step: int

    @property
    def name(self) -> str:
        """``iter_<N>`` (the folder of its records)."""
        return f'{self.unit}_{self.step}'


def list_checkpoints(work_dir: str) -> List[Checkpoint]:
    """The checkpoints in ``work_dir`` (not its sub-folders), by step; empty when the folder does not exist yet.

    Raises:
        InputError: it holds both ``iter_*.pth`` and ``epoch_*.pth`` (two trainings, or a config changed between
            them); names one of each.
    """
    try:
        names = os.listdir(work_dir)
    except FileNotFoundError:
        return []
    found = []
    for name in names:
        match = _NAME.match(name)
        if match:
            found.append(Checkpoint(osp.join(osp.abspath(work_dir), name), match.group(1), int(match.group(2))))
    units = {checkpoint.unit: checkpoint.path for checkpoint in found}
    if len(units) > 1:
        raise InputError(f'{work_dir} holds checkpoints by iteration and by epoch ({units["iter"]} and '
                         f'{units["epoch"]}): two trainings in one work dir; watch one training per work dir')
    return sorted(found, key=lambda checkpoint: checkpoint.step)


def last_checkpoint_step(work_dir: str, unit: str) -> Optional[int]:
    """The step of the checkpoint ``work_dir``'s ``last_checkpoint`` names, when it names a ``<unit>_<N>.pth``."""
    try:
        with open(osp.join(work_dir, LAST_CHECKPOINT)) as f:
            named = f.read().strip()
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    match = _NAME.match(osp.basename(named))
    return int(match.group(2)) if match and match.group(1) == unit else None


@dataclass(frozen=True)
class Completion:
    """Whether a checkpoint file is complete: ``complete`` (rules 1, 2 of :class:`CompletionRule`) or only
    ``stable`` (rule 3: unchanged over two polls; the caller loads it to be sure)."""
    complete: bool = False
    stable: bool = False

    @property
    def ready(self) -> bool:
        """Whether the file may be read now."""
        return self.complete or self.stable


class CompletionRule:
    """Decides, poll after poll, which checkpoints of one work dir are complete (see the module's docstring)."""

    def __init__(self):
        self._stat: Dict[str, Tuple[int, int]] = {}

    def judge(self, checkpoint: Checkpoint, newer_exists: bool, named_step: Optional[int]) -> Completion:
        """Judge ``checkpoint`` at this poll.

        Args:
            checkpoint: the file.
            newer_exists: a later checkpoint of the same training exists.
            named_step: the step ``last_checkpoint`` names (:func:`last_checkpoint_step`), or ``None``.
        """
        if newer_exists or (named_step is not None and named_step >= checkpoint.step):
            return Completion(complete=True)
        try:
            stat = os.stat(checkpoint.path)
        except FileNotFoundError:
            return Completion()
        now = (stat.st_size, stat.st_mtime_ns)
        before = self._stat.get(checkpoint.path)
        self._stat[checkpoint.path] = now
        return Completion(stable=before == now and stat.st_size > 0)


def final_step(pretrain_config: str) -> Tuple[str, int]:
    """``('iter', train_cfg.max_iters)`` or ``('epoch', train_cfg.max_epochs)`` of a pre-training config: the step
    of the training's last checkpoint.

    Raises:
        InputError: the file does not exist or its ``train_cfg`` has neither; names the file.
    """
    if not osp.isfile(pretrain_config):
        raise InputError(f'--config {pretrain_config}: the pre-training config does not exist')
    train_cfg = Config.fromfile(pretrain_config).get('train_cfg') or {}
    for key, unit in (('max_iters', 'iter'), ('max_epochs', 'epoch')):
        if isinstance(train_cfg.get(key), int):
            return unit, train_cfg[key]
    raise InputError(f'{pretrain_config}: train_cfg has neither max_iters nor max_epochs, so the last checkpoint '
                     'is unknown; give --until STEP')


def _model_config(content) -> Optional[dict]:
    """The ``model`` of the config an mmengine checkpoint records in ``meta.cfg``, or ``None`` without one."""
    cfg_text = content.get('meta', {}).get('cfg') if isinstance(content, dict) else None
    if not isinstance(cfg_text, str):
        return None
    try:
        model = Config.fromstring(cfg_text, '.py').get('model')
    except Exception:  # a config text that needs its custom imports: compare the architecture only
        return None
    return json.loads(json.dumps(model.to_dict() if hasattr(model, 'to_dict') else model, sort_keys=True,
                                 default=str))


def weights_identity(state_dict: dict, content=None) -> dict:
    """What makes two checkpoints checkpoints of one training: the backbone's architecture (every key and shape,
    hashed) and, when the file records it, the pre-training config's ``model``.

    Args:
        state_dict: the backbone as read (:attr:`mmssl.utils.BackboneWeights.state_dict`).
        content: the unpickled checkpoint (its ``meta.cfg``), or ``None``.
    """
    shapes = sorted((key, list(getattr(value, 'shape', ()))) for key, value in state_dict.items())
    architecture = hashlib.sha256(json.dumps(shapes).encode()).hexdigest()
    return dict(architecture=architecture, tensors=len(shapes), model=_model_config(content))


def describe_difference(a: dict, b: dict) -> Optional[str]:
    """How two :func:`weights_identity` differ (``None``: the same training, as far as they tell)."""
    if a['architecture'] != b['architecture']:
        return f'different backbone architectures ({a["tensors"]} vs {b["tensors"]} tensors, other keys or shapes)'
    if a.get('model') is not None and b.get('model') is not None and a['model'] != b['model']:
        keys = sorted(key for key in set(a['model']) | set(b['model']) if a['model'].get(key) != b['model'].get(key))
        return f'different model configs in meta.cfg (model.{", model.".join(keys)})'
    return None

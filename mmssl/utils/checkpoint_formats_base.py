"""What every checkpoint layout reader shares: the flat weight set of a loaded file, prefixes, array tests, and the
record of one layout (:class:`CheckpointFormat`). The ResNet layouts (:mod:`.checkpoint_formats`) and the Vision
Transformer layouts (:mod:`.checkpoint_formats_vit`) are built from these; :mod:`.checkpoint_formats` registers both.
"""
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np
import torch

from .errors import CheckpointMismatchError

__all__ = ['CheckpointFormat', 'StateDict', 'WEIGHT_SET_KEYS', 'as_tensor', 'flat_state_dict', 'is_array',
           'same_values', 'sample_keys', 'strip_prefix']

StateDict = Dict[str, Any]
#: the top-level keys under which checkpoints keep their flat state dict, in the order they are looked up
WEIGHT_SET_KEYS = ('state_dict', 'model')


def strip_prefix(state_dict: StateDict, prefix: str) -> StateDict:
    """The entries whose key starts with ``prefix``, with it removed (the values themselves, not copies)."""
    return {key[len(prefix):]: value for key, value in state_dict.items() if key.startswith(prefix)}


def is_array(value: Any) -> bool:
    """Whether ``value`` is a tensor or a numpy array (a detectron2 ``.pkl`` holds numpy arrays)."""
    return isinstance(value, (torch.Tensor, np.ndarray))


def as_tensor(value: Any) -> torch.Tensor:
    """``value`` as a tensor (a numpy array converted; a tensor returned as it is)."""
    return torch.as_tensor(np.asarray(value)) if isinstance(value, np.ndarray) else value


def same_values(first: StateDict, second: StateDict) -> bool:
    """Whether two state dicts hold the same names and, under each, equal arrays (copies are not ambiguous)."""
    if first is second:
        return True
    if first.keys() != second.keys():
        return False
    for key, value in first.items():
        other = second[key]
        if is_array(value) != is_array(other):
            return False
        if is_array(value) and not torch.equal(as_tensor(value), as_tensor(other)):
            return False
    return True


def sample_keys(state_dict: StateDict) -> str:
    """The first three keys, for messages (``'none'`` for an empty dict)."""
    return ', '.join(list(state_dict)[:3]) or 'none'


def flat_state_dict(content: Any, source: str = 'checkpoint') -> StateDict:
    """``content['state_dict']``, ``content['model']`` or ``content`` itself (the dicts checkpoints hold).

    Raises:
        CheckpointMismatchError: both ``state_dict`` and ``model`` hold arrays, and not the same ones; the
            message names ``source``, both candidates and the ``--checkpoint-key`` that picks one.
    """
    if not isinstance(content, dict):
        return {}
    found = [key for key in WEIGHT_SET_KEYS if isinstance(content.get(key), dict)]
    holding = [key for key in found if any(is_array(value) for value in content[key].values())]
    if len(holding) > 1 and not same_values(content[holding[0]], content[holding[1]]):
        sets = ' and '.join(f'{key!r} ({len(content[key])} entries, e.g. {sample_keys(content[key])})'
                            for key in holding)
        raise CheckpointMismatchError(
            f'{source}: holds two different weight sets, {sets}; mmssl does not guess which one to evaluate: pass '
            + ' or '.join(f'--checkpoint-key {key}' for key in holding))
    if holding or found:
        return content[(holding or found)[0]]
    return content


@dataclass(frozen=True)
class CheckpointFormat:
    """One checkpoint layout: its name (``--checkpoint-format NAME``), what it is, how it is recognised in the
    loaded file and how its backbone becomes a state dict with mmssl's names (torchvision's for a ResNet, timm's for
    a Vision Transformer).

    ``prefix``: where the backbone lives in the flat state dict (``None``: not a flat layout); ``others``: the
    prefixes of the other network copies the layout holds and knowingly leaves out (MoCo's key encoder), which are
    therefore no rival candidates.
    """
    name: str
    description: str
    detect: Callable[[Any], bool]
    convert: Callable[[Any], StateDict]
    prefix: Optional[str] = None
    others: Tuple[str, ...] = ()

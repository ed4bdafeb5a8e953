"""The checkpoint layouts researchers bring, detected and turned into a torchvision-named ResNet state dict.

mmssl's ResNet uses torchvision's parameter names, so every layout below reduces to "find the backbone's
entries and give them torchvision names". Each :class:`CheckpointFormat` says how it is recognised and where its
backbone lives; :func:`backbone_state_dict` tries them in order (or takes the one named by the user) and reports
which one it used. Layouts, as their own code writes them:

- ``mmssl``: mmssl / mmselfsup 0.x and 1.x algorithm checkpoints, ``state_dict`` with ``backbone.*`` (+ neck, head).
- ``moco``: MoCo v1 / v2 ``main_moco.py``: ``state_dict`` with ``module.encoder_q.*`` (+ ``encoder_k``, ``queue``).
- ``mocov3``: MoCo v3 ``main_moco.py`` (ResNet): ``module.base_encoder.*`` (+ ``momentum_encoder``, predictor).
- ``vissl``: VISSL checkpoints, ``classy_state_dict.base_model.model.trunk`` with ``_feature_blocks.conv1.weight``.
- ``detectron2``: a ``.pkl`` from ``convert-pretrain-to-detectron2.py`` (MoCo, mmselfsup 0.x): ``{'model':
  {'stem.conv1.weight', 'res2.0.conv1.norm.weight', ...} (numpy), '__author__', 'matching_heuristics'}``.
- ``ddp``: any of the plain layouts saved from a DistributedDataParallel wrapper (every key ``module.*``).
- ``torchvision``: torchvision / timm ResNet (``conv1``, ``bn1``, ``layerN``, ``fc``; old files such as
  ``resnet50-19c8e357.pth`` and VISSL's ``convert_vissl_to_torchvision.py`` output lack ``num_batches_tracked``);
  ``fc.*`` is dropped.
- ``backbone``: a bare mmssl backbone (torchvision names, no ``fc``), as ``extract_backbone_weights.py`` writes it.
"""
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np
import torch

from .resnet_keys import detectron2_to_resnet

__all__ = ['CheckpointFormat', 'FORMATS', 'backbone_state_dict', 'flat_state_dict', 'format_names', 'select_key_path']

StateDict = Dict[str, Any]


def _strip(state_dict: StateDict, prefix: str) -> StateDict:
    return {key[len(prefix):]: value for key, value in state_dict.items() if key.startswith(prefix)}


def flat_state_dict(content: Any) -> StateDict:
    """``content['state_dict']``, ``content['model']`` or ``content`` itself (the dicts checkpoints hold)."""
    if not isinstance(content, dict):
        return {}
    for key in ('state_dict', 'model'):
        if isinstance(content.get(key), dict):
            return content[key]
    return content


def _is_torchvision_resnet(state_dict: StateDict) -> bool:
    # Stages are enough: a checkpoint with another stem (deep stem, Sobel input) is then refused by the load
    # policy, which names the input layer, instead of being called an unknown layout.
    return any(key.startswith('layer1.0.') for key in state_dict)


def _vissl_trunk(content: Any) -> Optional[StateDict]:
    node = content
    for key in ('classy_state_dict', 'base_model', 'model', 'trunk'):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node if isinstance(node, dict) else None


def _from_vissl(content: Any) -> StateDict:
    trunk = _vissl_trunk(content)
    for prefix in ('_feature_blocks.', 'base_model._feature_blocks.'):
        stripped = _strip(trunk, prefix)
        if stripped:
            return stripped
    return trunk


def _from_detectron2(content: Any) -> StateDict:
    model = {key: value for key, value in content['model'].items() if key.startswith(('stem.', 'res'))}
    return detectron2_to_resnet(model)


def _drop_fc(state_dict: StateDict) -> StateDict:
    return {key: value for key, value in state_dict.items() if not key.startswith('fc.')}


def _prefixed(prefix: str) -> Tuple[Callable[[Any], bool], Callable[[Any], StateDict]]:
    def detect(content):
        return _is_torchvision_resnet(_strip(flat_state_dict(content), prefix))

    def convert(content):
        return _drop_fc(_strip(flat_state_dict(content), prefix))
    return detect, convert


@dataclass(frozen=True)
class CheckpointFormat:
    """One checkpoint layout: its name (``--checkpoint-format NAME``), what it is, how it is recognised in the
    loaded file and how its backbone becomes a torchvision-named state dict."""
    name: str
    description: str
    detect: Callable[[Any], bool]
    convert: Callable[[Any], StateDict]


def _is_detectron2(content: Any) -> bool:
    model = content.get('model') if isinstance(content, dict) else None
    return isinstance(model, dict) and 'stem.conv1.weight' in model


FORMATS = (
    CheckpointFormat('detectron2', 'detectron2 .pkl (stem.conv1, resN.B.convK.norm, shortcut; numpy arrays)',
                     _is_detectron2, _from_detectron2),
    CheckpointFormat('vissl', 'VISSL (classy_state_dict.base_model.model.trunk._feature_blocks.*)',
                     lambda content: _vissl_trunk(content) is not None, _from_vissl),
    CheckpointFormat('moco', 'MoCo v1 / v2 (state_dict module.encoder_q.*)', *_prefixed('module.encoder_q.')),
    CheckpointFormat('mocov3', 'MoCo v3 ResNet (state_dict module.base_encoder.*)', *_prefixed('module.base_encoder.')),
    CheckpointFormat('mmssl', 'mmssl / mmselfsup algorithm checkpoint (state_dict backbone.*)',
                     *_prefixed('backbone.')),
    CheckpointFormat('ddp', 'DistributedDataParallel-wrapped ResNet (module.conv1, module.layer1 ...)',
                     *_prefixed('module.')),
    CheckpointFormat('torchvision', 'torchvision / timm ResNet (conv1, bn1, layerN, fc; fc dropped)',
                     lambda content: _is_torchvision_resnet(flat_state_dict(content))
                     and 'fc.weight' in flat_state_dict(content),
                     lambda content: _drop_fc(flat_state_dict(content))),
    CheckpointFormat('backbone', 'bare ResNet backbone (conv1, bn1, layerN; no fc)',
                     lambda content: _is_torchvision_resnet(flat_state_dict(content)),
                     lambda content: _drop_fc(flat_state_dict(content))),
)
_BY_NAME = {fmt.name: fmt for fmt in FORMATS}


def format_names() -> list:
    return [fmt.name for fmt in FORMATS]


def select_key_path(content: Any, key_path: str, source: str) -> Any:
    """``content[a][b]...`` for ``key_path`` ``'a.b...'`` (nested dicts); a clear error naming the missing key."""
    node = content
    for depth, key in enumerate(key_path.split('.')):
        if not isinstance(node, dict) or key not in node:
            where = '.'.join(key_path.split('.')[:depth]) or 'the top level'
            keys = sorted(node)[:8] if isinstance(node, dict) else type(node).__name__
            raise KeyError(f'{source}: --checkpoint-key {key_path}: no {key!r} under {where} (found {keys})')
        node = node[key]
    return node


def _suggest_prefix(state_dict: StateDict) -> Optional[str]:
    """The prefix in front of ``conv1.weight`` in the checkpoint's keys, if any (``encoder.`` for
    ``encoder.conv1.weight``)."""
    for key in state_dict:
        match = re.fullmatch(r'(.+\.)conv1\.weight', key)
        if match and any(k.startswith(f'{match[1]}layer1.') for k in state_dict):
            return match[1]
    return None


def _as_tensors(state_dict: StateDict) -> Dict[str, torch.Tensor]:
    return {key: torch.as_tensor(np.asarray(value)) if isinstance(value, np.ndarray) else value
            for key, value in state_dict.items() if isinstance(value, (torch.Tensor, np.ndarray))}


def backbone_state_dict(content: Any, source: str, checkpoint_format: Optional[str] = None,
                        prefix: Optional[str] = None, key_path: Optional[str] = None) -> Tuple[StateDict, str]:
    """The ResNet backbone of a loaded checkpoint with torchvision names, and the name of its layout.

    Args:
        content: the unpickled file.
        source: the file, for messages.
        checkpoint_format: a name of :data:`FORMATS` to use instead of detecting one.
        prefix: keep only keys starting with it (stripped) before anything else, e.g. ``'module.encoder_q.'``.
        key_path: dotted path of nested dicts to the state dict (``'classy_state_dict.base_model.model.trunk'``).

    Raises:
        ValueError: no layout fits; names the file, what was found and a prefix to try.
    """
    if key_path:
        content = select_key_path(content, key_path, source)
    if prefix:
        stripped = _strip(flat_state_dict(content), prefix)
        if not stripped:
            keys = ', '.join(list(flat_state_dict(content))[:5]) or 'none'
            raise ValueError(f'{source}: --checkpoint-prefix {prefix!r} matches no key (keys e.g.: {keys})')
        content = stripped
    if checkpoint_format is not None:
        if checkpoint_format not in _BY_NAME:
            raise ValueError(f'unknown checkpoint format {checkpoint_format!r}, expected one of {format_names()}')
        chosen = _BY_NAME[checkpoint_format]
        if not chosen.detect(content):
            raise ValueError(f'{source}: does not look like a {chosen.name} checkpoint ({chosen.description})')
    else:
        chosen = next((fmt for fmt in FORMATS if fmt.detect(content)), None)
    flat = flat_state_dict(content)
    if chosen is None and flat and all(key.startswith('module.') for key in flat):
        # Saved from a DistributedDataParallel wrapper: the same layouts one level down.
        state_dict, name = backbone_state_dict(_strip(flat, 'module.'), source)
        return state_dict, f'ddp+{name}'
    if chosen is None:
        keys = ', '.join(list(flat)[:6]) or 'none'
        suggestion = _suggest_prefix(flat)
        hint = (f' Its keys carry the prefix {suggestion!r}: pass --checkpoint-prefix {suggestion}'
                if suggestion else ' Pass --checkpoint-prefix / --checkpoint-key to point at the ResNet weights.')
        raise ValueError(f'{source}: no known checkpoint layout fits (keys e.g.: {keys}); known: '
                         f'{", ".join(format_names())}.{hint}')
    return _as_tensors(chosen.convert(content)), chosen.name

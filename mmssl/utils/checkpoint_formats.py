"""The checkpoint layouts researchers bring, detected and turned into the state dict of mmssl's backbone: a ResNet
with torchvision's names, or a Vision Transformer with timm's (:mod:`.checkpoint_formats_vit`, :mod:`.vit_keys`).

So every layout below reduces to "find the backbone's entries and give them mmssl's names". Each
:class:`CheckpointFormat` says how it is recognised and where its backbone lives; :func:`backbone_state_dict` tries
them in order (or takes the one named by the user) and reports which one it used. A file that holds two different
candidates (``state_dict`` and ``model``, or two backbones under different prefixes that no layout declares) is
refused with the candidates and the option that picks one, never guessed at. Layouts, as their own code writes them
(the ViT ones: :mod:`.checkpoint_formats_vit`):

- ``mmssl``: mmssl / mmselfsup 0.x and 1.x algorithm checkpoints, ``state_dict`` with ``backbone.*`` (+ neck, head;
  the momentum copy of MoCo / DenseCL / BYOL: 0.x ``encoder_k`` / ``target_net``, 1.x ``momentum_encoder`` /
  ``target_net``); a ResNet or a timm-named ViT.
- ``moco``: MoCo v1 / v2 ``main_moco.py``: ``state_dict`` with ``module.encoder_q.*`` (+ ``encoder_k``, ``queue``).
- ``mocov3``: MoCo v3 ``main_moco.py`` (ResNet, or ViT: ``vits.py`` subclasses timm's, its projection MLP is
  ``head``, dropped): ``module.base_encoder.*`` (+ ``momentum_encoder``, predictor).
- ``vissl``: VISSL checkpoints, ``classy_state_dict.base_model.model.trunk`` with ``_feature_blocks.conv1.weight``.
- ``detectron2``: a ``.pkl`` from ``convert-pretrain-to-detectron2.py`` (MoCo, mmselfsup 0.x): ``{'model':
  {'stem.conv1.weight', 'res2.0.conv1.norm.weight', ...} (numpy), '__author__', 'matching_heuristics'}``.
- ``ddp``: any of the plain layouts saved from a DistributedDataParallel wrapper (every key ``module.*``).
- ``torchvision``: torchvision / timm ResNet (``conv1``, ``bn1``, ``layerN``, ``fc``; old files such as
  ``resnet50-19c8e357.pth`` and VISSL's ``convert_vissl_to_torchvision.py`` output lack ``num_batches_tracked``);
  ``fc.*`` is dropped.
- ``backbone``: a bare mmssl backbone (torchvision names, no ``fc``; or a ViT with timm names, no ``head``), as
  ``extract_backbone_weights.py`` writes it.
"""
import re
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch

from .checkpoint_formats_base import (CheckpointFormat, StateDict, as_tensor, flat_state_dict, is_array, same_values,
                                      sample_keys, strip_prefix)
from .checkpoint_formats_vit import VIT_FORMATS
from .errors import CheckpointMismatchError
from .resnet_keys import detectron2_to_resnet_name
from .vit_keys import VIT_BLOCK_MARKER, is_timm_vit, timm_backbone

__all__ = ['CheckpointFormat', 'FORMATS', 'as_tensors', 'backbone_state_dict', 'flat_state_dict', 'format_names',
           'select_backbone', 'select_key_path']


def _is_torchvision_resnet(state_dict: StateDict) -> bool:
    # Stages are enough: a checkpoint with another stem (deep stem, Sobel input) is then refused by the load
    # policy, which names the input layer, instead of being called an unknown layout.
    return any(key.startswith('layer1.0.') for key in state_dict)


def _backbone_prefixes(state_dict: StateDict) -> List[str]:
    """Every prefix under which the keys hold a ResNet or a timm-named ViT (``''``, ``'backbone.'``,
    ``'module.encoder_k.'`` ...)."""
    prefixes = []
    for key in state_dict:
        for marker in ('layer1.0.', VIT_BLOCK_MARKER):
            at = key.find(marker)
            if at >= 0 and (at == 0 or key[at - 1] == '.') and key[:at] not in prefixes:
                prefixes.append(key[:at])
    return prefixes


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
        stripped = strip_prefix(trunk, prefix)
        if stripped:
            return stripped
    return trunk


def _from_detectron2(content: Any) -> StateDict:
    # renamed only: the values stay the file's arrays (as_tensors converts them), so that what was left out of
    # the file can be told by identity
    return {detectron2_to_resnet_name(key): value for key, value in content['model'].items()
            if key.startswith(('stem.', 'res'))}


def _drop_fc(state_dict: StateDict) -> StateDict:
    return {key: value for key, value in state_dict.items() if not key.startswith('fc.')}


def _is_backbone(state_dict: StateDict) -> bool:
    """A ResNet with torchvision's names or a ViT with timm's (prefix already stripped)."""
    return _is_torchvision_resnet(state_dict) or is_timm_vit(state_dict)


def _backbone_of(state_dict: StateDict) -> StateDict:
    """The backbone entries: a ResNet without ``fc``, a ViT without its ``head`` (iBOT's layer scale renamed)."""
    return timm_backbone(state_dict) if is_timm_vit(state_dict) else _drop_fc(state_dict)


def _prefixed(prefix: str) -> Tuple[Callable[[Any], bool], Callable[[Any], StateDict]]:
    def detect(content):
        return _is_backbone(strip_prefix(flat_state_dict(content), prefix))

    def convert(content):
        return _backbone_of(strip_prefix(flat_state_dict(content), prefix))
    return detect, convert


def _is_detectron2(content: Any) -> bool:
    model = content.get('model') if isinstance(content, dict) else None
    return isinstance(model, dict) and 'stem.conv1.weight' in model


def _flat_format(name: str, description: str, prefix: str, others: Tuple[str, ...] = ()) -> CheckpointFormat:
    return CheckpointFormat(name, description, *_prefixed(prefix), prefix=prefix, others=others)


FORMATS = (
    CheckpointFormat('detectron2', 'detectron2 .pkl (stem.conv1, resN.B.convK.norm, shortcut; numpy arrays)',
                     _is_detectron2, _from_detectron2),
    CheckpointFormat('vissl', 'VISSL (classy_state_dict.base_model.model.trunk._feature_blocks.*)',
                     lambda content: _vissl_trunk(content) is not None, _from_vissl),
    *VIT_FORMATS,
    _flat_format('moco', 'MoCo v1 / v2 (state_dict module.encoder_q.*)', 'module.encoder_q.',
                 others=('module.encoder_k.',)),
    _flat_format('mocov3', 'MoCo v3 ResNet or ViT (state_dict module.base_encoder.*; ViT head dropped)',
                 'module.base_encoder.',
                 others=('module.momentum_encoder.',)),
    # mmselfsup's momentum copies: 0.x encoder_k (MoCo, DenseCL) / target_net (BYOL), 1.x momentum_encoder /
    # target_net; the online copies (0.x encoder_q, online_net) share the backbone's tensors
    _flat_format('mmssl', 'mmssl / mmselfsup algorithm checkpoint (state_dict backbone.*)', 'backbone.',
                 others=('encoder_k.', 'target_net.', 'momentum_encoder.')),
    _flat_format('ddp', 'DistributedDataParallel-wrapped ResNet or ViT (module.conv1, module.blocks.0 ...)',
                 'module.'),
    CheckpointFormat('torchvision', 'torchvision / timm ResNet (conv1, bn1, layerN, fc; fc dropped)',
                     lambda content: _is_torchvision_resnet(flat_state_dict(content))
                     and 'fc.weight' in flat_state_dict(content),
                     lambda content: _drop_fc(flat_state_dict(content)), prefix=''),
    CheckpointFormat('backbone', 'bare ResNet (conv1, bn1, layerN; no fc) or ViT backbone (timm names, no head)',
                     lambda content: _is_backbone(flat_state_dict(content)),
                     lambda content: _backbone_of(flat_state_dict(content)), prefix=''),
)
_BY_NAME = {fmt.name: fmt for fmt in FORMATS}


def format_names() -> list:
    """The names ``--checkpoint-format`` takes, in the order layouts are detected."""
    return [fmt.name for fmt in FORMATS]


def _detect(content: Any) -> Optional[CheckpointFormat]:
    return next((fmt for fmt in FORMATS if fmt.detect(content)), None)


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


def _check_prefix(flat: StateDict, prefix: str, source: str) -> None:
    """Refuse a ``--checkpoint-prefix`` that ends inside a key name (``encoder`` for ``encoder.conv1.weight``),
    naming the prefix that does fit."""
    if prefix.endswith('.'):
        return
    dotted = prefix + '.'
    stripped = strip_prefix(flat, dotted)
    if stripped:
        fmt = _detect(stripped)
        family = 'a ViT' if fmt and is_timm_vit(fmt.convert(stripped)) else 'a ResNet'
        what = f'hold {family} backbone (layout {fmt.name})' if fmt else f'are {len(stripped)} entries'
        raise CheckpointMismatchError(
            f'{source}: --checkpoint-prefix {prefix!r} does not end with ".", so it would cut key names in two; the '
            f'keys under {dotted!r} {what}: pass --checkpoint-prefix {dotted}')
    names = sorted({key[:key.index('.', len(prefix)) + 1] for key in flat
                    if key.startswith(prefix) and '.' in key[len(prefix):]})
    hint = (f'; keys starting with it continue as {", ".join(map(repr, names[:6]))}: pass one of those' if names
            else f' (keys e.g.: {sample_keys(flat)})')
    raise CheckpointMismatchError(f'{source}: --checkpoint-prefix {prefix!r} does not end with "."{hint}')


def _suggest_prefixes(state_dict: StateDict) -> List[str]:
    """The prefixes in front of a backbone in the checkpoint's keys: of a ResNet's ``conv1.weight`` (``encoder.`` for
    ``encoder.conv1.weight``) or a ViT's first block (``encoder.`` for ``encoder.blocks.0.attn.qkv.weight``)."""
    found = []
    for key in state_dict:
        match = re.fullmatch(r'(.+\.)conv1\.weight', key)
        resnet = match and any(k.startswith(f'{match[1]}layer1.') for k in state_dict)
        vit = re.fullmatch(rf'(.+\.){re.escape(VIT_BLOCK_MARKER)}', key)
        prefix = (match if resnet else vit)[1] if resnet or vit else None
        if prefix and prefix not in found:
            found.append(prefix)
    return found


def _no_layout(flat: StateDict, source: str, shown: str) -> CheckpointMismatchError:
    keys = ', '.join(list(flat)[:6]) or 'none'
    found = [shown + prefix for prefix in _suggest_prefixes(flat)]
    if len(found) == 1:
        hint = f' Its keys carry the prefix {found[0]!r}: pass --checkpoint-prefix {found[0]}'
    elif found:
        hint = (f' Its keys hold a backbone under each of {", ".join(map(repr, found))}; mmssl does not guess which '
                'one to evaluate: pass ' + ' or '.join(f'--checkpoint-prefix {prefix}' for prefix in found))
    else:
        hint = ' Pass --checkpoint-prefix / --checkpoint-key to point at the backbone\'s weights.'
    return CheckpointMismatchError(f'{source}: no known checkpoint layout fits (keys e.g.: {keys}); known: '
                                   f'{", ".join(format_names())}.{hint}')


def _check_rivals(flat: StateDict, fmt: CheckpointFormat, source: str, shown: str) -> None:
    """Refuse a detected flat layout when another prefix holds a different backbone that the layout does not
    declare (``backbone.*`` and ``encoder.*``): which one a user means cannot be told from the file."""
    own = _backbone_of(strip_prefix(flat, fmt.prefix))
    rivals = [prefix for prefix in _backbone_prefixes(flat)
              if prefix != fmt.prefix and not prefix.startswith(fmt.others)
              and not same_values(own, _backbone_of(strip_prefix(flat, prefix)))]
    if rivals:
        candidates = [shown + fmt.prefix] + [shown + prefix for prefix in rivals]
        options = [f'--checkpoint-prefix {prefix}' for prefix in candidates if prefix]
        if not shown + fmt.prefix:
            options.append(f'--checkpoint-format {fmt.name} (the keys without prefix)')
        raise CheckpointMismatchError(
            f'{source}: {len(candidates)} different {"ResNets" if not is_timm_vit(own) else "ViTs"} fit, under '
            f'{", ".join(repr(prefix) if prefix else "no prefix" for prefix in candidates)} (layout {fmt.name} '
            'reads the first); mmssl does not guess which one to evaluate: pass ' + ' or '.join(options))


def select_backbone(content: Any, source: str, checkpoint_format: Optional[str] = None,
                    prefix: Optional[str] = None, key_path: Optional[str] = None) -> Tuple[StateDict, str]:
    """The entries of a loaded checkpoint that make its backbone, with mmssl's names (torchvision's for a ResNet,
    timm's for a ViT) and the file's own
    values (tensors, or a ``.pkl``'s numpy arrays: :func:`as_tensors`), and the name of its layout.

    Args:
        content: the unpickled file.
        source: the file, for messages.
        checkpoint_format: a name of :data:`FORMATS` to use instead of detecting one.
        prefix: keep only keys starting with it (stripped) before anything else, e.g. ``'module.encoder_q.'``;
            it must end with ``.``.
        key_path: dotted path of nested dicts to the state dict (``'classy_state_dict.base_model.model.trunk'``).

    Raises:
        ValueError: no layout fits; names the file, what was found and a prefix to try.
        CheckpointMismatchError (a ValueError): the file holds two different candidates (weight sets, or ResNets
            under different prefixes), or the prefix ends inside a key name; names them and the option to pass.
    """
    if key_path:
        content = select_key_path(content, key_path, source)
    if prefix:
        flat = flat_state_dict(content, source)
        _check_prefix(flat, prefix, source)
        content = strip_prefix(flat, prefix)
        if not content:
            raise ValueError(f'{source}: --checkpoint-prefix {prefix!r} matches no key '
                             f'(keys e.g.: {sample_keys(flat)})')
    return _select(content, source, checkpoint_format, prefix or '')


def _select(content: Any, source: str, checkpoint_format: Optional[str], shown: str) -> Tuple[StateDict, str]:
    """:func:`select_backbone` after the key path and prefix; ``shown``: the prefix already stripped (messages)."""
    flat = flat_state_dict(content, source)
    if checkpoint_format is not None:
        if checkpoint_format not in _BY_NAME:
            raise ValueError(f'unknown checkpoint format {checkpoint_format!r}, expected one of {format_names()}')
        chosen = _BY_NAME[checkpoint_format]
        if not chosen.detect(content):
            raise ValueError(f'{source}: does not look like a {chosen.name} checkpoint ({chosen.description})')
        return chosen.convert(content), chosen.name
    chosen = _detect(content)
    if chosen is None and flat and all(key.startswith('module.') for key in flat):
        # Saved from a DistributedDataParallel wrapper: the same layouts one level down.
        state_dict, name = _select(strip_prefix(flat, 'module.'), source, None, shown + 'module.')
        return state_dict, f'ddp+{name}'
    if chosen is None:
        raise _no_layout(flat, source, shown)
    if chosen.prefix is not None:
        _check_rivals(flat, chosen, source, shown)
    return chosen.convert(content), chosen.name


def as_tensors(state_dict: StateDict) -> Dict[str, torch.Tensor]:
    """The arrays of ``state_dict`` as tensors (a ``.pkl``'s numpy arrays converted); other values dropped."""
    return {key: as_tensor(value) for key, value in state_dict.items() if is_array(value)}


def backbone_state_dict(content: Any, source: str, checkpoint_format: Optional[str] = None,
                        prefix: Optional[str] = None, key_path: Optional[str] = None) -> Tuple[StateDict, str]:
    """The backbone of a loaded checkpoint as tensors with mmssl's names, and the name of its layout
    (:func:`select_backbone`, whose arguments and errors it shares)."""
    state_dict, name = select_backbone(content, source, checkpoint_format, prefix, key_path)
    return as_tensors(state_dict), name

"""Vision Transformers in mmseg's UperNet: the MAE / BEiT segmentation protocol as mmseg 1.2.2 ships it.

mmseg's ``MAE`` backbone (``mmseg/models/backbones/mae.py``, a subclass of its ``BEiT``) names a ViT's weights its
own way and loads ``init_cfg=dict(type='Pretrained')`` itself: the file's ``state_dict`` (or top level) unprefixed,
``init_cfg.prefix`` ignored, ``strict=False``. The segmentation benchmark therefore writes the backbone that
mmssl's loader read (timm names, from any supported ViT layout) as a file of mmseg's names (:func:`timm_to_mmseg_mae`),
checked against the config's backbone before anything is written (:func:`check_mmseg_vit_fit`), and points the
backbone's ``init_cfg`` at that file with an empty prefix; ``mmssl.PretrainedWeightsCheckHook`` then compares the
initialised backbone with the file as for a ResNet.
"""
import copy
import os
import os.path as osp
import re
from typing import Dict, List, Tuple

import torch

from mmssl.utils import BackboneWeights
from mmssl.utils.errors import CheckpointMismatchError
from mmssl.utils.vit_keys import OPENMMLAB_VIT_NAMES, name_rules, rename_key

__all__ = ['MMSEG_VIT_BACKBONES', 'MMSEG_MAE_NEW_KEYS', 'is_mmseg_vit', 'timm_to_mmseg_mae', 'check_mmseg_vit_fit',
           'write_mmseg_vit_checkpoint']

#: Backbone types of mmseg configs whose weights this module converts.
MMSEG_VIT_BACKBONES = ('MAE', 'mmseg.MAE')

#: timm name -> mmseg ``MAE`` name (full matches). timm ``timm/models/vision_transformer.py``; mmseg
#: ``mmseg/models/backbones/beit.py`` (the OpenMMLab ViT names, layer scale as ``layers.N.gamma_1`` / ``gamma_2``).
_RULES = name_rules(OPENMMLAB_VIT_NAMES + (
    ('cls_token', 'cls_token'),
    ('pos_embed', 'pos_embed'),
    ('blocks.{n}.ls1.gamma', 'layers.{n}.gamma_1'),
    ('blocks.{n}.ls2.gamma', 'layers.{n}.gamma_2'),
))
#: timm entries left out: the final LayerNorm. The UperNet config builds the MAE with ``final_norm=False``; its
#: neck (Feature2Pyramid) reads blocks 4 / 6 / 8 / 12 as they come out.
_DROPPED = ('norm.weight', 'norm.bias')
#: Per-layer names of mmseg's MAE that a ViT without them does not have, which mmseg initialises: the layer scale
#: (``gamma_1`` / ``gamma_2`` = ``init_values``, 1.0 in the UperNet config: the identity, as a ViT without layer
#: scale computes) and the relative position bias (``MAEAttention.init_weights``: zeros) with its index buffer.
MMSEG_MAE_NEW_KEYS = ('gamma_', 'attn.relative_position_')


def is_mmseg_vit(cfg) -> bool:
    """Whether the mmseg config's backbone is one whose weights this module converts (:data:`MMSEG_VIT_BACKBONES`)."""
    backbone = cfg.get('model', {}).get('backbone') or {}
    return backbone.get('type') in MMSEG_VIT_BACKBONES


def timm_to_mmseg_mae(state_dict: Dict[str, torch.Tensor], source: str = 'checkpoint'
                      ) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """Rename a timm-named ViT backbone to mmseg's ``MAE`` names; returns ``(renamed, left out)``.

    The final LayerNorm (``norm.*``) is left out (see :data:`_DROPPED`). Any other entry without a counterpart is
    refused, e.g. DINOv2's register tokens (``reg_token``), which mmseg's MAE has no place for.

    Raises:
        CheckpointMismatchError: naming ``source`` and the entries mmseg's MAE cannot take.
    """
    renamed, dropped, foreign = {}, [], []
    for key, value in state_dict.items():
        new_key = rename_key(key, _RULES)
        if new_key is not None:
            renamed[new_key] = value
        else:
            (dropped if key in _DROPPED else foreign).append(key)
    if foreign:
        raise CheckpointMismatchError(
            f'{source}: {len(foreign)} entries of the ViT have no counterpart in mmseg\'s MAE backbone (e.g. '
            f'{", ".join(foreign[:5])}); register tokens and other additions to a plain ViT cannot be segmented '
            'with this config')
    return renamed, dropped


def _is_new(key: str) -> bool:
    return re.fullmatch(r'layers\.\d+\.(.*)', key) is not None and key.split('.', 2)[2].startswith(MMSEG_MAE_NEW_KEYS)


def check_mmseg_vit_fit(renamed: Dict[str, torch.Tensor], backbone: torch.nn.Module, source: str) -> None:
    """Refuse weights that do not fit the config's mmseg ViT ``backbone``: every one of its tensors but the ones it
    initialises itself (:data:`MMSEG_MAE_NEW_KEYS`) must be in ``renamed`` with its shape, nothing may be left over.
    ``pos_embed`` only needs the width: mmseg's MAE interpolates the position grid to its input size.

    Raises:
        CheckpointMismatchError: naming ``source``, the missing, left-over and differently shaped entries (a
            patch size, width or depth that differs shows there).
    """
    own = backbone.state_dict()
    missing = [key for key in own if key not in renamed and not _is_new(key)]
    extra = [key for key in renamed if key not in own]
    shapes = [f'{key} {tuple(renamed[key].shape)} vs {tuple(own[key].shape)}' for key in renamed
              if key in own and key != 'pos_embed' and renamed[key].shape != own[key].shape]
    if 'pos_embed' in renamed and renamed['pos_embed'].shape[-1] != own['pos_embed'].shape[-1]:
        shapes.append(f'pos_embed width {renamed["pos_embed"].shape[-1]} vs {own["pos_embed"].shape[-1]}')
    problems = [f'{what}: {", ".join(keys[:4])}{" ..." if len(keys) > 4 else ""} ({len(keys)})'
                for what, keys in (('missing', missing), ('not in the config\'s backbone', extra),
                                   ('shape (checkpoint vs config)', shapes)) if keys]
    if problems:
        raise CheckpointMismatchError(f'{source} does not fit the config\'s {type(backbone).__name__} backbone: '
                                      + '; '.join(problems))


def _build_mmseg_backbone(backbone_cfg: dict) -> torch.nn.Module:
    """The config's backbone, built by mmseg without any initialisation (for its names and shapes only)."""
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS as MMSEG_MODELS
    from mmseg.utils import register_all_modules as register_mmseg_modules
    register_mmseg_modules(init_default_scope=False)
    cfg = copy.deepcopy(dict(backbone_cfg))
    cfg['type'] = cfg['type'].split('.')[-1]
    cfg.pop('init_cfg', None)
    # mmengine builds in the current default scope's registry (mmssl's, where a benchmark runs), not the one asked.
    with DefaultScope.overwrite_default_scope('mmseg'):
        return MMSEG_MODELS.build(cfg)


def write_mmseg_vit_checkpoint(weights: BackboneWeights, backbone_cfg: dict, work_dir: str) -> str:
    """Write the ViT backbone of ``weights`` (timm names, as mmssl's loader reads every ViT layout) with mmseg's
    ``MAE`` names as ``WORK_DIR/pretrained/<name>-<sha256 prefix>_mmseg-mae.pth`` (``state_dict``, unprefixed, and
    a ``meta`` naming the source file, its layout and sha256), after checking it against ``backbone_cfg``; written
    atomically; returns its path.

    Raises:
        CheckpointMismatchError: the weights do not fit the configured backbone; nothing is written.
    """
    renamed, dropped = timm_to_mmseg_mae(weights.state_dict, weights.path)
    check_mmseg_vit_fit(renamed, _build_mmseg_backbone(backbone_cfg), weights.path)
    name = f'{osp.splitext(osp.basename(weights.path))[0]}-{weights.sha256[:8]}_mmseg-mae.pth'
    destination = osp.join(work_dir, 'pretrained', name)
    os.makedirs(osp.dirname(osp.abspath(destination)), exist_ok=True)
    meta = dict(source_file=weights.path, source_sha256=weights.sha256, source_format=weights.layout,
                naming='mmseg MAE', dropped=dropped)
    tmp = f'{destination}.tmp{os.getpid()}'
    torch.save({'state_dict': {key: value.clone() for key, value in renamed.items()}, 'meta': meta}, tmp)
    os.replace(tmp, destination)
    return destination

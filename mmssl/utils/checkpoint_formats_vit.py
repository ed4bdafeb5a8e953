"""The Vision Transformer checkpoint layouts researchers bring, detected and turned into a timm-named state dict
(:mod:`mmssl.utils.vit_keys`); :mod:`mmssl.utils.checkpoint_formats` registers them beside the ResNet layouts.

The layouts whose backbone sits under a prefix of a flat state dict are shared with the ResNets there (``mmssl``
``backbone.*``, ``mocov3`` ``module.base_encoder.*``, ``ddp``, ``backbone``). Here are those with a structure of
their own, as each project's own code writes them:

- ``dinov2``: DINOv2. The hub weights (``dinov2/hub/backbones.py``: the backbone's state dict; ``register_tokens``,
  ``mask_token``, ``blocks.N.ls1.gamma``), ``teacher_checkpoint.pth`` of ``dinov2/train/train.py`` ``do_test``
  (``{'teacher': {'backbone.*', 'dino_head.*', 'ibot_head.*'}}``) and its training checkpoints (fvcore's
  ``{'model': {'student.*', 'teacher.*'}, 'optimizer', 'iteration'}``); blocks ``blocks.C.N.*`` when
  ``block_chunks > 0``. The teacher is read; heads, the student and ``mask_token`` are left out.
- ``ibot`` / ``dino``: iBOT ``main_ibot.py`` / DINO ``main_dino.py``: ``{'student', 'teacher', 'optimizer', 'epoch',
  'args', 'ibot_loss' / 'dino_loss'}``; both networks are a ``MultiCropWrapper`` (``backbone.*``, ``head.*``), the
  student's saved from its DistributedDataParallel wrapper (``module.``). The teacher's backbone is read (the one
  their evaluations default to); ``head.*`` and the student are left out.
- ``mae``: MAE ``util/misc.py`` ``save_model``: ``{'model', 'optimizer', 'epoch', 'scaler', 'args'}`` with the
  encoder (timm's names) and ``mask_token``, ``decoder_*``, which are left out.
- ``torchvision-vit``: torchvision's ``vit_b_16`` ... state dict (``conv_proj``, ``encoder.layers.encoder_layer_N``);
  ``heads.*`` left out.
- ``mmpretrain-vit``: an mmpretrain ``ImageClassifier`` with a ``VisionTransformer`` backbone (``state_dict`` with
  ``backbone.layers.N.*``, ``backbone.patch_embed.projection``); ``head.*`` left out.
- ``timm``: a timm ``VisionTransformer`` state dict (classifier ``head.*`` left out); one without ``head`` (MAE's
  and DINO's released backbones, iBOT's ``extract_backbone_weights.py`` output) is a bare ``backbone``.
"""
from typing import Any, Optional

from .checkpoint_formats_base import CheckpointFormat, StateDict, flat_state_dict, strip_prefix
from .vit_keys import (VIT_BLOCK_MARKER, dinov2_to_timm, is_timm_vit, mmpretrain_to_timm, timm_backbone,
                       torchvision_to_timm)

__all__ = ['VIT_FORMATS']

_TORCHVISION_MARKER = 'encoder.layers.encoder_layer_0.self_attention.in_proj_weight'
_MMPRETRAIN_MARKER = 'backbone.layers.0.attn.qkv.weight'


def _flat(content: Any) -> StateDict:
    # detection never raises: a file with two different weight sets is refused when it is read as a flat layout
    try:
        return flat_state_dict(content)
    except ValueError:
        return {}


def _is_dinov2(state_dict: StateDict) -> bool:
    """DINOv2's backbone: a 2-D ``mask_token`` (one embedding) beside its blocks, chunked or not."""
    mask_token = state_dict.get('mask_token')
    chunked = 'blocks.0.0.attn.qkv.weight' in state_dict
    return getattr(mask_token, 'ndim', 0) == 2 and (is_timm_vit(state_dict) or chunked)


def _dinov2_backbone(content: Any) -> Optional[StateDict]:
    """The teacher backbone of a DINOv2 file (hub weights, ``teacher_checkpoint.pth`` or a training checkpoint)."""
    if not isinstance(content, dict):
        return None
    candidates = []
    if isinstance(content.get('teacher'), dict):
        candidates.append(strip_prefix(content['teacher'], 'backbone.'))
    if isinstance(content.get('model'), dict):
        candidates.append(strip_prefix(content['model'], 'teacher.backbone.'))
    candidates.append(_flat(content))
    return next((candidate for candidate in candidates if _is_dinov2(candidate)), None)


def _teacher_backbone(content: Any) -> Optional[StateDict]:
    """The backbone of the ``teacher`` of a DINO / iBOT file (``backbone.*``; ``module.backbone.*`` when the teacher
    was wrapped for synchronised BatchNorm), when it is a timm-named ViT."""
    teacher = content.get('teacher') if isinstance(content, dict) else None
    if not isinstance(teacher, dict):
        return None
    if teacher and all(key.startswith('module.') for key in teacher):
        teacher = strip_prefix(teacher, 'module.')
    backbone = strip_prefix(teacher, 'backbone.')
    return backbone if is_timm_vit(backbone) else None


def _is_ibot(content: Any) -> bool:
    return _teacher_backbone(content) is not None and 'ibot_loss' in content


def _is_mae(content: Any) -> bool:
    flat = _flat(content)
    return is_timm_vit(flat) and 'decoder_embed.weight' in flat


def _mae_encoder(content: Any) -> StateDict:
    flat = flat_state_dict(content)
    return timm_backbone({key: value for key, value in flat.items()
                          if not key.startswith('decoder_') and key != 'mask_token'})


VIT_FORMATS = (
    CheckpointFormat('dinov2', 'DINOv2 ViT (hub weights, teacher_checkpoint.pth or a training checkpoint; '
                     'register_tokens, ls1.gamma; mask_token and heads dropped)',
                     lambda content: _dinov2_backbone(content) is not None,
                     lambda content: dinov2_to_timm(_dinov2_backbone(content))),
    CheckpointFormat('ibot', 'iBOT main_ibot.py (teacher backbone.*; head, student dropped)', _is_ibot,
                     lambda content: timm_backbone(_teacher_backbone(content))),
    CheckpointFormat('dino', 'DINO main_dino.py ViT (teacher backbone.*; head, student dropped)',
                     lambda content: _teacher_backbone(content) is not None,
                     lambda content: timm_backbone(_teacher_backbone(content))),
    CheckpointFormat('mae', 'MAE save_model (model: encoder; decoder_*, mask_token dropped)', _is_mae, _mae_encoder),
    CheckpointFormat('torchvision-vit', 'torchvision VisionTransformer (conv_proj, encoder.layers; heads dropped)',
                     lambda content: _TORCHVISION_MARKER in _flat(content),
                     lambda content: torchvision_to_timm(flat_state_dict(content))),
    CheckpointFormat('mmpretrain-vit', 'mmpretrain VisionTransformer classifier (state_dict backbone.layers.N; '
                     'head dropped)', lambda content: _MMPRETRAIN_MARKER in _flat(content),
                     lambda content: mmpretrain_to_timm(strip_prefix(flat_state_dict(content), 'backbone.'))),
    CheckpointFormat('timm', 'timm VisionTransformer (cls_token, patch_embed.proj, blocks.N, head; head dropped)',
                     lambda content: VIT_BLOCK_MARKER in _flat(content) and 'head.weight' in _flat(content),
                     lambda content: timm_backbone(flat_state_dict(content)), prefix=''),
)

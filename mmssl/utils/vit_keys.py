"""Vision Transformer weight naming: each project's ViT state dict → timm's ``VisionTransformer`` names (mmssl's ViT
backbone uses timm's names, so timm's layout is the one every ViT layout is read into and the one mmssl exports).

Pure key renaming: every function returns a new dict that holds the very same values under timm names (nothing is
copied or changed), so that what a read leaves out of a file can be told by identity. Entries a layout does not name
as part of its backbone are left out by the layout's reader (:mod:`mmssl.utils.checkpoint_formats_vit`), never here,
except where noted. The names, as each project's own code defines them:

- timm ``timm/models/vision_transformer.py``: ``cls_token``, ``reg_token``, ``pos_embed``, ``patch_embed.proj``,
  ``blocks.N.{norm1, attn.qkv, attn.proj, ls1.gamma, norm2, mlp.fc1, mlp.fc2, ls2.gamma}``, ``norm``, ``head``.
- DINO ``vision_transformer.py``, MoCo v3 ``vits.py`` (a timm 0.4.9 subclass), MAE ``models_mae.py`` (timm's
  ``Block`` and ``PatchEmbed``): timm's names. iBOT ``models/vision_transformer.py``: timm's names, layer scale
  as ``blocks.N.gamma_1`` / ``gamma_2`` (DeiT III's naming, too).
- DINOv2 ``dinov2/models/vision_transformer.py``: timm's names with ``register_tokens`` for timm's ``reg_token``,
  ``mask_token`` (iBOT masking, not part of the forward pass of a backbone) and, with ``block_chunks > 0``,
  ``blocks.C.N.`` (chunk ``C`` holding block ``N``).
- torchvision ``torchvision/models/vision_transformer.py``: ``class_token``, ``conv_proj``,
  ``encoder.pos_embedding``, ``encoder.layers.encoder_layer_N.{ln_1, self_attention.in_proj_weight / in_proj_bias
  / out_proj, ln_2, mlp.0, mlp.3}``, ``encoder.ln``, ``heads.head``.
- mmpretrain ``mmpretrain/models/backbones/vision_transformer.py`` (names as its ``deit3_to_mmpretrain.py``
  converter writes them from timm's): ``patch_embed.projection``, ``layers.N.{ln1, attn.qkv, attn.proj,
  attn.gamma1.weight, ln2, ffn.layers.0.0, ffn.layers.1, ffn.gamma2.weight}``, final norm ``ln1``, ``pre_norm``.
"""
import re
from typing import Any, Callable, Dict, Iterable, Tuple

__all__ = ['VIT_BLOCK_MARKER', 'dinov2_to_timm', 'is_timm_vit', 'mmpretrain_to_timm', 'timm_to_torchvision',
           'timm_backbone', 'torchvision_to_timm', 'vit_geometry']

StateDict = Dict[str, Any]
#: the key that shows a timm-named ViT (its first block's attention), with or without a prefix in front of it
VIT_BLOCK_MARKER = 'blocks.0.attn.qkv.weight'
Rule = Tuple[str, str]


def _rename(state_dict: StateDict, rules: Iterable[Rule]) -> StateDict:
    """Apply the first matching ``(pattern, replacement)`` (a full match) to each key; other keys are kept."""
    rules = [(re.compile(pattern), replacement) for pattern, replacement in rules]
    renamed = {}
    for key, value in state_dict.items():
        for pattern, replacement in rules:
            if pattern.fullmatch(key):
                key = pattern.sub(replacement, key)
                break
        renamed[key] = value
    return renamed


def _without(state_dict: StateDict, drop: Callable[[str], bool]) -> StateDict:
    return {key: value for key, value in state_dict.items() if not drop(key)}


def is_timm_vit(state_dict: StateDict) -> bool:
    """Whether the keys (prefix already stripped) hold a timm-named ViT: its first block's attention."""
    return VIT_BLOCK_MARKER in state_dict


# iBOT's and DeiT III's layer scale (a bare parameter per branch) is timm's LayerScale module
_LAYER_SCALE_RULES = ((r'blocks\.(\d+)\.gamma_1', r'blocks.\1.ls1.gamma'),
                      (r'blocks\.(\d+)\.gamma_2', r'blocks.\1.ls2.gamma'))


def timm_backbone(state_dict: StateDict) -> StateDict:
    """A timm-named ViT (timm, DINO, MoCo v3, MAE, iBOT) as its backbone: the classifier / projection ``head.*``
    left out, iBOT's layer scale ``gamma_1`` / ``gamma_2`` renamed to timm's ``ls1.gamma`` / ``ls2.gamma``."""
    return _rename(_without(state_dict, lambda key: key.startswith('head.')), _LAYER_SCALE_RULES)


def dinov2_to_timm(state_dict: StateDict) -> StateDict:
    """DINOv2's backbone names → timm's: chunked blocks ``blocks.C.N.*`` → ``blocks.N.*``, ``register_tokens`` →
    ``reg_token``; ``mask_token`` (used only to mask patches in training) left out.

    DINOv2's ``pos_embed`` covers the class token only (register tokens get none); the loader fits it to the
    model's convention when it loads (:mod:`mmssl.utils.checkpoint.position`).
    """
    rules = ((r'blocks\.\d+\.(\d+)\.(.+)', r'blocks.\1.\2'), (r'register_tokens', 'reg_token'))
    return _rename(_without(state_dict, lambda key: key == 'mask_token'), rules)


_TORCHVISION_RULES = (
    (r'class_token', 'cls_token'),
    (r'conv_proj\.(weight|bias)', r'patch_embed.proj.\1'),
    (r'encoder\.pos_embedding', 'pos_embed'),
    (r'encoder\.layers\.encoder_layer_(\d+)\.ln_1\.(weight|bias)', r'blocks.\1.norm1.\2'),
    (r'encoder\.layers\.encoder_layer_(\d+)\.self_attention\.in_proj_(weight|bias)', r'blocks.\1.attn.qkv.\2'),
    (r'encoder\.layers\.encoder_layer_(\d+)\.self_attention\.out_proj\.(weight|bias)', r'blocks.\1.attn.proj.\2'),
    (r'encoder\.layers\.encoder_layer_(\d+)\.ln_2\.(weight|bias)', r'blocks.\1.norm2.\2'),
    (r'encoder\.layers\.encoder_layer_(\d+)\.mlp\.0\.(weight|bias)', r'blocks.\1.mlp.fc1.\2'),
    (r'encoder\.layers\.encoder_layer_(\d+)\.mlp\.3\.(weight|bias)', r'blocks.\1.mlp.fc2.\2'),
    (r'encoder\.ln\.(weight|bias)', r'norm.\1'),
)


def torchvision_to_timm(state_dict: StateDict) -> StateDict:
    """torchvision's ``VisionTransformer`` names → timm's; the classifier ``heads.*`` left out.

    torchvision's attention is ``nn.MultiheadAttention``, whose packed ``in_proj_weight`` stacks query, key and
    value in timm's ``qkv`` order, so the tensors carry over unchanged.
    """
    return _rename(_without(state_dict, lambda key: key.startswith('heads.')), _TORCHVISION_RULES)


_TIMM_TO_TORCHVISION_RULES = (
    (r'cls_token', 'class_token'),
    (r'patch_embed\.proj\.(weight|bias)', r'conv_proj.\1'),
    (r'pos_embed', 'encoder.pos_embedding'),
    (r'blocks\.(\d+)\.norm1\.(weight|bias)', r'encoder.layers.encoder_layer_\1.ln_1.\2'),
    (r'blocks\.(\d+)\.attn\.qkv\.(weight|bias)', r'encoder.layers.encoder_layer_\1.self_attention.in_proj_\2'),
    (r'blocks\.(\d+)\.attn\.proj\.(weight|bias)', r'encoder.layers.encoder_layer_\1.self_attention.out_proj.\2'),
    (r'blocks\.(\d+)\.norm2\.(weight|bias)', r'encoder.layers.encoder_layer_\1.ln_2.\2'),
    (r'blocks\.(\d+)\.mlp\.fc1\.(weight|bias)', r'encoder.layers.encoder_layer_\1.mlp.0.\2'),
    (r'blocks\.(\d+)\.mlp\.fc2\.(weight|bias)', r'encoder.layers.encoder_layer_\1.mlp.3.\2'),
    (r'norm\.(weight|bias)', r'encoder.ln.\1'),
)


def timm_to_torchvision(state_dict: StateDict) -> StateDict:
    """timm's ViT names → torchvision's (the inverse of :func:`torchvision_to_timm`, for export); ``head.*`` left out.

    Raises:
        KeyError: a tensor torchvision's ViT has no place for (register tokens, layer scale), named.
    """
    backbone = timm_backbone(state_dict)
    extra = [key for key in backbone if key == 'reg_token' or '.ls1.' in key or '.ls2.' in key]
    if extra:
        raise KeyError(f'torchvision\'s VisionTransformer has no register tokens or layer scale (found '
                       f'{", ".join(extra[:3])})')
    return _rename(backbone, _TIMM_TO_TORCHVISION_RULES)


_MMPRETRAIN_RULES = (
    (r'patch_embed\.projection\.(weight|bias)', r'patch_embed.proj.\1'),
    (r'layers\.(\d+)\.ln1\.(weight|bias)', r'blocks.\1.norm1.\2'),
    (r'layers\.(\d+)\.ln2\.(weight|bias)', r'blocks.\1.norm2.\2'),
    (r'layers\.(\d+)\.attn\.(qkv|proj)\.(weight|bias)', r'blocks.\1.attn.\2.\3'),
    (r'layers\.(\d+)\.attn\.gamma1\.weight', r'blocks.\1.ls1.gamma'),
    (r'layers\.(\d+)\.ffn\.layers\.0\.0\.(weight|bias)', r'blocks.\1.mlp.fc1.\2'),
    (r'layers\.(\d+)\.ffn\.layers\.1\.(weight|bias)', r'blocks.\1.mlp.fc2.\2'),
    (r'layers\.(\d+)\.ffn\.gamma2\.weight', r'blocks.\1.ls2.gamma'),
    (r'ln1\.(weight|bias)', r'norm.\1'),
    (r'pre_norm\.(weight|bias)', r'norm_pre.\1'),
    (r'ln2\.(weight|bias)', r'fc_norm.\1'),
)


def mmpretrain_to_timm(state_dict: StateDict) -> StateDict:
    """mmpretrain's ``VisionTransformer`` backbone names (``backbone.`` already stripped) → timm's: the final norm
    ``ln1`` is timm's ``norm``, CLIP's ``pre_norm`` timm's ``norm_pre``, the ``avg_featmap`` norm ``ln2`` timm's
    ``fc_norm``."""
    return _rename(state_dict, _MMPRETRAIN_RULES)


def vit_geometry(state_dict: StateDict) -> Dict[str, Any]:
    """What a timm-named ViT's tensors show: ``patch_size`` (the patch embedding's kernel; ``None`` without one),
    ``width``, ``depth`` (blocks), ``register_tokens`` and ``layer_scale`` (whether blocks have ``ls1``)."""
    proj = state_dict.get('patch_embed.proj.weight')
    qkv = state_dict.get(VIT_BLOCK_MARKER)
    blocks = {int(match[1]) for key in state_dict for match in [re.match(r'blocks\.(\d+)\.', key)] if match}
    reg = state_dict.get('reg_token')
    return dict(patch_size=tuple(proj.shape[-2:]) if proj is not None and len(proj.shape) == 4 else None,
                width=int(qkv.shape[1]) if qkv is not None else None,
                depth=max(blocks) + 1 if blocks else 0,
                register_tokens=int(reg.shape[1]) if reg is not None else 0,
                layer_scale=any('.ls1.' in key for key in state_dict))

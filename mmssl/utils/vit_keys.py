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
from typing import Any, Callable, Dict, Iterable, Optional, Pattern, Sequence, Tuple, Union

__all__ = ['OPENMMLAB_VIT_NAMES', 'VIT_BLOCK_MARKER', 'dinov2_to_timm', 'is_timm_vit', 'mmpretrain_to_timm',
           'name_rules', 'rename_key', 'timm_to_torchvision', 'timm_backbone', 'torchvision_to_timm', 'vit_geometry']

StateDict = Dict[str, Any]
#: the key that shows a timm-named ViT (its first block's attention), with or without a prefix in front of it
VIT_BLOCK_MARKER = 'blocks.0.attn.qkv.weight'
Rule = Tuple[Union[str, Pattern], str]
#: name template fields: ``{n}`` a block index, ``{p}`` a parameter (``weight`` / ``bias``), ``{q}`` an attention
#: projection (``qkv`` / ``proj``)
_FIELDS = {'n': r'\d+', 'p': 'weight|bias', 'q': 'qkv|proj'}


def name_rules(pairs: Iterable[Tuple[str, str]], reverse: bool = False) -> Tuple[Tuple[Pattern, str], ...]:
    """Compiled ``(pattern, replacement)`` rules renaming each pair's first template to its second (the second to
    the first with ``reverse``), so that one table of names serves both directions.

    Templates are literal names with fields (:data:`_FIELDS`), e.g. ``('blocks.{n}.norm1.{p}',
    'layers.{n}.ln1.{p}')``; a field's value carries over.
    """
    rules = []
    for source, target in pairs:
        if reverse:
            source, target = target, source
        parts = re.split(r'\{(\w)\}', source)  # literal, field, literal, field, ...
        pattern = ''.join(re.escape(part) if i % 2 == 0 else f'(?P<{part}>{_FIELDS[part]})'
                          for i, part in enumerate(parts))
        rules.append((re.compile(pattern), re.sub(r'\{(\w)\}', r'\\g<\1>', target)))
    return tuple(rules)


def rename_key(key: str, rules: Sequence[Rule]) -> Optional[str]:
    """``key`` renamed by the first ``(pattern, replacement)`` of ``rules`` that matches it in full; ``None`` where
    none does."""
    for pattern, replacement in rules:
        pattern = re.compile(pattern)
        if pattern.fullmatch(key):
            return pattern.sub(replacement, key)
    return None


def _rename(state_dict: StateDict, rules: Iterable[Rule]) -> StateDict:
    """Apply the first matching ``(pattern, replacement)`` (a full match) to each key; other keys are kept."""
    rules = [(re.compile(pattern), replacement) for pattern, replacement in rules]
    renamed = {}
    for key, value in state_dict.items():
        new_key = rename_key(key, rules)
        renamed[key if new_key is None else new_key] = value
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


#: (timm name, torchvision name)
_TORCHVISION_NAMES = (
    ('cls_token', 'class_token'),
    ('patch_embed.proj.{p}', 'conv_proj.{p}'),
    ('pos_embed', 'encoder.pos_embedding'),
    ('blocks.{n}.norm1.{p}', 'encoder.layers.encoder_layer_{n}.ln_1.{p}'),
    ('blocks.{n}.attn.qkv.{p}', 'encoder.layers.encoder_layer_{n}.self_attention.in_proj_{p}'),
    ('blocks.{n}.attn.proj.{p}', 'encoder.layers.encoder_layer_{n}.self_attention.out_proj.{p}'),
    ('blocks.{n}.norm2.{p}', 'encoder.layers.encoder_layer_{n}.ln_2.{p}'),
    ('blocks.{n}.mlp.fc1.{p}', 'encoder.layers.encoder_layer_{n}.mlp.0.{p}'),
    ('blocks.{n}.mlp.fc2.{p}', 'encoder.layers.encoder_layer_{n}.mlp.3.{p}'),
    ('norm.{p}', 'encoder.ln.{p}'),
)


def torchvision_to_timm(state_dict: StateDict) -> StateDict:
    """torchvision's ``VisionTransformer`` names → timm's; the classifier ``heads.*`` left out.

    torchvision's attention is ``nn.MultiheadAttention``, whose packed ``in_proj_weight`` stacks query, key and
    value in timm's ``qkv`` order, so the tensors carry over unchanged.
    """
    rules = name_rules(_TORCHVISION_NAMES, reverse=True)
    return _rename(_without(state_dict, lambda key: key.startswith('heads.')), rules)


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
    return _rename(backbone, name_rules(_TORCHVISION_NAMES))


#: (timm name, OpenMMLab name) of a ViT's patch embedding and blocks, shared by the OpenMMLab ViTs (mmpretrain's
#: ``VisionTransformer``, mmseg's ``BEiT`` / ``MAE``), which differ in where they keep layer scale
OPENMMLAB_VIT_NAMES = (
    ('patch_embed.proj.{p}', 'patch_embed.projection.{p}'),
    ('blocks.{n}.norm1.{p}', 'layers.{n}.ln1.{p}'),
    ('blocks.{n}.norm2.{p}', 'layers.{n}.ln2.{p}'),
    ('blocks.{n}.attn.{q}.{p}', 'layers.{n}.attn.{q}.{p}'),
    ('blocks.{n}.mlp.fc1.{p}', 'layers.{n}.ffn.layers.0.0.{p}'),
    ('blocks.{n}.mlp.fc2.{p}', 'layers.{n}.ffn.layers.1.{p}'),
)
#: (timm name, mmpretrain name) beyond :data:`OPENMMLAB_VIT_NAMES`
_MMPRETRAIN_NAMES = (
    ('blocks.{n}.ls1.gamma', 'layers.{n}.attn.gamma1.weight'),
    ('blocks.{n}.ls2.gamma', 'layers.{n}.ffn.gamma2.weight'),
    ('norm.{p}', 'ln1.{p}'),
    ('norm_pre.{p}', 'pre_norm.{p}'),
    ('fc_norm.{p}', 'ln2.{p}'),
)


def mmpretrain_to_timm(state_dict: StateDict) -> StateDict:
    """mmpretrain's ``VisionTransformer`` backbone names (``backbone.`` already stripped) → timm's: the final norm
    ``ln1`` is timm's ``norm``, CLIP's ``pre_norm`` timm's ``norm_pre``, the ``avg_featmap`` norm ``ln2`` timm's
    ``fc_norm``."""
    rules = name_rules(OPENMMLAB_VIT_NAMES + _MMPRETRAIN_NAMES, reverse=True)
    return _rename(state_dict, rules)


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

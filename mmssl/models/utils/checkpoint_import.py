"""Import a checkpoint of another layout as an mmssl checkpoint, under the loader's fit policy.

The fit policy needs a model to fit: the backbone the checkpoint's keys show, a ResNet of that depth or a Vision
Transformer of that patch size, width, depth, register tokens and layer scale (timm's ``VisionTransformer``, whose
names mmssl's ViT backbone keeps). Converters (``tools/model_converters/import_checkpoint.py``) and the dense
benchmarks write through :func:`import_checkpoint`, so a deep stem, a Sobel input, an unknown depth or a ViT
without its patch embedding is refused before anything is written.
"""
import math
import os
import os.path as osp
from typing import Dict, Optional, Tuple

import torch

from mmssl.utils.checkpoint import BackboneWeights, CheckpointMismatchError, LoadReport, load_state_dict_checked
from mmssl.utils.checkpoint.mismatch import backbone_family
from mmssl.utils.checkpoint.reading import BACKBONE_PREFIX
from mmssl.utils.vit_keys import vit_geometry

from ..backbones.resnet import Bottleneck, ResNet

__all__ = ['check_backbone_fit', 'check_resnet_fit', 'import_checkpoint']

#: the patch size assumed for a ViT checkpoint without a patch embedding (refused by the policy, which names it)
_NO_PATCH = 16
#: the entries the loader may fit to a ViT model before loading (:mod:`mmssl.utils.checkpoint.position`)
_FITTED_KEYS = ('pos_embed', 'cls_token', 'reg_token')


def _resnet_depth(state_dict: Dict[str, torch.Tensor], source: str) -> int:
    """The ResNet depth whose block type and blocks per stage the keys show; refuses any other count."""
    counts = tuple(len({key.split('.')[1] for key in state_dict if key.startswith(f'layer{stage}.')})
                   for stage in range(1, 5))
    bottleneck = any(key.endswith('.conv3.weight') for key in state_dict)
    for depth, (block, blocks) in ResNet.arch_settings.items():
        if blocks == counts and (block is Bottleneck) == bottleneck:
            return depth
    known = ', '.join(f'ResNet-{depth} {blocks}' for depth, (_, blocks) in ResNet.arch_settings.items())
    raise CheckpointMismatchError(
        f'{source}: its backbone has {"bottleneck" if bottleneck else "basic"} blocks per stage {counts}, which is '
        f'no ResNet depth mmssl builds ({known})')


def check_resnet_fit(state_dict: Dict[str, torch.Tensor], source: str, layout: Optional[str] = None) -> LoadReport:
    """Run the loader's fit policy on the mmssl ResNet of the depth the keys show: a deep stem, a Sobel input
    (``conv1.weight`` of 2 channels) or an unknown depth is refused, naming the mismatch."""
    return load_state_dict_checked(ResNet(depth=_resnet_depth(state_dict, source)), state_dict, source=source,
                                   checkpoint_format=layout)


def _vit_for(state_dict: Dict[str, torch.Tensor], source: str) -> torch.nn.Module:
    """timm's ``VisionTransformer`` of the geometry a timm-named state dict shows (its grid from ``pos_embed``)."""
    from timm.models.vision_transformer import VisionTransformer
    geometry = vit_geometry(state_dict)
    if not geometry['width'] or not geometry['depth']:
        raise CheckpointMismatchError(f'{source}: its ViT has no attention in its first block '
                                      '(blocks.0.attn.qkv.weight); no Vision Transformer mmssl builds fits')
    width, patch = geometry['width'], (geometry['patch_size'] or (_NO_PATCH, _NO_PATCH))[0]
    pos = state_dict.get('pos_embed')
    rows = int(pos.shape[1]) if pos is not None and pos.ndim == 3 else 1
    grid = next((math.isqrt(rows - prefix) for prefix in (1 + geometry['register_tokens'], 1, 0)
                 if rows - prefix > 0 and math.isqrt(rows - prefix) ** 2 == rows - prefix), 1)
    fc1 = state_dict.get('blocks.0.mlp.fc1.weight')
    return VisionTransformer(
        img_size=patch * grid, patch_size=patch, embed_dim=width, depth=geometry['depth'],
        num_heads=max(width // 64, 1), mlp_ratio=fc1.shape[0] / width if fc1 is not None else 4.0,
        qkv_bias='blocks.0.attn.qkv.bias' in state_dict, reg_tokens=geometry['register_tokens'],
        init_values=1.0 if geometry['layer_scale'] else None, class_token='cls_token' in state_dict,
        num_classes=0)


def _fit_model(state_dict: Dict[str, torch.Tensor], source: str,
               layout: Optional[str]) -> Tuple[torch.nn.Module, LoadReport]:
    family = backbone_family(state_dict)
    if family == 'ResNet':
        model = ResNet(depth=_resnet_depth(state_dict, source))
    elif family == 'ViT':
        model = _vit_for(state_dict, source)
    else:
        raise CheckpointMismatchError(
            f'{source}: its backbone is neither a ResNet (conv1, layer1 ...) nor a Vision Transformer (patch_embed, '
            f'blocks ...); keys e.g.: {", ".join(list(state_dict)[:5])}')
    return model, load_state_dict_checked(model, state_dict, source=source, checkpoint_format=layout)


def check_backbone_fit(state_dict: Dict[str, torch.Tensor], source: str, layout: Optional[str] = None) -> LoadReport:
    """Run the loader's fit policy on the backbone the keys show: the ResNet of that depth
    (:func:`check_resnet_fit`) or the Vision Transformer of that geometry; a checkpoint of neither family, or one
    that does not fit its own family's model (no patch embedding, a deep stem ...), is refused naming why."""
    return _fit_model(state_dict, source, layout)[1]


def import_checkpoint(source: str, destination: str, checkpoint_format: Optional[str] = None,
                      prefix: Optional[str] = None, key_path: Optional[str] = None) -> str:
    """Write the backbone of ``source`` (any supported layout) as an mmssl checkpoint: ``state_dict`` with
    ``backbone.*`` keys (torchvision's names for a ResNet, timm's for a ViT) and a ``meta`` naming the source file,
    its layout and its sha256. The backbone must pass the loader's fit policy (:func:`check_backbone_fit`) before
    anything is written, and is written as that model holds it (a ViT's position rows of its register tokens in
    timm's convention); written atomically; returns ``destination``.

    Raises:
        CheckpointMismatchError: the backbone does not fit the mmssl backbone its keys show; nothing is written.
    """
    weights = BackboneWeights.from_checkpoint(source, checkpoint_format, prefix, key_path)
    model, report = _fit_model(weights.state_dict, weights.path, weights.layout)
    # a ViT's fitted tokens as the model holds them (position rows in timm's convention for its register tokens, at
    # the checkpoint's own grid); every other entry as the file has it (its dtype included)
    fitted = {key: model.state_dict()[key] for key in _FITTED_KEYS if report.adapted and key in report.matched}
    backbone = {**weights.state_dict, **fitted}
    meta = dict(source_file=weights.path, source_sha256=weights.sha256, source_format=weights.layout)
    os.makedirs(osp.dirname(osp.abspath(destination)), exist_ok=True)
    tmp = f'{destination}.tmp{os.getpid()}'
    torch.save({'state_dict': {f'{BACKBONE_PREFIX}{key}': value for key, value in backbone.items()},
                'meta': meta}, tmp)
    os.replace(tmp, destination)
    return destination

"""Naming what sets a checkpoint's backbone apart from the model it does not fit, in the words of its family: a
ResNet file for a Vision Transformer (or the reverse), another patch size, width or depth, a missing patch
embedding. The fit policy (:mod:`.report`) puts this first in its one-line refusal.
"""
from typing import Dict, List

import torch

from ..vit_keys import vit_geometry

__all__ = ['backbone_family', 'describe_mismatch']


def backbone_family(state_dict: Dict[str, torch.Tensor]) -> str:
    """``'ResNet'``, ``'ViT'`` or ``'unknown'``: what a state dict with mmssl's names holds."""
    if any(key.startswith('layer1.') for key in state_dict) or 'conv1.weight' in state_dict:
        return 'ResNet'
    if 'patch_embed.proj.weight' in state_dict or any(key.startswith('blocks.') for key in state_dict):
        return 'ViT'
    return 'unknown'


def _size(patch) -> str:
    return 'none' if patch is None else 'x'.join(map(str, patch)) if patch[0] != patch[-1] else str(patch[0])


def _vit_differences(checkpoint: Dict[str, torch.Tensor], module: Dict[str, torch.Tensor]) -> List[str]:
    theirs, own = vit_geometry(checkpoint), vit_geometry(module)
    if own['patch_size'] and not theirs['patch_size']:
        return ['the checkpoint has no patch embedding (patch_embed.proj.weight), which the model needs']
    found = []
    if theirs['patch_size'] != own['patch_size']:
        found.append(f'patch size {_size(theirs["patch_size"])} in the checkpoint, {_size(own["patch_size"])} in '
                     'the model')
    for name in ('width', 'depth', 'register_tokens'):
        if theirs[name] != own[name]:
            found.append(f'{name.replace("_", " ")} {theirs[name]} in the checkpoint, {own[name]} in the model')
    if theirs['layer_scale'] != own['layer_scale']:
        where = 'the checkpoint' if theirs['layer_scale'] else 'the model'
        found.append(f'layer scale (ls1 / ls2) in {where} only')
    return found


def describe_mismatch(checkpoint: Dict[str, torch.Tensor], module: Dict[str, torch.Tensor]) -> List[str]:
    """What sets ``checkpoint`` apart from ``module`` (both state dicts with mmssl's names), one phrase each; empty
    when the families agree and nothing family-specific differs (the policy's counts then say it)."""
    theirs, own = backbone_family(checkpoint), backbone_family(module)
    if theirs != own and 'unknown' not in (theirs, own):
        return [f'a {theirs} checkpoint for a {own} model']
    if own == 'ViT':
        return _vit_differences(checkpoint, module)
    return []

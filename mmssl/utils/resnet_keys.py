"""ResNet weight naming: mmssl (= torchvision) ↔ detectron2; pure key renaming, so that any layer (the checkpoint
reader among them) can use it.

mmssl's ResNet uses torchvision's names, so the torchvision export only drops non-backbone entries. detectron2
names the stem ``stem.conv1`` and stages ``res2``…``res5``, attaches each BN to its conv as ``convK.norm``
and calls the projection ``shortcut`` (docs/en/benchmarks/detection_segmentation.md).
"""
import re
from typing import Dict

import numpy as np
import torch

__all__ = ['detectron2_to_resnet', 'detectron2_to_resnet_name', 'resnet_to_detectron2']


def _torchvision_to_detectron2_name(name: str) -> str:
    if name == 'conv1.weight':
        return 'stem.conv1.weight'
    match = re.fullmatch(r'bn1\.(\w+)', name)
    if match:
        return f'stem.conv1.norm.{match[1]}'
    match = re.fullmatch(r'layer(\d)\.(\d+)\.(.+)', name)
    if not match:
        raise KeyError(f'{name!r} is not a ResNet backbone parameter')
    stage, block, rest = int(match[1]) + 1, match[2], match[3]
    rest = re.sub(r'^bn(\d)\.', r'conv\1.norm.', rest)
    rest = re.sub(r'^downsample\.0\.', 'shortcut.', rest)
    rest = re.sub(r'^downsample\.1\.', 'shortcut.norm.', rest)
    return f'res{stage}.{block}.{rest}'


def _is_exported(name: str) -> bool:
    # detectron2 has no batch counter; torchvision's fc is not part of the backbone.
    return not name.endswith('num_batches_tracked')


def resnet_to_detectron2(state_dict: Dict[str, torch.Tensor]) -> Dict[str, np.ndarray]:
    """Backbone state dict (torchvision names) → detectron2 names with numpy values, as its ``.pkl`` holds."""
    return {_torchvision_to_detectron2_name(name): tensor.detach().cpu().numpy()
            for name, tensor in state_dict.items() if _is_exported(name)}


def detectron2_to_resnet_name(name: str) -> str:
    """The torchvision name of a detectron2 ResNet backbone parameter (``res2.0.conv1.norm.weight`` →
    ``layer1.0.bn1.weight``).

    Raises:
        KeyError: ``name`` is not a detectron2 ResNet backbone parameter.
    """
    if name == 'stem.conv1.weight':
        return 'conv1.weight'
    match = re.fullmatch(r'stem\.conv1\.norm\.(\w+)', name)
    if match:
        return f'bn1.{match[1]}'
    match = re.fullmatch(r'res(\d)\.(\d+)\.(.+)', name)
    if not match:
        raise KeyError(f'{name!r} is not a detectron2 ResNet backbone parameter')
    rest = re.sub(r'^conv(\d)\.norm\.', r'bn\1.', match[3])
    rest = re.sub(r'^shortcut\.norm\.', 'downsample.1.', rest)
    rest = re.sub(r'^shortcut\.', 'downsample.0.', rest)
    return f'layer{int(match[1]) - 1}.{match[2]}.{rest}'


def detectron2_to_resnet(model: Dict[str, np.ndarray]) -> Dict[str, torch.Tensor]:
    """Inverse of :func:`resnet_to_detectron2` (for checking exports and importing detectron2 backbones)."""
    return {detectron2_to_resnet_name(name): torch.as_tensor(np.asarray(value)) for name, value in model.items()}

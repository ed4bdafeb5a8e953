"""Import a checkpoint of another layout as an mmssl checkpoint, under the loader's fit policy.

The fit policy needs a model to fit: the mmssl ResNet of the depth the checkpoint's keys show. Converters
(``tools/model_converters/import_checkpoint.py``) and the dense benchmarks write through :func:`import_checkpoint`,
so a deep stem, a Sobel input or an unknown depth is refused before anything is written.
"""
import os
import os.path as osp
from typing import Dict, Optional

import torch

from mmssl.utils.checkpoint import BackboneWeights, CheckpointMismatchError, LoadReport, load_state_dict_checked
from mmssl.utils.checkpoint.reading import BACKBONE_PREFIX

from ..backbones.resnet import Bottleneck, ResNet

__all__ = ['check_resnet_fit', 'import_checkpoint']


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


def import_checkpoint(source: str, destination: str, checkpoint_format: Optional[str] = None,
                      prefix: Optional[str] = None, key_path: Optional[str] = None) -> str:
    """Write the ResNet backbone of ``source`` (any supported layout) as an mmssl checkpoint: ``state_dict`` with
    ``backbone.*`` keys and a ``meta`` naming the source file, its layout and its sha256. The backbone must pass
    the loader's fit policy (:func:`check_resnet_fit`) before anything is written; written atomically; returns
    ``destination``.

    Raises:
        CheckpointMismatchError: the backbone does not fit an mmssl ResNet; nothing is written.
    """
    weights = BackboneWeights.from_checkpoint(source, checkpoint_format, prefix, key_path)
    check_resnet_fit(weights.state_dict, weights.path, weights.layout)
    meta = dict(source_file=weights.path, source_sha256=weights.sha256, source_format=weights.layout)
    os.makedirs(osp.dirname(osp.abspath(destination)), exist_ok=True)
    tmp = f'{destination}.tmp{os.getpid()}'
    torch.save({'state_dict': {f'{BACKBONE_PREFIX}{key}': value for key, value in weights.state_dict.items()},
                'meta': meta}, tmp)
    os.replace(tmp, destination)
    return destination

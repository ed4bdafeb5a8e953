"""Inputs that differ from each other in one thing a feature folder is reused for: a checkpoint holding two weight
sets (read with ``--checkpoint-key``), two VOC07 trees, an image list rewritten with other images of its length."""
import os.path as osp
from typing import List

from builders.files import write_lines


def save_two_weight_sets(path, depth: int = 18) -> str:
    """A checkpoint whose ``state_dict`` and ``model`` hold two different randomly initialised ResNets (both with
    ``backbone.`` keys), so that ``--checkpoint-key`` decides which one is evaluated; returns ``path``."""
    import torch

    from mmssl.models import ResNet
    weight_sets = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        backbone = ResNet(depth=depth)
        backbone.init_weights()
        weight_sets.append({f'backbone.{k}': v for k, v in backbone.state_dict().items()})
    torch.save({'state_dict': weight_sets[0], 'model': weight_sets[1], 'meta': {'iter': 1}}, path)
    return str(path)


def rewrite_list_same_length(root: str, ann_file: str, other: str) -> List[str]:
    """Rewrite the image list ``root/ann_file`` with the first lines of ``root/other`` (images of another split),
    as many as it had: the same length, other content. Returns the new lines."""
    with open(osp.join(root, ann_file)) as f:
        count = len([line for line in f if line.strip()])
    with open(osp.join(root, other)) as f:
        lines = [line.strip() for line in f if line.strip()][:count]
    if len(lines) != count:
        raise ValueError(f'{other} has fewer than {count} lines')
    write_lines(osp.join(root, ann_file), lines)
    return lines

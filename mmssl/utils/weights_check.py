"""Checks that pre-trained weights really arrived in a model built by another toolbox (mmdet, mmseg).

mmdet and mmseg load ``init_cfg=dict(type='Pretrained', ...)`` with mmengine's loader, which uses
``strict=False`` and only logs mismatches: a checkpoint with the wrong prefix or a different stem leaves the
backbone (partly) random and the benchmark quietly reports a random network. These functions check the file
before the model is built and compare the model's tensors with the checkpoint's after initialisation.
"""
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Sequence

import torch

from .checkpoint import CheckpointMismatchError, load_checkpoint_state_dict, select_prefix

__all__ = ['WeightsComparison', 'require_prefixed_checkpoint', 'compare_module_weights', 'verify_loaded_weights']


def require_prefixed_checkpoint(checkpoint: str, prefix: str = 'backbone.') -> Dict[str, torch.Tensor]:
    """Read ``checkpoint`` and return its entries under ``prefix`` (prefix stripped); refuse anything else.

    Dense benchmarks take a full mmssl pre-training checkpoint (as ``tools/train.py`` writes it, keys
    ``backbone.*``, ``neck.*``, ...). A backbone-only file (``conv1.weight`` ...) is refused rather than guessed
    at, so the same file always loads the same way in every benchmark config.

    Raises:
        FileNotFoundError: ``checkpoint`` is not a file.
        CheckpointMismatchError: no key starts with ``prefix``.
    """
    if not isinstance(checkpoint, str) or not checkpoint:
        raise CheckpointMismatchError(f'expected the path of a pre-training checkpoint, got {checkpoint!r}')
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'pre-trained checkpoint {checkpoint} does not exist')
    state_dict = load_checkpoint_state_dict(checkpoint)
    selected = select_prefix(state_dict, prefix)
    if not selected:
        hint = ''
        if 'conv1.weight' in state_dict or 'stem.0.weight' in state_dict:
            hint = (' It looks like a backbone-only file; pass the pre-training checkpoint itself (work_dirs/.../'
                    f'epoch_N.pth) or re-add the prefix: {{"state_dict": {{"{prefix}" + key: value}}}}.')
        raise CheckpointMismatchError(
            f'{checkpoint}: expected a full mmssl pre-training checkpoint with "{prefix}"-prefixed keys, but no key '
            f'starts with "{prefix}" (keys e.g.: {", ".join(list(state_dict)[:5]) or "none"}).{hint}')
    return selected


@dataclass
class WeightsComparison:
    """How a module's tensors compare with the checkpoint entries meant for it.

    ``equal`` keys hold exactly the checkpoint's values; ``different`` exist with the same shape but other
    values (not loaded, or changed since); ``missing`` have no checkpoint entry; ``shape_mismatched`` have one
    of another shape; ``new`` are layers the benchmark adds on top of the pre-trained network (not expected
    in the checkpoint, not counted).
    """
    equal: List[str] = field(default_factory=list)
    different: List[str] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    shape_mismatched: List[str] = field(default_factory=list)
    new: List[str] = field(default_factory=list)
    first_key: str = ''

    @property
    def num_keys(self) -> int:
        return len(self.equal) + len(self.different) + len(self.missing) + len(self.shape_mismatched)

    @property
    def match_ratio(self) -> float:
        return len(self.equal) / max(self.num_keys, 1)

    @property
    def input_layer_loaded(self) -> bool:
        return self.first_key in self.equal

    def summary(self) -> str:
        return (f'{len(self.equal)}/{self.num_keys} keys equal to the checkpoint ({100 * self.match_ratio:.1f}%), '
                f'missing {len(self.missing)}, different values {len(self.different)}, '
                f'shape mismatch {len(self.shape_mismatched)}, new layers {len(self.new)}')


def compare_module_weights(module: torch.nn.Module, state_dict: Dict[str, torch.Tensor],
                           new_keys: Sequence[str] = ()) -> WeightsComparison:
    """Compare every tensor of ``module.state_dict()`` with the same-named entry of ``state_dict``.

    Args:
        module: the initialised module (e.g. a detector's backbone).
        state_dict: the checkpoint entries meant for it, prefix already stripped.
        new_keys: key prefixes of layers that the benchmark adds (e.g. ``'norm.'`` after res5); skipped.
    """
    result = WeightsComparison()
    for key, tensor in module.state_dict().items():
        if any(key.startswith(prefix) for prefix in new_keys):
            result.new.append(key)
            continue
        if not result.first_key:
            result.first_key = key
        if key not in state_dict:
            result.missing.append(key)
        elif tuple(state_dict[key].shape) != tuple(tensor.shape):
            result.shape_mismatched.append(key)
        elif torch.equal(state_dict[key].to(device=tensor.device, dtype=tensor.dtype), tensor):
            result.equal.append(key)
        else:
            result.different.append(key)
    return result


def verify_loaded_weights(module: torch.nn.Module, state_dict: Dict[str, torch.Tensor], *, name: str,
                          checkpoint: str, prefix: str, new_keys: Sequence[str] = (),
                          min_match_ratio: float = 0.9) -> WeightsComparison:
    """Raise unless ``module`` holds the checkpoint's weights; return the comparison otherwise.

    Two conditions, both needed: at least ``min_match_ratio`` of the module's keys equal the checkpoint's,
    and the module's first tensor (its input layer) is among them. The second catches a stem mismatch that a
    ratio cannot: a deep-stem ResNetV1c checkpoint shares 312 of a plain ResNet-50's 318 keys (98%), yet
    without its first convolution the network has not been pre-trained in any useful sense.

    Args:
        module: the initialised module.
        state_dict: the checkpoint entries for it (prefix stripped), e.g. from :func:`require_prefixed_checkpoint`.
        name: the module's name in the model (``backbone``, ``roi_head.shared_head``), for messages.
        checkpoint: the checkpoint file, for messages.
        prefix: the prefix that was stripped, for messages.
        new_keys: see :func:`compare_module_weights`.
        min_match_ratio: least share of equal keys.

    Raises:
        CheckpointMismatchError: naming the checkpoint, the prefix, the ratio and example keys.
    """
    result = compare_module_weights(module, state_dict, new_keys)
    problems = []
    if result.match_ratio < min_match_ratio:
        problems.append(f'fewer than {100 * min_match_ratio:.0f}% of the keys were loaded')
    if not result.input_layer_loaded:
        problems.append(f'its input layer {result.first_key!r} was not loaded')
    if problems:
        not_loaded = result.missing + result.shape_mismatched + result.different
        raise CheckpointMismatchError(
            f'pre-trained weights did not load into model.{name} ({type(module).__name__}) from {checkpoint} '
            f'with prefix "{prefix}": {" and ".join(problems)}; {result.summary()}. Not loaded e.g.: '
            f'{", ".join(not_loaded[:6])}. Checkpoint keys e.g.: {", ".join(list(state_dict)[:6]) or "none"}. '
            'Expected a full mmssl pre-training checkpoint of a plain (torchvision-layout) ResNet with '
            f'"{prefix}"-prefixed keys; a deep-stem ResNetV1c checkpoint (stem.0.weight ...) does not fit.')
    return result

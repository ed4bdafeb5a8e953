"""Loading (possibly prefixed) state dicts with an explicit key-match report.

Earlier toolboxes loaded a full algorithm checkpoint (``backbone.*`` keys) into a bare backbone with
``strict=False``, matched nothing and silently evaluated a random network. Every load in mmssl goes through
:func:`load_state_dict_checked`, which says what matched and refuses a checkpoint that barely fits.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import torch
from mmengine.logging import MMLogger, print_log
from mmengine.runner.checkpoint import _load_checkpoint

__all__ = ['LoadReport', 'CheckpointMismatchError', 'load_checkpoint_state_dict', 'select_prefix',
           'load_state_dict_checked', 'load_checkpoint_checked']


class CheckpointMismatchError(RuntimeError):
    """Raised when too few of a module's keys are found in a checkpoint."""


@dataclass
class LoadReport:
    """What happened when a state dict was loaded into a module.

    ``matched`` keys were copied; ``missing`` module keys had no counterpart; ``unexpected`` checkpoint keys
    have no place in the module; ``shape_mismatched`` exist in both with different shapes (not copied).
    """
    matched: List[str] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    shape_mismatched: List[str] = field(default_factory=list)

    @property
    def num_module_keys(self) -> int:
        return len(self.matched) + len(self.missing) + len(self.shape_mismatched)

    @property
    def match_ratio(self) -> float:
        return len(self.matched) / max(self.num_module_keys, 1)

    def summary(self) -> str:
        return (f'matched {len(self.matched)}/{self.num_module_keys} module keys '
                f'({100 * self.match_ratio:.1f}%), missing {len(self.missing)}, '
                f'unexpected {len(self.unexpected)}, shape mismatch {len(self.shape_mismatched)}')


def load_checkpoint_state_dict(filename: str) -> Dict[str, torch.Tensor]:
    """Read a checkpoint file (mmengine, plain state dict, or ``{'model': ...}``) into a flat state dict.

    Loading stays weights-only; mmssl allow-lists the types that mmengine checkpoints carry.
    """
    checkpoint = _load_checkpoint(filename, map_location='cpu')
    if not isinstance(checkpoint, dict):
        raise CheckpointMismatchError(f'{filename}: expected a dict checkpoint, got {type(checkpoint).__name__}')
    for key in ('state_dict', 'model'):
        if key in checkpoint and isinstance(checkpoint[key], dict):
            return checkpoint[key]
    return checkpoint


def select_prefix(state_dict: Dict[str, torch.Tensor], prefix: str) -> Dict[str, torch.Tensor]:
    """Keep the entries under ``prefix`` (e.g. ``'backbone.'``) with the prefix stripped."""
    if prefix and not prefix.endswith('.'):
        prefix += '.'
    return {key[len(prefix):]: value for key, value in state_dict.items() if key.startswith(prefix)}


def _strip_ddp_prefix(state_dict):
    if state_dict and all(key.startswith('module.') for key in state_dict):
        return {key[len('module.'):]: value for key, value in state_dict.items()}
    return state_dict


def load_state_dict_checked(module: torch.nn.Module,
                            state_dict: Dict[str, torch.Tensor],
                            prefix: Optional[str] = None,
                            min_match_ratio: float = 0.9,
                            source: str = 'state dict',
                            logger: Optional[MMLogger] = None) -> LoadReport:
    """Copy matching entries of ``state_dict`` into ``module`` and report what matched.

    Args:
        module: the module to load into.
        state_dict: flat tensor dict, e.g. from :func:`load_checkpoint_state_dict`.
        prefix: when given, only keys starting with it are used, with the prefix removed
            (``'backbone.'`` takes the backbone out of a full algorithm checkpoint).
        min_match_ratio: share of the module's keys that must be matched (same name and shape);
            below it :class:`CheckpointMismatchError` is raised and nothing is loaded.
        source: name of the checkpoint, used in messages.
        logger: where to print the report (defaults to the current mmengine logger).

    Returns:
        LoadReport: the matched / missing / unexpected / shape-mismatched keys.
    """
    state_dict = _strip_ddp_prefix(dict(state_dict))
    if prefix:
        state_dict = select_prefix(state_dict, prefix)
    own_state = module.state_dict()
    report = LoadReport()
    for key, target in own_state.items():
        if key not in state_dict:
            report.missing.append(key)
        elif tuple(state_dict[key].shape) != tuple(target.shape):
            report.shape_mismatched.append(key)
        else:
            report.matched.append(key)
    report.unexpected = sorted(set(state_dict) - set(own_state))

    where = f"{source} (prefix '{prefix}')" if prefix else source
    if report.match_ratio < min_match_ratio:
        sample_missing = ', '.join((report.missing + report.shape_mismatched)[:8])
        sample_present = ', '.join(list(state_dict)[:5]) or 'none'
        raise CheckpointMismatchError(
            f'{where} does not fit {type(module).__name__}: {report.summary()}; at least '
            f'{100 * min_match_ratio:.0f}% must match. Missing e.g.: {sample_missing}. Checkpoint keys e.g.: '
            f'{sample_present}. A full pre-training checkpoint needs prefix="backbone."; a backbone-only file '
            f'needs no prefix.')
    module.load_state_dict({key: state_dict[key] for key in report.matched}, strict=False)
    print_log(f'Loaded {where} into {type(module).__name__}: {report.summary()}', logger=logger or 'current')
    return report


def load_checkpoint_checked(module: torch.nn.Module,
                            filename: str,
                            prefix: Optional[str] = None,
                            min_match_ratio: float = 0.9,
                            logger: Optional[MMLogger] = None) -> LoadReport:
    """Load checkpoint file ``filename`` into ``module``; see :func:`load_state_dict_checked`."""
    return load_state_dict_checked(module, load_checkpoint_state_dict(filename), prefix=prefix,
                                   min_match_ratio=min_match_ratio, source=filename, logger=logger)

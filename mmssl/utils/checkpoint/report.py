"""How a checkpoint fits a module: the one fit policy, the checked load and the verification of a module that
another toolbox initialised; all of them describe the outcome in a :class:`LoadReport`.
"""
import json
import logging
import os
import os.path as osp
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.dist import is_main_process
from mmengine.logging import MMLogger, print_log

from .dropped import dropped_tensors
from .mismatch import backbone_family, describe_mismatch
from .position import fit_position_embedding
from .reading import CheckpointMismatchError, select_prefix, strip_ddp_prefix

#: ``format`` and ``mode`` of the report (and ``checkpoint_format`` of the record) of the seeded random backbone
RANDOM_INIT_FORMAT = 'random-init'


@dataclass
class LoadReport:
    """How a module's keys relate to the checkpoint entries meant for it.

    A load (``mode='load'``) sorts every module key into ``matched`` (copied), ``missing`` (no entry) or
    ``shape_mismatched`` (an entry of another shape, not copied); ``unexpected`` checkpoint keys have no place in
    the module. A verification (``mode='compare'``) of a module that was initialised elsewhere puts keys holding
    exactly the checkpoint's values in ``matched`` and same-shaped keys with other values in ``different``;
    ``new`` are layers the benchmark adds on top of the pre-trained network (not counted). The seeded random
    backbone of a baseline row (``mode='random-init'``, :meth:`random_init`) loads nothing: ``seed`` names the draw.
    ``dropped`` counts the tensors of the file that were left out before the load (the neck and head of an
    algorithm checkpoint, MoCo's key encoder, the optimizer state ...) per name (``{'neck': 4, 'head': 2}``), so
    that "unexpected 0" never hides them. ``adapted`` says what was fitted before the load (a ViT's position
    embedding resampled to the model's grid: ``['pos_embed resampled from a 37x37 to an 8x8 grid']``).
    """
    source: str = 'state dict'
    prefix: Optional[str] = None
    format: Optional[str] = None
    mode: str = 'load'
    matched: List[str] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    shape_mismatched: List[str] = field(default_factory=list)
    different: List[str] = field(default_factory=list)
    new: List[str] = field(default_factory=list)
    first_key: str = ''
    seed: Optional[int] = None
    dropped: Dict[str, int] = field(default_factory=dict)
    adapted: List[str] = field(default_factory=list)

    @classmethod
    def random_init(cls, seed: int) -> 'LoadReport':
        """The report of a backbone drawn from ``seed`` instead of loaded (``format`` :data:`RANDOM_INIT_FORMAT`)."""
        return cls(source=RANDOM_INIT_FORMAT, format=RANDOM_INIT_FORMAT, mode=RANDOM_INIT_FORMAT, seed=seed)

    @property
    def num_module_keys(self) -> int:
        """Keys of the module that the checkpoint was compared with (new layers not counted)."""
        return len(self.matched) + len(self.missing) + len(self.shape_mismatched) + len(self.different)

    @property
    def match_ratio(self) -> float:
        """Share of the module's keys that loaded (or, compared, hold the checkpoint's values)."""
        return len(self.matched) / max(self.num_module_keys, 1)

    @property
    def input_layer_loaded(self) -> bool:
        """Whether the module's input layer (``first_key``: ``conv1.weight``, ``patch_embed.proj.weight``) loaded."""
        return self.first_key in self.matched

    @property
    def num_dropped(self) -> int:
        """Tensors of the file left out before the load (see ``dropped``)."""
        return sum(self.dropped.values())

    def dropped_summary(self) -> str:
        """``'; 6 other tensors of the file left out: neck 4, head 2'``, or ``''`` when none was."""
        if not self.dropped:
            return ''
        groups = ', '.join(f'{name} {count}' for name, count in list(self.dropped.items())[:8])
        more = ' ...' if len(self.dropped) > 8 else ''
        return f'; {self.num_dropped} other tensors of the file left out: {groups}{more}'

    def summary(self) -> str:
        """One line for logs: counts of matched, missing, unexpected and mismatched keys, and the tensors of the file
        that were left out."""
        if self.mode == RANDOM_INIT_FORMAT:
            return f'nothing loaded: the default initialisation drawn from seed {self.seed}'
        if self.mode == 'compare':
            return (f'{len(self.matched)}/{self.num_module_keys} keys equal to the checkpoint '
                    f'({100 * self.match_ratio:.1f}%), missing {len(self.missing)}, different values '
                    f'{len(self.different)}, shape mismatch {len(self.shape_mismatched)}, new layers {len(self.new)}')
        adapted = ''.join(f'; {note}' for note in self.adapted)
        return (f'matched {len(self.matched)}/{self.num_module_keys} module keys ({100 * self.match_ratio:.1f}%), '
                f'missing {len(self.missing)}, unexpected {len(self.unexpected)}, '
                f'shape mismatch {len(self.shape_mismatched)}{self.dropped_summary()}{adapted}')

    def not_loaded_modules(self) -> Dict[str, int]:
        """The largest sub-modules none of whose keys loaded -> their number of keys (``{'layer4': 30}``); a key
        missing from a module that otherwise loaded appears on its own."""
        module_keys = self.matched + self.missing + self.shape_mismatched + self.different
        not_loaded = set(self.missing + self.shape_mismatched + self.different)
        modules: Dict[str, int] = {}
        for key in module_keys:
            if key not in not_loaded:
                continue
            parts = key.split('.')
            for depth in range(1, len(parts) + 1):
                name = '.'.join(parts[:depth])
                under = [other for other in module_keys if other == name or other.startswith(name + '.')]
                if all(other in not_loaded for other in under):
                    modules.setdefault(name, len(under))
                    break
        return modules

    def to_record(self) -> dict:
        """A compact form for result records: counts, the modules and keys that did not load, the tensors of the
        file left out (``dropped``: per name, ``num_dropped``: in all)."""
        record = asdict(self)
        record['matched'] = len(self.matched)
        record['unexpected'] = len(self.unexpected)
        record['num_dropped'] = self.num_dropped
        record['not_loaded_modules'] = self.not_loaded_modules()
        return record


def _input_layer_key(own: Dict[str, torch.Tensor], new_keys: Sequence[str]) -> str:
    """The module's input layer: its first convolution weight (a ResNet's ``conv1.weight``, a ViT's
    ``patch_embed.proj.weight``, which follows its class token and position embedding), else its first tensor."""
    keys = [key for key in own if not any(key.startswith(prefix) for prefix in new_keys)]
    return next((key for key in keys if own[key].ndim == 4), keys[0] if keys else '')


def _sort_keys(module: torch.nn.Module, state_dict: Dict[str, torch.Tensor], report: LoadReport,
               new_keys: Sequence[str] = ()) -> LoadReport:
    own = module.state_dict()
    report.first_key = _input_layer_key(own, new_keys)
    for key, target in own.items():
        if any(key.startswith(prefix) for prefix in new_keys):
            report.new.append(key)
            continue
        if key.endswith('num_batches_tracked') and key not in state_dict:
            continue  # BN counters are optional: torchvision's and VISSL's older files have none
        if key not in state_dict:
            report.missing.append(key)
        elif tuple(state_dict[key].shape) != tuple(target.shape):
            report.shape_mismatched.append(key)
        elif report.mode == 'compare' and not torch.equal(
                torch.as_tensor(state_dict[key]).to(device=target.device, dtype=target.dtype), target):
            report.different.append(key)
        else:
            report.matched.append(key)
    report.unexpected = sorted(set(state_dict) - set(own))
    return report


def _check_policy(report: LoadReport, module: torch.nn.Module, state_dict: Dict[str, torch.Tensor], where: str,
                  min_match_ratio: float) -> None:
    """The one policy: at least ``min_match_ratio`` of the module's parameters and running statistics load, no
    shape differs, and the input layer (``conv1.weight``, ``patch_embed.proj.weight``) loads. A refusal names what
    sets the backbones apart first (family, patch size, width, depth: :mod:`.mismatch`)."""
    # what sets the backbones apart comes first, and refuses on its own: a deeper ViT checkpoint fills every key of
    # a shallower model, and layer scale only in the checkpoint is merely "unexpected"
    problems = describe_mismatch(state_dict, module.state_dict())
    if report.match_ratio < min_match_ratio:
        problems.append(f'fewer than {100 * min_match_ratio:.0f}% of its keys match')
    if report.shape_mismatched:
        own = module.state_dict()
        shapes = ', '.join(f'{key} {tuple(state_dict[key].shape)} vs {tuple(own[key].shape)}'
                           for key in report.shape_mismatched[:3])
        problems.append(f'shapes differ (checkpoint vs model: {shapes})')
    if report.first_key and not report.input_layer_loaded:
        problems.append(f'its input layer {report.first_key!r} does not load')
    if not problems:
        return
    sample_missing = ', '.join((report.missing + report.shape_mismatched)[:8]) or 'none'
    sample_present = ', '.join(list(state_dict)[:5]) or 'none'
    modules = report.not_loaded_modules()
    not_loaded = ', '.join(f'{name} (0/{count} keys)' for name, count in list(modules.items())[:10]) or 'none'
    raise CheckpointMismatchError(
        f'{where} does not fit {type(module).__name__}: {" and ".join(problems)}; {report.summary()}. Not loaded: '
        f'{not_loaded}{" ..." if len(modules) > 10 else ""}. Missing e.g.: {sample_missing}. '
        f'Checkpoint keys e.g.: {sample_present}. A full pre-training checkpoint needs '
        'prefix="backbone."; a backbone-only file needs no prefix; docs/en/checkpoints.md lists the layouts mmssl '
        'reads (--checkpoint-format / --checkpoint-prefix / --checkpoint-key).')


def load_state_dict_checked(module: torch.nn.Module,
                            state_dict: Dict[str, torch.Tensor],
                            prefix: Optional[str] = None,
                            min_match_ratio: float = 0.9,
                            source: str = 'state dict',
                            logger: Optional[MMLogger] = None,
                            checkpoint_format: Optional[str] = None,
                            dropped: Optional[Dict[str, int]] = None) -> LoadReport:
    """Copy matching entries of ``state_dict`` into ``module`` under the one policy, and report what matched.

    Policy: at least ``min_match_ratio`` of the module's parameters and running statistics must be found with
    the same name and shape (``num_batches_tracked`` is optional), no shape may differ, and the input layer must
    load; otherwise :class:`CheckpointMismatchError` names the checkpoint, its layout and what did not match, and
    nothing is loaded. A ViT's position embedding of another grid (or another convention for its prefix tokens) is
    fitted to the module first and the report says so (``adapted``; :mod:`.position`).

    Args:
        module: the module to load into.
        state_dict: flat tensor dict, e.g. :attr:`CheckpointFile.state_dict`.
        prefix: when given, only keys starting with it are used, with the prefix removed
            (``'backbone.'`` takes the backbone out of a full algorithm checkpoint).
        min_match_ratio: share of the module's keys that must be matched.
        source: name of the checkpoint, used in messages.
        logger: where to print the report (defaults to the current mmengine logger).
        checkpoint_format: the layout the entries came from (:mod:`mmssl.utils.checkpoint_formats`), reported.
        dropped: the tensors of the file left out before (:class:`LoadReport`); ``None``: those that ``prefix``
            leaves out of ``state_dict``.
    """
    state_dict = strip_ddp_prefix(dict(state_dict))
    if prefix:
        selected = select_prefix(state_dict, prefix)
        dropped = dropped_tensors(state_dict, selected.values()) if dropped is None else dropped
        state_dict = selected
    no_embed_class = getattr(module, 'no_embed_class', None)  # timm's ViT: no position rows for prefix tokens
    state_dict, adapted = fit_position_embedding(module.state_dict(), state_dict,
                                                 None if no_embed_class is None else not no_embed_class)
    report = _sort_keys(module, state_dict, LoadReport(source=source, prefix=prefix, format=checkpoint_format,
                                                       dropped=dict(dropped or {}), adapted=adapted))
    details = ([f'format {checkpoint_format}'] if checkpoint_format else []) + \
        ([f"prefix '{prefix}'"] if prefix else [])
    where = f'{source} ({", ".join(details)})' if details else source
    _check_policy(report, module, state_dict, where, min_match_ratio)
    module.load_state_dict({key: state_dict[key] for key in report.matched}, strict=False)
    logger = logger or MMLogger.get_current_instance()
    print_log(f'Loaded {where} into {type(module).__name__}: {report.summary()}', logger=logger)
    # One line per module: a whole stage missing at >= 90% used to pass with a single INFO line.
    for name, count in report.not_loaded_modules().items():
        print_log(f'{where}: {name}: 0/{count} keys in the checkpoint, left at its initialisation', logger=logger,
                  level=logging.WARNING)
    return report


def compare_module_weights(module: torch.nn.Module, state_dict: Dict[str, torch.Tensor],
                           new_keys: Sequence[str] = ()) -> LoadReport:
    """Compare every tensor of ``module.state_dict()`` with the same-named entry of ``state_dict``.

    Args:
        module: the initialised module (e.g. a detector's backbone).
        state_dict: the checkpoint entries meant for it, prefix already stripped.
        new_keys: key prefixes of layers that the benchmark adds (e.g. ``'norm.'`` after res5); skipped.
    """
    return _sort_keys(module, state_dict, LoadReport(mode='compare'), new_keys)


def _expected_checkpoint(module: torch.nn.Module, prefix: str) -> str:
    """What a verified module's checkpoint should be, in its family's words."""
    if backbone_family(module.state_dict()) == 'ViT':
        return (f'Expected a full mmssl pre-training checkpoint of a ViT with timm\'s names and "{prefix}"-prefixed '
                'keys (tools/model_converters/import_checkpoint.py writes one from any ViT layout).')
    return (f'Expected a full mmssl pre-training checkpoint of a plain (torchvision-layout) ResNet with "{prefix}"-'
            'prefixed keys; a deep-stem ResNetV1c checkpoint (stem.0.weight ...) does not fit.')


def verify_loaded_weights(module: torch.nn.Module, state_dict: Dict[str, torch.Tensor], *, name: str,
                          checkpoint: str, prefix: str, new_keys: Sequence[str] = (),
                          min_match_ratio: float = 0.9) -> LoadReport:
    """Raise unless ``module`` holds the checkpoint's weights; return the comparison otherwise.

    Two conditions, both needed: at least ``min_match_ratio`` of the module's keys equal the checkpoint's,
    and the module's first tensor (its input layer) is among them. The second catches a stem mismatch that a
    ratio cannot: a deep-stem ResNetV1c checkpoint shares 312 of a plain ResNet-50's 318 keys (98%), yet
    without its first convolution the network has not been pre-trained in any useful sense.

    Raises:
        CheckpointMismatchError: naming the checkpoint, the prefix, the ratio and example keys.
    """
    result = compare_module_weights(module, state_dict, new_keys)
    result.source, result.prefix = checkpoint, prefix
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
            f'{_expected_checkpoint(module, prefix)}')
    return result


def write_load_report(report: LoadReport, report_file: Optional[str]) -> None:
    """Write ``report.to_record()`` as JSON to ``report_file`` (main process only; nothing when ``None``)."""
    if report_file is None or not is_main_process():
        return
    os.makedirs(osp.dirname(osp.abspath(report_file)), exist_ok=True)
    with open(report_file, 'w') as f:
        json.dump(report.to_record(), f, indent=2)


def read_load_report(report_file: str) -> Optional[dict]:
    """The report a ``report_file`` holds (the record form), or ``None`` when no initialiser wrote one."""
    if not osp.isfile(report_file):
        return None
    with open(report_file) as f:
        return json.load(f)

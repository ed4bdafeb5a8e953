"""The pre-trained backbone a benchmark evaluates, as one plain value: :class:`BackboneWeights`.

A command line builds it once (:meth:`BackboneWeights.from_arg`): the checkpoint is read, its layout detected and
its backbone given mmssl's names (torchvision's for a ResNet, timm's for a Vision Transformer) before any work
starts, or ``none`` gives the seeded random backbone. The value travels explicitly to whatever loads it
(:meth:`BackboneWeights.load_into` returns the :class:`~.report.LoadReport` of that load) and to the result record;
nothing is kept at module level.
``mmssl.models.utils.checkpoint_import.import_checkpoint`` writes such a backbone as an mmssl checkpoint after the
same fit policy accepted it (it needs the backbones of the models floor).
"""
from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

import torch

from mmssl.constants import RANDOM_INIT, RANDOM_INIT_SEED

from ..checkpoint_formats import as_tensors, select_backbone
from ..errors import InputError
from .dropped import dropped_tensors
from .reading import CheckpointFile, CheckpointMismatchError, read_checkpoint
from .report import RANDOM_INIT_FORMAT, LoadReport, load_state_dict_checked

__all__ = ['BackboneWeights', 'read_backbone', 'load_backbone', 'init_random_backbone', 'parse_checkpoint_arg']


def _read_backbone(checkpoint: str, checkpoint_format: Optional[str], prefix: Optional[str],
                   key_path: Optional[str]) -> Tuple[CheckpointFile, Dict[str, torch.Tensor], str, Dict[str, int]]:
    """The file, its backbone (mmssl's names), the layout's name and the tensors left out of the file."""
    file = read_checkpoint(checkpoint)
    try:
        selected, layout = select_backbone(file.content, file.path, checkpoint_format, prefix, key_path)
    except CheckpointMismatchError:
        raise
    except (KeyError, ValueError) as error:
        raise CheckpointMismatchError(error.args[0]) from None
    return file, as_tensors(selected), layout, dropped_tensors(file.content, selected.values())


def read_backbone(checkpoint: str, checkpoint_format: Optional[str] = None, prefix: Optional[str] = None,
                  key_path: Optional[str] = None) -> Tuple[Dict[str, torch.Tensor], str]:
    """The backbone of a checkpoint file of any supported layout, with mmssl's names (torchvision's for a ResNet,
    timm's for a ViT), and the layout's name (detected, or ``checkpoint_format``); see
    :mod:`mmssl.utils.checkpoint_formats`.

    Raises:
        CheckpointMismatchError: no layout fits, the file holds two different candidates, or the options do not
            match the file; the message says why.
    """
    _, state_dict, layout, _ = _read_backbone(checkpoint, checkpoint_format, prefix, key_path)
    return state_dict, layout


def init_random_backbone(module: torch.nn.Module, seed: int = RANDOM_INIT_SEED) -> None:
    """Initialise ``module`` with its own default initialisation, drawn from ``seed``.

    The global random state is left untouched, so the baseline network is the same in every benchmark and run.
    """
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        module.init_weights()


@dataclass(frozen=True)
class BackboneWeights:
    """The weights a benchmark evaluates: a checkpoint's backbone (ResNet or ViT), or the seeded random backbone.

    Attributes:
        path: absolute path of the checkpoint file; ``None`` for the random backbone.
        sha256: digest of the file's bytes (``None`` for the random backbone).
        layout: the layout the file was read as (detected or named; :mod:`mmssl.utils.checkpoint_formats`), or
            ``'random-init'``.
        checkpoint_format, prefix, key_path: the reading options as given (``None``: detected).
        state_dict: the backbone with mmssl's names (empty for the random backbone); shared, copy to change.
        random_init_seed: the seed the random backbone is drawn from.
        dropped: the file's other tensors, left out, per name (``{'neck': 4, 'head': 2}``; the load report's).
    """
    path: Optional[str]
    sha256: Optional[str] = None
    layout: str = RANDOM_INIT_FORMAT
    checkpoint_format: Optional[str] = None
    prefix: Optional[str] = None
    key_path: Optional[str] = None
    state_dict: Dict[str, torch.Tensor] = field(default_factory=dict, repr=False, compare=False)
    random_init_seed: int = RANDOM_INIT_SEED
    dropped: Dict[str, int] = field(default_factory=dict, compare=False)

    @classmethod
    def random(cls, seed: int = RANDOM_INIT_SEED) -> 'BackboneWeights':
        """The seeded random backbone (``none`` on a command line)."""
        return cls(path=None, random_init_seed=seed)

    @classmethod
    def from_checkpoint(cls, checkpoint: Optional[str], checkpoint_format: Optional[str] = None,
                        prefix: Optional[str] = None, key_path: Optional[str] = None,
                        random_init_seed: int = RANDOM_INIT_SEED) -> 'BackboneWeights':
        """Read ``checkpoint`` (``None``: the random backbone) and convert its backbone now, so that a file or
        layout that does not fit fails before any work.

        Raises:
            FileNotFoundError: ``checkpoint`` is not a file.
            CheckpointMismatchError: the file cannot be read, or no layout fits.
        """
        if checkpoint is None:
            return cls.random(random_init_seed)
        file, state_dict, layout, dropped = _read_backbone(checkpoint, checkpoint_format, prefix, key_path)
        return cls(file.path, file.sha256, layout, checkpoint_format, prefix, key_path, state_dict, random_init_seed,
                   dropped)

    @classmethod
    def from_arg(cls, value: Optional[str], checkpoint_format: Optional[str] = None, prefix: Optional[str] = None,
                 key_path: Optional[str] = None, random_init_seed: Optional[int] = None) -> 'BackboneWeights':
        """A command line's checkpoint: ``none`` (any case) is the random backbone, anything else a file.

        ``random_init_seed``: the ``--random-init-seed`` the user gave (``None``: not given, :data:`RANDOM_INIT_SEED`);
        it draws the random backbone only, so giving it with a file is refused rather than ignored.

        Raises:
            InputError: a seed given with a checkpoint file; names both.
        """
        checkpoint = parse_checkpoint_arg(value)
        if random_init_seed is not None and checkpoint is not None:
            raise InputError(
                f'--random-init-seed {random_init_seed} draws the random backbone of CHECKPOINT "{RANDOM_INIT}", but '
                f'CHECKPOINT is the file {checkpoint}, whose weights are loaded, not drawn: drop --random-init-seed, '
                f'or pass "{RANDOM_INIT}" to evaluate the random backbone of that seed')
        return cls.from_checkpoint(checkpoint, checkpoint_format, prefix, key_path,
                                   RANDOM_INIT_SEED if random_init_seed is None else random_init_seed)

    @property
    def is_random(self) -> bool:
        """Whether this is the seeded random backbone."""
        return self.path is None

    @property
    def options(self) -> dict:
        """The reading options (``checkpoint_format``, ``prefix``, ``key_path``) as given."""
        return dict(checkpoint_format=self.checkpoint_format, prefix=self.prefix, key_path=self.key_path)

    def record(self) -> Optional[dict]:
        """How a result record names the checkpoint: ``{'path', 'sha256'}``, or ``None`` for the random backbone."""
        return None if self.is_random else dict(path=self.path, sha256=self.sha256)

    def load_into(self, module: torch.nn.Module, min_match_ratio: float = 0.9) -> LoadReport:
        """Load the backbone into ``module`` under the one fit policy, or draw the seeded random network.

        Returns:
            LoadReport: what matched; for the random backbone, a report of mode ``'random-init'`` with its seed.

        Raises:
            CheckpointMismatchError: the checkpoint does not fit ``module``; nothing is loaded.
        """
        if self.is_random:
            init_random_backbone(module, self.random_init_seed)
            return LoadReport.random_init(self.random_init_seed)
        return load_state_dict_checked(module, self.state_dict, min_match_ratio=min_match_ratio, source=self.path,
                                       checkpoint_format=self.layout, dropped=self.dropped)


def load_backbone(module: torch.nn.Module, checkpoint: Optional[str], seed: int = RANDOM_INIT_SEED,
                  checkpoint_format: Optional[str] = None, prefix: Optional[str] = None,
                  key_path: Optional[str] = None, min_match_ratio: float = 0.9) -> LoadReport:
    """Load the backbone of a checkpoint file of any supported layout into a backbone (checked), or draw the seeded
    random network when ``checkpoint`` is ``None``: :meth:`BackboneWeights.load_into` of that file."""
    weights = BackboneWeights.from_checkpoint(checkpoint, checkpoint_format, prefix, key_path, seed)
    return weights.load_into(module, min_match_ratio)


def parse_checkpoint_arg(value: Optional[str]) -> Optional[str]:
    """A command line's checkpoint: ``none`` (any case) is a random backbone (``None``), anything else must be a
    file; it is read (and so checked) here, before any work starts, and returned as an absolute path."""
    if value is None or str(value).lower() == RANDOM_INIT:
        return None
    return read_checkpoint(value).path

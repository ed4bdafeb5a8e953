"""Backbone taps as data: the feature maps a backbone can output and their benchmark pooling.

A tap is one feature map a backbone can return (a ResNet stage, a ViT block's patch tokens, or a vector such as
a ViT's class token, returned as a 1x1 map). Heads and feature extraction
read everything they need about it from its :class:`Tap` (name, channels, stride, pooling), and a backbone lists
its taps through the :class:`TapsMixin` protocol, so a new backbone family needs no change to the heads or the
benchmark modules.
"""
from dataclasses import dataclass, fields
from typing import Mapping, Optional, Sequence, Tuple, Union

from torch import nn

#: ``'specified'``: the protocol's AvgPool2d, sized for one input size; ``'adaptive'``: the same output side at any
#: input size; ``'global'``: one value per channel.
POOL_TYPES = ('specified', 'adaptive', 'global')


@dataclass(frozen=True)
class Tap:
    """One feature map (N, C, H, W) a backbone can output, and how the benchmarks pool it.

    Args:
        name: the tap's name in heads, feature folders and tables (``feature1`` … ``feature5`` for ResNet).
        channels: C.
        stride: input pixels per output position: a square input of side S gives an ``S // stride`` map.
        adaptive_size: output side of the ``'adaptive'`` pooling (AdaptiveAvgPool2d), at any input size.
        specified_pooling: the protocol's AvgPool2d ``(kernel, stride, padding)`` (SVM and multi-head linear
            evaluation), or ``None`` where the backbone family has none: then only ``'adaptive'`` and ``'global'``
            pooling work.
        vector: the tap is one vector per image, returned as an (N, C, 1, 1) map at any input size (a ViT's class
            token, the mean of its patch tokens): it is already pooled, so every pooling type is the identity and
            the pooled length is C. Its ``adaptive_size`` is 1 and it declares no ``specified_pooling``.
    """
    name: str
    channels: int
    stride: int
    adaptive_size: int
    specified_pooling: Optional[Tuple[int, int, int]] = None
    vector: bool = False

    def __post_init__(self):
        if self.vector and (self.adaptive_size != 1 or self.specified_pooling is not None):
            raise ValueError(f'tap {self.name}: a vector tap is already pooled (adaptive_size 1, no '
                             f'specified_pooling), got adaptive_size={self.adaptive_size}, '
                             f'specified_pooling={self.specified_pooling}')
        if self.specified_pooling is not None:
            # Configs give lists; a tuple keeps the declaration hashable and equal to the backbone's own.
            object.__setattr__(self, 'specified_pooling', tuple(self.specified_pooling))
            if len(self.specified_pooling) != 3:
                raise ValueError(f'tap {self.name}: specified_pooling is (kernel, stride, padding), '
                                 f'got {self.specified_pooling}')

    @classmethod
    def coerce(cls, tap: Union['Tap', Mapping]) -> 'Tap':
        """``tap`` itself, or the :class:`Tap` that a dict of its fields (e.g. from a config) describes."""
        if isinstance(tap, cls):
            return tap
        if not isinstance(tap, Mapping):
            raise TypeError(f'a tap is a Tap or a dict of its fields, got {tap!r}')
        unknown = sorted(set(tap) - {field.name for field in fields(cls)})
        if unknown:
            raise ValueError(f'unknown tap field(s) {unknown}; a tap has {", ".join(f.name for f in fields(cls))}')
        return cls(**tap)

    def _specified(self) -> Tuple[int, int, int]:
        if self.specified_pooling is None:
            raise ValueError(f"tap {self.name} declares no specified pooling; use pool_type='adaptive' (or global "
                             'pooling) for it')
        return self.specified_pooling

    def pooling(self, pool_type: str = 'specified') -> nn.Module:
        """The benchmark pooling module of this tap for ``pool_type`` (one of :data:`POOL_TYPES`)."""
        check_pool_type(pool_type)
        if self.vector:
            return nn.Identity()
        if pool_type == 'specified':
            kernel, stride, padding = self._specified()
            return nn.AvgPool2d(kernel, stride=stride, padding=padding)
        return nn.AdaptiveAvgPool2d(self.adaptive_size if pool_type == 'adaptive' else 1)

    def pooled_dim(self, input_size: int = 224, pool_type: str = 'specified') -> int:
        """Feature length (C·h·w) after :meth:`pooling` for a square input of ``input_size`` pixels."""
        check_pool_type(pool_type)
        if pool_type == 'global' or self.vector:
            return self.channels
        if pool_type == 'adaptive':
            return self.channels * self.adaptive_size**2
        kernel, stride, padding = self._specified()
        side = input_size // self.stride
        out = (side + 2 * padding - kernel) // stride + 1
        if out < 1:
            raise ValueError(f'tap {self.name}: its {side}x{side} map at {input_size} px is smaller than the '
                             f'specified pooling {self.specified_pooling}; set the input size or use '
                             "pool_type='adaptive'")
        return self.channels * out * out


def check_pool_type(pool_type: str) -> None:
    """Refuse a pooling type other than :data:`POOL_TYPES`."""
    if pool_type not in POOL_TYPES:
        raise ValueError(f'pool_type must be one of {", ".join(map(repr, POOL_TYPES))}, got {pool_type!r}')


def tap_indices(taps: Sequence[Tap], names: Sequence[str], what: str = 'tap') -> Tuple[int, ...]:
    """Positions in ``taps`` of the taps named ``names`` (in that order); an unknown or empty selection is refused
    with the choices (``what`` names the selection in the message, e.g. ``'layer'``)."""
    choices = [tap.name for tap in taps]
    unknown = [name for name in names if name not in choices]
    if unknown or not names:
        raise ValueError(f'unknown {what}(s) {unknown or "(none)"}; choose from {", ".join(choices)}')
    return tuple(choices.index(name) for name in names)


class TapsMixin:
    """The protocol of a backbone that declares its taps; heads and feature extraction need nothing else.

    A backbone sets ``taps`` (every :class:`Tap` it can output, in network order) and ``out_indices`` (positions in
    ``taps`` of what ``forward`` returns, in that order), and its ``forward`` reads ``out_indices`` when it is
    called, so that :meth:`select_taps` can change the outputs of a built network. The mixin adds ``out_taps``,
    ``out_channels`` and the name look-ups.
    """
    taps: Tuple[Tap, ...]
    out_indices: Tuple[int, ...]

    @property
    def out_taps(self) -> Tuple[Tap, ...]:
        """The taps ``forward`` returns, in ``out_indices`` order."""
        return tuple(self.taps[i] for i in self.out_indices)

    @property
    def out_channels(self) -> Tuple[int, ...]:
        """Channels of each tap ``forward`` returns, in ``out_indices`` order."""
        return tuple(tap.channels for tap in self.out_taps)

    def tap_indices(self, names: Sequence[str], what: str = 'tap') -> Tuple[int, ...]:
        """Positions in ``taps`` of the taps named ``names``; unknown names are refused with the choices."""
        return tap_indices(self.taps, names, what)

    def select_taps(self, names: Sequence[str], what: str = 'tap') -> Tuple[Tap, ...]:
        """Return the taps named ``names``, in that order, from now on; returns them."""
        self.out_indices = self.tap_indices(names, what)
        return self.out_taps


def require_taps(backbone: nn.Module) -> TapsMixin:
    """``backbone`` itself when it declares its taps (:class:`TapsMixin`); any other backbone is refused by name."""
    if not isinstance(backbone, TapsMixin):
        raise TypeError(f'{type(backbone).__name__} declares no taps: a backbone lists the feature maps it can '
                        'output as Tap objects (mmssl.models.utils.TapsMixin)')
    return backbone

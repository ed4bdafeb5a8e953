from .checked_init import CheckedPretrainedInit, SeededRandomInit
from .taps import POOL_TYPES, Tap, TapsMixin, require_taps, tap_indices

__all__ = ['CheckedPretrainedInit', 'SeededRandomInit', 'POOL_TYPES', 'Tap', 'TapsMixin', 'require_taps', 'tap_indices']

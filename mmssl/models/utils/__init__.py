from .checked_init import CheckedPretrainedInit, SeededRandomInit
from .taps import pooled_dim, tap_pooling

__all__ = ['CheckedPretrainedInit', 'SeededRandomInit', 'pooled_dim', 'tap_pooling']

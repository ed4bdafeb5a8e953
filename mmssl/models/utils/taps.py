"""The benchmark pooling of each ResNet tap, shared by the linear probes and feature extraction."""
from torch import nn

from mmssl.constants import ADAPTIVE_SIZES, SPECIFIED_POOLING


def tap_pooling(tap_index: int, pool_type: str = 'specified') -> nn.Module:
    """The benchmark pooling for ResNet tap ``tap_index`` (0 = feature1 … 4 = feature5).

    ``'specified'`` is the protocol's AvgPool2d (sized for 224-px inputs); ``'adaptive'`` reaches the same output
    sizes at any input size.
    """
    if pool_type == 'specified':
        kernel, stride, padding = SPECIFIED_POOLING[tap_index]
        return nn.AvgPool2d(kernel, stride=stride, padding=padding)
    if pool_type == 'adaptive':
        return nn.AdaptiveAvgPool2d(ADAPTIVE_SIZES[tap_index])
    raise ValueError(f"pool_type must be 'specified' or 'adaptive', got {pool_type!r}")


def pooled_dim(tap_index: int, channels: int, input_size: int = 224, pool_type: str = 'specified') -> int:
    """Feature length after :func:`tap_pooling` for a square input of ``input_size`` pixels."""
    if pool_type == 'adaptive':
        return channels * ADAPTIVE_SIZES[tap_index]**2
    side = input_size // 2 ** (tap_index + 1)  # tap i has stride 2^(i+1)
    kernel, stride, padding = SPECIFIED_POOLING[tap_index]
    out = (side + 2 * padding - kernel) // stride + 1
    return channels * out * out

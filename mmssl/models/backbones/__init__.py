from .resnet import ResNet, resnet_taps
from .vit import VisionTransformer, vit_taps

__all__ = ['ResNet', 'resnet_taps', 'VisionTransformer', 'vit_taps']

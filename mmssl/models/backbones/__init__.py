from .resnet import ResNet, resnet_taps

__all__ = ['ResNet', 'resnet_taps']

from .pretrained_init import CheckedPretrainedInit

__all__ = ['CheckedPretrainedInit']

"""Rotation prediction (Gidaris et al., ICLR 2018) as an mmssl plugin living outside the mmssl package."""
from .rotation_pred import RotationPred
from .transforms import RandomRotationStack

__all__ = ['RotationPred', 'RandomRotationStack']

"""Optimizers registered in mmssl's ``OPTIMIZERS`` registry that neither torch nor mmengine ship."""
from .lars import LARS

__all__ = ['LARS']

from .base import BaseSelfSupervisor
from .relative_loc import RelativeLoc

__all__ = ['BaseSelfSupervisor', 'RelativeLoc']

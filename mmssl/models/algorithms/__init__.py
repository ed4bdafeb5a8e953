from .base import BaseSelfSupervisor
from .npid import NPID
from .relative_loc import RelativeLoc

__all__ = ['BaseSelfSupervisor', 'NPID', 'RelativeLoc']

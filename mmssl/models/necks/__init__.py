from .linear_neck import LinearNeck
from .relative_loc_neck import RelativeLocNeck

__all__ = ['LinearNeck', 'RelativeLocNeck']

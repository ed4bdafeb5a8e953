from .cls_head import ClsHead
from .multi_cls_head import MultiClsHead
from .npid_head import NPIDHead

__all__ = ['ClsHead', 'MultiClsHead', 'NPIDHead']

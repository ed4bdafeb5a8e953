from .cls_head import ClsHead
from .multi_cls_head import MultiClsHead, pooled_dim, tap_pooling

__all__ = ['ClsHead', 'MultiClsHead', 'pooled_dim', 'tap_pooling']

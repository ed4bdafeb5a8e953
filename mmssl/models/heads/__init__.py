from .cls_head import ClsHead
from .multi_cls_head import MultiClsHead, pooled_dim, tap_pooling
from .npid_head import NPIDHead

__all__ = ['ClsHead', 'MultiClsHead', 'pooled_dim', 'tap_pooling', 'NPIDHead']

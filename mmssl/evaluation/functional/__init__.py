from .average_precision import average_precision
from .knn import knn_classify

__all__ = ['average_precision', 'knn_classify']

from .accuracy import Accuracy, topk_accuracy
from .voc_map import VOCMultiLabelMetric

__all__ = ['Accuracy', 'topk_accuracy', 'VOCMultiLabelMetric']

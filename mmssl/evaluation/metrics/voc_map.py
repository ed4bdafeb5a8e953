from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from mmssl.evaluation.functional import average_precision
from mmssl.registry import METRICS


@METRICS.register_module()
class VOCMultiLabelMetric(BaseMetric):
    """Mean average precision of multi-label predictions with VOC-encoded labels, difficult ignored.

    Each sample needs ``pred_score`` (C,) and ``gt_label`` (C,) with 1 = positive, -1 = negative and
    0 = difficult; difficult entries are left out of that class's ranking, as in the VOC devkit.

    Args:
        ap_mode: ``'area'`` (all-point interpolated AP, VOC2010+ and the SVM benchmark) or ``'11points'``
            (VOC2007 detection style).
        classes: names for the per-class entries ``AP/<name>``; indices are used when not given.
    """
    default_prefix = 'voc'

    def __init__(self, ap_mode: str = 'area', classes: Optional[Sequence[str]] = None,
                 collect_device: str = 'cpu', prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.ap_mode = ap_mode
        self.classes = classes

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            self.results.append((sample['pred_score'].cpu().numpy().reshape(-1),
                                 sample['gt_label'].cpu().numpy().reshape(-1)))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        scores = np.stack([score for score, _ in results])
        labels = np.stack([label for _, label in results])
        if scores.shape != labels.shape:
            raise ValueError(f'{scores.shape[1]} scores per sample but {labels.shape[1]} labels')
        unknown = set(np.unique(labels)) - {-1, 0, 1}
        if unknown:
            raise ValueError(f'VOC labels must be 1, -1 or 0 (difficult), got {sorted(int(v) for v in unknown)}')
        ap = average_precision(scores, labels, valid=labels != 0, mode=self.ap_mode)
        names = self.classes or [str(i) for i in range(len(ap))]
        metrics = {f'AP/{name}': 100 * float(value) for name, value in zip(names, ap) if np.isfinite(value)}
        metrics['mAP'] = 100 * float(np.nanmean(ap))
        return metrics

from typing import Dict, List, Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric

from mmssl.registry import METRICS


def topk_accuracy(scores: torch.Tensor, labels: torch.Tensor, topk: Sequence[int]) -> Dict[int, float]:
    """Top-k accuracy in percent for scores (N, num_classes) and labels (N,).

    k larger than the number of classes is clipped to it (top-5 of an 8-way task is well defined, of a
    3-way task it is 100%).
    """
    if scores.shape[0] != labels.shape[0]:
        raise ValueError(f'{scores.shape[0]} score rows but {labels.shape[0]} labels')
    num_classes = scores.shape[1]
    bad = labels[(labels < 0) | (labels >= num_classes)]
    if bad.numel():
        raise ValueError(f'labels outside 0..{num_classes - 1}: {bad[:5].tolist()}')
    ranked = scores.topk(min(max(topk), num_classes), dim=1).indices
    hits = ranked == labels[:, None]
    return {k: 100.0 * hits[:, :k].any(dim=1).float().mean().item() for k in topk}


@METRICS.register_module()
class Accuracy(BaseMetric):
    """Top-k accuracy over ``pred_score`` / ``gt_label``, or per head over ``pred_scores``.

    A data sample may carry several predictions of the same kind (the 8 pairs of relative location: scores
    (8, C), labels (8,)); they are all counted. Multi-head classifiers put ``{head: scores}`` in
    ``pred_scores``; then every head is reported as ``{head}/top{k}`` in one pass.

    Args:
        topk: the k values to report.
        prefix: metric name prefix (default ``'accuracy'`` for single-head results).
    """
    default_prefix = 'accuracy'

    def __init__(self, topk: Sequence[int] = (1, ), collect_device: str = 'cpu', prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.topk = tuple(topk)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            scores = sample.get('pred_scores') or {None: sample['pred_score']}
            label = sample['gt_label'].reshape(-1).cpu()
            self.results.append({head: (score.reshape(label.numel(), -1).cpu(), label)
                                 for head, score in scores.items()})

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        metrics = {}
        for head in results[0]:
            scores = torch.cat([result[head][0] for result in results])
            labels = torch.cat([result[head][1] for result in results])
            for k, value in topk_accuracy(scores, labels, self.topk).items():
                metrics[f'top{k}' if head is None else f'{head}/top{k}'] = value
        return metrics

"""Logistic-regression probes on cached features, trained full-batch with L-BFGS in torch.

The objective is scikit-learn's ``LogisticRegression(C=C)`` (L2 penalty on the weights, not on the bias)::

    multinomial:  sum_i CE(softmax(x_i W + b), y_i)           + 0.5 / C * ||W||^2
    one-vs-rest:  sum_i sum_k BCE(sigmoid(x_i w_k + b_k), t_ik) + 0.5 / C * ||W||^2

so that a fit here and one of scikit-learn on the same features and ``C`` reach the same optimum. The one-vs-rest
problems are independent (the sum separates by class), so they are solved together as one problem of all columns.
Each fit starts from zeros, as scikit-learn's does: a grid point then does not depend on the points fitted before
it, and a resumed grid gives the same numbers as an uninterrupted one.
"""
from dataclasses import dataclass
from typing import Dict, Sequence, Union

import numpy as np
import torch

from mmssl.evaluation.functional import average_precision

__all__ = ['LogisticProbe', 'check_costs', 'fit_logistic', 'probe_scores', 'probe_metrics', 'TOPK']

TOPK = (1, 5)
DTYPES = {'float64': torch.float64, 'float32': torch.float32}


def check_costs(costs: Sequence[float], where: str = 'probe.costs') -> tuple:
    """The grid of inverse regularisation strengths as floats, every one finite and > 0; the error names the
    value (a non-positive ``C`` would mean a negative or infinite penalty)."""
    if isinstance(costs, (int, float)) and not isinstance(costs, bool):
        costs = [costs]
    if not isinstance(costs, (list, tuple)) or not costs:
        raise ValueError(f'{where} must be a non-empty list of numbers > 0, got {costs!r}')
    for cost in costs:
        if isinstance(cost, bool) or not isinstance(cost, (int, float)) or not np.isfinite(cost) or cost <= 0:
            raise ValueError(f'{where}: every C must be a finite number > 0, got {cost!r}')
    return tuple(float(cost) for cost in costs)


@dataclass
class LogisticProbe:
    """A fitted probe: ``scores = features @ weight + bias``.

    Attributes:
        weight: (D, K) float tensor on the CPU.
        bias: (K,) float tensor on the CPU.
        multi_label: one-vs-rest sigmoid columns (else one softmax over K classes).
        iterations: L-BFGS iterations run.
    """
    weight: torch.Tensor
    bias: torch.Tensor
    multi_label: bool
    iterations: int


def _tensor(features, dtype: torch.dtype, device: str = 'cpu') -> torch.Tensor:
    """A copy of ``features`` (a read-only memory map, typically) as a tensor of ``dtype`` on ``device``."""
    if isinstance(features, torch.Tensor):
        return features.to(dtype=dtype, device=device)
    return torch.from_numpy(np.array(features, dtype=torch.empty(0, dtype=dtype).numpy().dtype)).to(device)


def _objective(features, targets, weight, bias, cost, multi_label):
    """The sklearn objective divided by the number of rows (same optimum, gradients of order one)."""
    logits = features @ weight + bias
    if multi_label:
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction='sum')
    else:
        loss = torch.nn.functional.cross_entropy(logits, targets, reduction='sum')
    return (loss + 0.5 / cost * weight.pow(2).sum()) / len(features)


def fit_logistic(features: Union[np.ndarray, torch.Tensor], labels: Union[np.ndarray, torch.Tensor], cost: float,
                 num_classes: int, multi_label: bool = False, max_iter: int = 1000, tol: float = 1e-8,
                 device: str = 'cpu', dtype: str = 'float64') -> LogisticProbe:
    """Fit one probe by full-batch L-BFGS (strong-Wolfe line search, history 10 as scipy's L-BFGS-B).

    Args:
        features: (N, D) training features.
        labels: (N,) class indices, or (N, K) VOC labels for ``multi_label`` (1 positive; -1 and 0, difficult,
            negative, as the VOC07 SVM trains).
        cost: ``C`` of scikit-learn, > 0.
        num_classes: K (a class without training rows keeps its column, pushed down by the others).
        max_iter: L-BFGS iterations at most.
        tol: stop when the largest gradient entry of the per-row objective is below it.
        device: where to solve (``'cuda'`` for a GPU).
        dtype: ``'float64'`` (default, as DINOv2 trains) or ``'float32'`` (half the memory).
    """
    cost = check_costs([cost], 'C')[0]
    if dtype not in DTYPES:
        raise ValueError(f'dtype must be one of {sorted(DTYPES)}, got {dtype!r}')
    x = _tensor(features, DTYPES[dtype], device)
    if multi_label:
        y = torch.as_tensor(np.asarray(labels) == 1, dtype=x.dtype, device=device)
    else:
        y = torch.as_tensor(np.asarray(labels), dtype=torch.long, device=device)
    weight = torch.zeros(x.shape[1], num_classes, dtype=x.dtype, device=device, requires_grad=True)
    bias = torch.zeros(num_classes, dtype=x.dtype, device=device, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], lr=1, max_iter=max_iter, max_eval=max_iter * 2,
                                  tolerance_grad=tol, tolerance_change=1e-12, history_size=10,
                                  line_search_fn='strong_wolfe')

    def closure():
        optimizer.zero_grad()
        loss = _objective(x, y, weight, bias, cost, multi_label)
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(closure)
    iterations = optimizer.state[optimizer._params[0]].get('n_iter', 0)
    return LogisticProbe(weight.detach().cpu(), bias.detach().cpu(), multi_label, int(iterations))


def probe_scores(probe: LogisticProbe, features: Union[np.ndarray, torch.Tensor]) -> np.ndarray:
    """(N, K) float64 scores (logits) of ``features``."""
    x = _tensor(features, probe.weight.dtype)
    return (x @ probe.weight + probe.bias).double().numpy()


def probe_metrics(scores: np.ndarray, labels: np.ndarray, multi_label: bool) -> Dict[str, float]:
    """Metrics (%) of scores: ``top1`` and ``top5`` (k clipped to the class count) for single-label, ``mAP`` for
    VOC labels (all-point AP as the VOC07 SVM tests, difficult (0) rows excluded per class)."""
    labels = np.asarray(labels)
    if multi_label:
        ap = average_precision(scores, labels == 1, valid=labels != 0, mode='area')
        return dict(mAP=float(100 * np.nanmean(ap)))
    order = np.argsort(-scores, axis=1, kind='stable')
    return {f'top{k}': float(100 * np.mean((order[:, :min(k, scores.shape[1])] == labels[:, None]).any(axis=1)))
            for k in TOPK}

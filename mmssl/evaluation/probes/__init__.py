"""Probes on cached features: logistic regression by L-BFGS and the held-out selection of its ``C``."""
from .logistic import TOPK, LogisticProbe, check_costs, fit_logistic, probe_metrics, probe_scores
from .selection import SELECTIONS, heldout_count, heldout_split, select_cost

__all__ = ['TOPK', 'LogisticProbe', 'check_costs', 'fit_logistic', 'probe_metrics', 'probe_scores', 'SELECTIONS',
           'heldout_count', 'heldout_split', 'select_cost']

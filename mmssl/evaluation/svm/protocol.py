"""The VOC07 linear-SVM protocol as data: cost lists, SVM settings, label handling, CV folds.

Everything that decides *what* is computed lives here, so the two solvers and the two runners
(full protocol and low-shot) cannot drift apart.
"""
from dataclasses import dataclass, field
from typing import Dict, Sequence, Tuple, Union

import numpy as np

POSITIVE, NEGATIVE, DIFFICULT = 1, -1, 0

_POWERS_OF_TWO = tuple(0.5**i for i in range(4, 20))  # 2^-4 ... 2^-19, 16 values

#: Cost lists in public use, in the order the public scripts list them. The order matters: among
#: exactly tied CV scores the first cost in this order wins, as with ``np.argmax`` in those scripts.
COST_PRESETS: Dict[str, Tuple[float, ...]] = {
    # 1, 10, 100 followed by 2^-4 ... 2^-19: 19 values.
    'voc07_19': (1.0, 10.0, 100.0) + _POWERS_OF_TWO,
    # 1e-7 ... 100 (10 decades) followed by the same powers of two: 26 values.
    'voc07_26': tuple(10.0**e for e in range(-7, 3)) + _POWERS_OF_TWO,
    'voc07_11': (0.01, 0.1, 1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 50.0, 100.0, 1000.0),
}


def resolve_costs(costs: Union[str, Sequence[float]]) -> Tuple[float, ...]:
    """Turn a preset name, a comma separated string or a sequence into a tuple of costs.

    Args:
        costs: a key of :data:`COST_PRESETS`, a string such as ``'0.1,1,10'`` or numbers.

    Returns:
        tuple[float]: the costs in the given order (the order breaks exact ties in selection).
    """
    if isinstance(costs, str):
        if costs in COST_PRESETS:
            return COST_PRESETS[costs]
        try:
            values = tuple(float(c) for c in costs.split(',') if c.strip())
        except ValueError:
            raise ValueError(f'unknown cost list {costs!r}: use one of {sorted(COST_PRESETS)} '
                             'or comma separated numbers') from None
    else:
        values = tuple(float(c) for c in costs)
    if not values:
        raise ValueError('the cost list is empty')
    if any(not np.isfinite(c) or c <= 0 for c in values):
        raise ValueError(f'costs must be finite and positive, got {values}')
    if len(set(values)) != len(values):
        raise ValueError(f'costs must be distinct, got {values}')
    return values


@dataclass(frozen=True)
class SVMProtocol:
    """The exact settings of the VOC07 linear SVM benchmark (docs/en/benchmarks/svm_voc07.md).

    One binary SVM per class: ``min_w,b ½(‖w‖² + b²) + Σ_i C·c_{y_i}·max(0, 1 - y_i(wᵀx_i + b))²`` -
    squared hinge, L2 penalty on weights *and* bias (liblinear's constant feature of value
    ``intercept_scaling``), class weights ``c_{+1} = 2, c_{-1} = 1``, solved in the dual.

    Attributes:
        costs: candidate costs ``C``; see :data:`COST_PRESETS`.
        class_weight: multipliers of ``C`` for positive and negative samples.
        intercept_scaling: value of the constant feature that carries the (regularised) bias.
        tol: liblinear stopping tolerance of the reference solver.
        max_iter: liblinear iteration cap of the reference solver.
        random_state: seed of the reference solver's liblinear, whose dual coordinate descent visits the samples
            in a random order: unseeded, identical features gave a VOC07 mAP between 58.14 and 58.60.
        cv_folds: folds of stratified, unshuffled cross-validation on trainval.
        cv_metric: ``'step'`` - non-interpolated AP as sklearn's ``average_precision_score``, which
            the public scripts use through ``cross_val_score(scoring='average_precision')``; or
            ``'area'`` - the all-point interpolated AP used at test.
        test_metric: ``'area'`` (VOC2010+ all-point interpolated AP) or ``'11points'`` (VOC2007).
    """
    costs: Tuple[float, ...] = field(default_factory=lambda: COST_PRESETS['voc07_19'])
    class_weight: Tuple[Tuple[int, float], ...] = ((POSITIVE, 2.0), (NEGATIVE, 1.0))
    intercept_scaling: float = 1.0
    tol: float = 1e-4
    max_iter: int = 2000
    random_state: int = 0
    cv_folds: int = 3
    cv_metric: str = 'step'
    test_metric: str = 'area'

    def __post_init__(self):
        object.__setattr__(self, 'costs', resolve_costs(self.costs))
        weights = dict(self.class_weight)
        if set(weights) != {POSITIVE, NEGATIVE} or min(weights.values()) <= 0:
            raise ValueError(f'class_weight needs positive weights for +1 and -1, got {weights}')
        if isinstance(self.random_state, bool) or not isinstance(self.random_state, (int, np.integer)) \
                or self.random_state < 0:
            raise ValueError(f'random_state must be an integer >= 0, got {self.random_state!r}')
        if self.cv_folds < 2:
            raise ValueError(f'cv_folds must be >= 2, got {self.cv_folds}')
        if self.cv_metric not in ('step', 'area') or self.test_metric not in ('area', '11points'):
            raise ValueError(f'unknown AP variant: cv_metric={self.cv_metric!r}, '
                             f'test_metric={self.test_metric!r}')

    @property
    def positive_weight(self) -> float:
        return dict(self.class_weight)[POSITIVE]

    @property
    def negative_weight(self) -> float:
        return dict(self.class_weight)[NEGATIVE]

    def to_dict(self) -> dict:
        """JSON-friendly description, stored next to every result."""
        return dict(costs=list(self.costs), class_weight={str(k): v for k, v in self.class_weight},
                    intercept_scaling=self.intercept_scaling, tol=self.tol, max_iter=self.max_iter,
                    random_state=self.random_state, cv_folds=self.cv_folds, cv_metric=self.cv_metric,
                    test_metric=self.test_metric,
                    loss='squared_hinge', penalty='l2', dual=True, regularised_bias=True)


def train_targets(labels: np.ndarray) -> np.ndarray:
    """Training targets from VOC labels: difficult (0) counts as negative.

    Args:
        labels: (N, ...) int array with 1 = positive, -1 = negative, 0 = difficult.

    Returns:
        np.ndarray: int8 array of ±1 with the shape of ``labels``.
    """
    return np.where(labels == POSITIVE, POSITIVE, NEGATIVE).astype(np.int8)


def evaluation_mask(labels: np.ndarray) -> np.ndarray:
    """Rows that take part in test AP: difficult (0) are left out.

    Args:
        labels: (N, ...) VOC labels.

    Returns:
        np.ndarray: bool array with the shape of ``labels``.
    """
    return labels != DIFFICULT


def cv_fold_ids(targets: np.ndarray, n_folds: int) -> np.ndarray:
    """Fold of every sample under ``StratifiedKFold(n_folds, shuffle=False)``, per class.

    Args:
        targets: (N, P) ±1 training targets (difficult already mapped to -1).
        n_folds: number of folds.

    Returns:
        np.ndarray: (N, P) int8; sample ``i`` is validated in fold ``ids[i, p]`` for class ``p``.
    """
    # Imported here: scikit-learn (with scipy) takes about a second to import, and every benchmark process imports
    # this module through the registry while only the SVM protocols fit anything.
    from sklearn.model_selection import StratifiedKFold
    ids = np.empty(targets.shape, dtype=np.int8)
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=False)
    for p in range(targets.shape[1]):
        for fold, (_, val) in enumerate(splitter.split(np.zeros(len(targets)), targets[:, p])):
            ids[val, p] = fold
    return ids


def select_cost(scores: np.ndarray, costs: Sequence[float]) -> Tuple[np.ndarray, np.ndarray]:
    """Pick the best cost per row; exact ties go to the first cost in ``costs`` order.

    Args:
        scores: (P, len(costs)) validation scores.
        costs: the candidate costs.

    Returns:
        tuple: (P,) index into ``costs`` and (P,) chosen cost values.
    """
    index = np.argmax(scores, axis=1)
    return index, np.asarray(costs, dtype=np.float64)[index]

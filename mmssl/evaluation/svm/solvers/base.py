"""What every SVM solver takes and returns: a batch of problems, their decision values, the solver interface and the
memory budget of the solvers that have one."""
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..protocol import SVMProtocol

#: Default memory budget of the fast solver: room for the solver on a 24 GB machine with the
#: features' page cache, the other split and the Python process beside it.
DEFAULT_MAX_MEMORY = 16 * 2**30


def parse_memory(value) -> int:
    """Bytes from an int or a string such as ``'16G'``, ``'512M'``, ``'2.5GiB'`` (binary units)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        number = int(value)
    else:
        text = str(value).strip().upper().replace('IB', '').rstrip('B')
        scale = {'K': 2**10, 'M': 2**20, 'G': 2**30, 'T': 2**40}.get(text[-1:], 1)
        try:
            number = int(float(text[:-1] if scale > 1 else text) * scale)
        except ValueError:
            raise ValueError(f'max_memory {value!r} is not a size such as 16G, 512M or a number of bytes') \
                from None
    if number <= 0:
        raise ValueError(f'max_memory must be positive, got {value!r}')
    return number


@dataclass
class SVMProblems:
    """A batch of SVM trainings on subsets of the prepared training rows.

    Problems come in ``b`` groups; group ``g`` lives on the training rows ``rows[g]`` (one Gram block
    per group). Within a group, problem ``j`` trains on the rows where ``train_mask[g, :, j]`` holds,
    with targets ``targets[g, :, j]``, once for every cost in ``costs[j]``; every row of the group
    gets a decision value, so held-out rows are scored for free. The models of the problems
    flagged in ``evaluate`` are also scored on the evaluation rows given to ``prepare``: at every
    cost, or, with ``score_later``, only at the cost chosen afterwards (:meth:`BaseSVMSolver.score`).

    Attributes:
        rows: (b, n) int64 indices into the prepared training features.
        targets: (b, n, m) ±1.
        train_mask: (b, n, m) bool.
        costs: (m, c) float64.
        evaluate: (m,) bool, problems to score on the evaluation rows; ``None`` scores none.
        score_later: keep the models of the ``evaluate`` problems instead of scoring them at every cost, for
            :meth:`BaseSVMSolver.score` to score one chosen cost each. A solver may still score every cost
            when that costs it nothing extra (the reference does).
    """
    rows: np.ndarray
    targets: np.ndarray
    train_mask: np.ndarray
    costs: np.ndarray
    evaluate: Optional[np.ndarray] = None
    score_later: bool = False

    def __post_init__(self):
        self.rows = np.asarray(self.rows, dtype=np.int64)
        self.targets = np.asarray(self.targets, dtype=np.int8)
        self.train_mask = np.asarray(self.train_mask, dtype=bool)
        self.costs = np.asarray(self.costs, dtype=np.float64)
        m = self.targets.shape[2]
        self.evaluate = np.zeros(m, bool) if self.evaluate is None else np.asarray(self.evaluate, bool)
        if self.evaluate.shape != (m, ):
            raise ValueError(f'evaluate must be ({m},), got {self.evaluate.shape}')
        b, n = self.rows.shape
        if self.targets.shape[:2] != (b, n) or self.train_mask.shape != self.targets.shape:
            raise ValueError(f'rows {self.rows.shape}, targets {self.targets.shape} and train_mask '
                             f'{self.train_mask.shape} disagree')
        if self.costs.ndim != 2 or len(self.costs) != self.targets.shape[2]:
            raise ValueError(f'costs must be (m, c) with m = {self.targets.shape[2]}, got '
                             f'{self.costs.shape}')
        trained = np.where(self.train_mask, self.targets, 0)
        if not ((trained == 1).any(axis=1).all() and (trained == -1).any(axis=1).all()):
            raise ValueError('every problem needs at least one positive and one negative training row')

    @property
    def shape(self):
        """(b, n, m, c)."""
        return self.targets.shape + (self.costs.shape[1], )


@dataclass
class SVMSolution:
    """Decision values of every (problem, cost).

    Attributes:
        decision: (b, n, m, c) on the rows of each group.
        eval_decision: (b, e, c, N_eval) on the evaluation rows for the ``e`` problems flagged in
            ``SVMProblems.evaluate``, in their order; ``None`` when none is flagged, or when their models
            were kept for :meth:`BaseSVMSolver.score` instead.
        info: solver statistics (timings, iteration counts) for logs.
        models: the kept models of the flagged problems (solver-specific), see ``SVMProblems.score_later``.
    """
    decision: np.ndarray
    eval_decision: Optional[np.ndarray] = None
    info: dict = field(default_factory=dict)
    models: Optional[object] = None


class BaseSVMSolver(ABC):
    """Interface of the solvers.

    Args:
        protocol: the SVM settings.
    """

    def __init__(self, protocol: SVMProtocol):
        self.protocol = protocol
        self.train_features = None
        self.eval_features = None
        self.num_scored = None
        self.history = []  # ``info`` of every solve, for benchmarks and logs
        self.prepare_history = []  # timings of every prepare (Gram matrix, preconditioner), for benchmarks

    def prepare(self, train_features: np.ndarray, eval_features: Optional[np.ndarray] = None,
                num_scored: Optional[int] = None) -> None:
        """Attach the (N, D) training rows and optional (N_eval, D) evaluation rows of one layer.

        ``num_scored``, when known, is how many models the solves until the next ``prepare`` will
        score on the evaluation rows; a solver may use it to choose how to score them.
        """
        self.train_features = train_features
        self.eval_features = eval_features
        self.num_scored = num_scored

    def check_memory(self, num_rows: int, dim: int, num_eval: int = 0) -> None:
        """Raise ``ValueError`` now if :meth:`prepare` on ``num_rows`` x ``dim`` rows (and ``num_eval`` evaluation
        rows) would not fit the solver's memory budget, so a protocol can check its largest problem before the
        first training. Solvers without a budget accept anything."""

    @abstractmethod
    def solve(self, problems: SVMProblems) -> SVMSolution:
        """Train every (problem, cost) of the batch and score the requested evaluations."""

    def score(self, solution: SVMSolution, cost_index: np.ndarray) -> np.ndarray:
        """Decision values on the evaluation rows of the flagged problems at one cost each.

        Args:
            solution: the result of :meth:`solve` on problems with ``evaluate`` flags.
            cost_index: (b, e) index into each flagged problem's costs.

        Returns:
            np.ndarray: (b, e, N_eval).
        """
        if solution.eval_decision is None:
            raise RuntimeError('the solution holds neither scores nor models of evaluated problems')
        index = np.asarray(cost_index)[:, :, None, None]
        return np.take_along_axis(solution.eval_decision, index, axis=2)[:, :, 0]

    def _check_ready(self, problems: SVMProblems) -> None:
        if self.train_features is None:
            raise RuntimeError('call prepare() before solve()')
        if problems.evaluate.any() and self.eval_features is None:
            raise RuntimeError('evaluation rows were not given to prepare()')

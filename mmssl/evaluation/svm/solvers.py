"""Two interchangeable solvers for batches of VOC07-protocol SVMs.

``sklearn`` fits ``sklearn.svm.LinearSVC`` with exactly the protocol settings, one fit per
(problem, cost), spread over processes with joblib - the reference. ``fast`` solves the same
problems to a much tighter optimality tolerance through one shared Gram matrix (see
:mod:`.newton`). Both take an :class:`SVMProblems` batch and return decision values.
"""
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import torch
from joblib import Parallel, delayed
from mmengine.logging import MMLogger
from sklearn.svm import LinearSVC

from mmssl.registry import SVM_SOLVERS

from . import newton
from .protocol import SVMProtocol


@dataclass
class SVMProblems:
    """A batch of SVM trainings on subsets of the prepared training rows.

    Problems come in ``b`` groups; group ``g`` lives on the training rows ``rows[g]`` (one Gram block
    per group). Within a group, problem ``j`` trains on the rows where ``train_mask[g, :, j]`` holds,
    with targets ``targets[g, :, j]``, once for every cost in ``costs[j]``; every row of the group
    gets a decision value, so held-out rows are scored for free. The models of the problems
    flagged in ``evaluate`` are also scored on the evaluation rows given to ``prepare``.

    Attributes:
        rows: (b, n) int64 indices into the prepared training features.
        targets: (b, n, m) ±1.
        train_mask: (b, n, m) bool.
        costs: (m, c) float64.
        evaluate: (m,) bool, problems to score on the evaluation rows; ``None`` scores none.
    """
    rows: np.ndarray
    targets: np.ndarray
    train_mask: np.ndarray
    costs: np.ndarray
    evaluate: Optional[np.ndarray] = None

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
            ``SVMProblems.evaluate``, in their order; ``None`` when none is flagged.
        info: solver statistics (timings, iteration counts) for logs.
    """
    decision: np.ndarray
    eval_decision: Optional[np.ndarray] = None
    info: dict = field(default_factory=dict)


class BaseSVMSolver(ABC):
    """Interface of the solvers.

    Args:
        protocol: the SVM settings.
    """

    def __init__(self, protocol: SVMProtocol):
        self.protocol = protocol
        self.train_features = None
        self.eval_features = None
        self.history = []  # ``info`` of every solve, for benchmarks and logs

    def prepare(self, train_features: np.ndarray, eval_features: Optional[np.ndarray] = None) -> None:
        """Attach the (N, D) training rows and optional (N_eval, D) evaluation rows of one layer."""
        self.train_features = train_features
        self.eval_features = eval_features

    @abstractmethod
    def solve(self, problems: SVMProblems) -> SVMSolution:
        """Train every (problem, cost) of the batch and score the requested evaluations."""

    def _check_ready(self, problems: SVMProblems) -> None:
        if self.train_features is None:
            raise RuntimeError('call prepare() before solve()')
        if problems.evaluate.any() and self.eval_features is None:
            raise RuntimeError('evaluation rows were not given to prepare()')


def _fit_liblinear(features, rows, targets, train_mask, costs, protocol, eval_features):
    """One problem for all its costs with LinearSVC; runs in a worker process."""
    start = time.process_time()
    group = np.asarray(features[rows], dtype=np.float64)
    train_x, train_y = group[train_mask], targets[train_mask]
    decision = np.empty((len(rows), len(costs)))
    eval_decision = None if eval_features is None else np.empty((len(costs), len(eval_features)))
    eval_features = None if eval_features is None else np.asarray(eval_features, dtype=np.float64)
    for k, cost in enumerate(costs):
        model = LinearSVC(C=cost, class_weight=dict(protocol.class_weight),
                          intercept_scaling=protocol.intercept_scaling, fit_intercept=True,
                          penalty='l2', loss='squared_hinge', dual=True, tol=protocol.tol,
                          max_iter=protocol.max_iter)
        model.fit(train_x, train_y)
        decision[:, k] = model.decision_function(group)
        if eval_decision is not None:
            eval_decision[k] = model.decision_function(eval_features)
    return decision, eval_decision, time.process_time() - start


@SVM_SOLVERS.register_module(name='sklearn')
class SklearnSVMSolver(BaseSVMSolver):
    """Reference: ``LinearSVC`` (liblinear) with the protocol settings, one fit per (problem, cost).

    liblinear is single-threaded, so independent fits run in ``n_jobs`` processes. Features are
    passed as memory maps (joblib memory-maps large arrays), never copied into every worker.

    Args:
        protocol: the SVM settings.
        n_jobs: worker processes; -1 uses all cores.
    """

    def __init__(self, protocol: SVMProtocol, n_jobs: int = -1):
        super().__init__(protocol)
        self.n_jobs = n_jobs

    def solve(self, problems: SVMProblems) -> SVMSolution:
        self._check_ready(problems)
        b, n, m, c = problems.shape
        scored = np.flatnonzero(problems.evaluate)
        tasks = [(g, j) for g in range(b) for j in range(m)]
        start = time.perf_counter()
        outputs = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_liblinear)(self.train_features, problems.rows[g], problems.targets[g, :, j],
                                    problems.train_mask[g, :, j], problems.costs[j], self.protocol,
                                    self.eval_features if problems.evaluate[j] else None)
            for g, j in tasks)
        decision = np.empty((b, n, m, c))
        eval_decision = np.empty((b, len(scored), c, len(self.eval_features))) if len(scored) else None
        for (g, j), (dec, eval_dec, _) in zip(tasks, outputs):
            decision[g, :, j] = dec
            if eval_dec is not None:
                eval_decision[g, np.searchsorted(scored, j)] = eval_dec
        info = dict(fits=b * m * c, wall_time=time.perf_counter() - start,
                    cpu_time=sum(out[2] for out in outputs))
        self.history.append(info)
        return SVMSolution(decision, eval_decision, info)


@SVM_SOLVERS.register_module(name='fast')
class FastSVMSolver(BaseSVMSolver):
    """Exact batched Newton solver on the shared Gram matrix (torch, float64; CPU or GPU).

    ``prepare`` forms ``K̃ = XXᵀ + s²`` once per layer and the top eigenpairs of ``K̃`` used by the
    preconditioner; every fold, class, cost and low-shot sample then only reads blocks of it.
    Solutions of problems on all training rows are remembered per target vector and cost, so a
    refit at a cost already solved in cross-validation starts from the mean of the fold solutions.

    Args:
        protocol: the SVM settings.
        device: torch device, e.g. ``'cpu'`` or ``'cuda'``.
        tol: optimality tolerance: every training sample satisfies
            ``|α_i/(2c_i) - max(0, 1 - y_i f_i)| <= tol``, in margin units. The default is 100 times
            tighter than the reference's stopping tolerance (``protocol.tol``), so the fast solver's
            models are at least as close to the exact optimum as liblinear's.
        precond_rank: eigenpairs of ``K̃`` in the preconditioner of problems on all rows.
        group_precond_rank: eigenpairs used for problems on row subsets (low-shot samples), whose
            preconditioner has to be rebuilt from gathered rows at every Newton step.
        chains: interleaved cost paths (see :func:`.newton.solve_path`); ``None`` picks 1 when the
            problems of a group fill a matrix product and more when its columns are few.
        precision: ``'double'`` (default) uses float64 throughout. ``'mixed'`` runs the products
            inside the CG solves in float32 and the optimality checks in float64; it is faster per
            step, but on ill-conditioned problems (large costs, more samples than dimensions) the
            float32 Newton steps stall far from the optimum and the step cap is hit.
        memory_budget: bytes of Gram blocks gathered at once for problems on row subsets.
    """

    def __init__(self,
                 protocol: SVMProtocol,
                 device='cpu',
                 tol: float = 1e-6,
                 precond_rank: int = 64,
                 group_precond_rank: int = 16,
                 chains: Optional[int] = None,
                 precision: str = 'double',
                 memory_budget: int = 1 << 29):
        super().__init__(protocol)
        self.device = torch.device(device)
        self.tol = tol
        self.precond_rank = precond_rank
        self.group_precond_rank = group_precond_rank
        self.chains = chains
        if precision not in ('mixed', 'double'):
            raise ValueError(f"precision must be 'mixed' or 'double', got {precision!r}")
        self.precision = precision
        self.memory_budget = memory_budget
        self._reset()

    def _reset(self):
        self._rows = self._gram = self._gram_low = self._precond = self._group_precond = None
        self._eval_rows = self._eval_gram = None
        self._solved = {}  # target-vector digest -> {cost: (sum of β over problems, count)}

    def prepare(self, train_features: np.ndarray, eval_features: Optional[np.ndarray] = None) -> None:
        super().prepare(train_features, eval_features)
        self._reset()
        self._rows = newton.to_tensor(train_features, self.device)
        self._gram = newton.gram_matrix(self._rows, bias_sq=self.protocol.intercept_scaling**2)
        self._gram_low = self._gram.float() if self.precision == 'mixed' else None
        self._precond = newton.Preconditioner.from_gram(self._gram, self.precond_rank)
        self._group_precond = self._precond.truncate(self.group_precond_rank)

    def solve(self, problems: SVMProblems) -> SVMSolution:
        self._check_ready(problems)
        b, n, m, c = problems.shape
        start = time.perf_counter()
        weights = (self.protocol.positive_weight, self.protocol.negative_weight)
        chains = self.chains or self._auto_chains(m, c)
        scored = torch.from_numpy(np.flatnonzero(problems.evaluate)).to(self.device)
        decision = np.empty((b, n, m, c))
        eval_decision = np.empty((b, len(scored), c, len(self.eval_features))) if len(scored) else None
        stats = dict(newton=0, cg=0, max_violation=0.0)
        full = b == 1 and n == len(self._gram) and np.array_equal(problems.rows[0], np.arange(n))
        per_chunk = max(1, self.memory_budget // ((8 if self._gram_low is None else 12) * n * n))
        if len(scored):
            self._prepare_evaluation(n, b * len(scored) * c)
        for lo in range(0, b, per_chunk):
            part = slice(lo, lo + per_chunk)
            rows = torch.from_numpy(problems.rows[part]).to(self.device)
            gram, gram_low = (self._gather(g, rows, full) for g in (self._gram, self._gram_low))
            precond = self._precond if full else self._group_precond.take(rows)
            result = newton.solve_path(
                gram, torch.from_numpy(problems.targets[part]).to(self.device),
                torch.from_numpy(problems.train_mask[part]).to(self.device),
                torch.from_numpy(problems.costs), weights, precond, tol=self.tol, chains=chains,
                init=self._recall(problems) if full else None, gram_low=gram_low)
            if full:
                self._remember(problems, result.coef[0])
            decision[part] = result.decision.cpu().numpy()
            if len(scored):
                coef = result.coef.index_select(2, scored)
                eval_decision[part] = self._evaluate(rows, coef).cpu().numpy()
            stats['newton'] += int(result.newton_steps.sum())
            stats['cg'] += int(result.cg_steps.sum())
            stats['max_violation'] = max(stats['max_violation'], float(result.violation.max()))
        if stats['max_violation'] > self.tol:
            MMLogger.get_current_instance().warning(
                f'fast SVM solver stopped at optimality violation {stats["max_violation"]:.2e} > '
                f'tol {self.tol:.0e} (Newton step cap reached)')
        info = dict(fits=b * m * c, wall_time=time.perf_counter() - start, chains=chains, **stats)
        self.history.append(info)
        return SVMSolution(decision, eval_decision, info)

    @staticmethod
    def _gather(gram: Optional[torch.Tensor], rows: torch.Tensor, full: bool) -> Optional[torch.Tensor]:
        """The (b, n, n) Gram blocks of groups of rows; a view when the group is everything."""
        if gram is None:
            return None
        return gram[None] if full else gram[rows[:, :, None], rows[:, None, :]]

    def _remember(self, problems: SVMProblems, coef: torch.Tensor) -> None:
        for j, targets in enumerate(problems.targets[0].T):
            entry = self._solved.setdefault(targets.tobytes(), {})
            for k, cost in enumerate(problems.costs[j]):
                total, count = entry.get(cost, (0, 0))
                entry[cost] = (coef[:, j, k] + total, count + 1)

    def _recall(self, problems: SVMProblems) -> Optional[torch.Tensor]:
        """Warm start (1, n, m): mean earlier β of the same targets at each problem's first cost."""
        columns = []
        for j, targets in enumerate(problems.targets[0].T):
            entry = self._solved.get(targets.tobytes(), {})
            total, count = entry.get(problems.costs[j].min(), (None, 0))
            if not count:
                return None
            columns.append(total / count)
        return torch.stack(columns, dim=1)[None]

    @staticmethod
    def _auto_chains(m: int, c: int) -> int:
        # A product with few columns streams the whole Gram block for little arithmetic; solving
        # several costs at once is then nearly free, though each path needs more Newton steps.
        return min(c, max(1, 16 // m))

    def _prepare_evaluation(self, n: int, models: int) -> None:
        """Choose how to score ``models`` models trained on groups of ``n`` rows.

        Either through the weights ``w = Xᵀβ`` (∝ models × D × (n + N_eval)), or through the
        evaluation-vs-train Gram matrix, which costs N_eval × N × D once and then
        ∝ models × n × N_eval.
        """
        if self._eval_rows is None:
            self._eval_rows = newton.to_tensor(self.eval_features, self.device)
        if self._eval_gram is not None:
            return
        num_eval, dim = self._eval_rows.shape
        primal = models * dim * (n + num_eval)
        through_gram = num_eval * len(self._rows) * dim + models * n * num_eval
        if through_gram < primal:
            self._eval_gram = newton.gram_matrix(self._rows, self._eval_rows,
                                                 self.protocol.intercept_scaling**2)

    def _evaluate(self, rows: torch.Tensor, coef: torch.Tensor) -> torch.Tensor:
        """Decision values on the evaluation rows: (b, e, c, N_eval) from coef (b, n, e, c)."""
        b, n, e, c = coef.shape
        coef = coef.reshape(b, n, e * c)
        if self._eval_gram is not None:
            scores = torch.stack([self._eval_gram[:, r] @ w for r, w in zip(rows, coef)])
        else:
            weights = torch.stack([self._rows[r].T @ w for r, w in zip(rows, coef)])  # (b, D, e·c)
            scores = (self._eval_rows @ weights).add_(self.protocol.intercept_scaling**2 *
                                                      coef.sum(1, keepdim=True))
        return scores.reshape(b, -1, e, c).permute(0, 2, 3, 1)


def build_svm_solver(name: str, protocol: SVMProtocol, **kwargs) -> BaseSVMSolver:
    """Build a registered solver (``'fast'`` or ``'sklearn'``) for ``protocol``."""
    if name not in SVM_SOLVERS.module_dict:
        raise ValueError(f'unknown SVM solver {name!r}, expected one of {sorted(SVM_SOLVERS.module_dict)}')
    return SVM_SOLVERS.build(dict(type=name, protocol=protocol, **kwargs))

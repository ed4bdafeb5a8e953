"""Interchangeable solvers for batches of VOC07-protocol SVMs.

``sklearn`` fits ``sklearn.svm.LinearSVC`` with exactly the protocol settings, one fit per
(problem, cost), spread over processes with joblib - the reference. ``fast`` solves the same
problems to a much tighter optimality tolerance, through one shared Gram matrix (the dual, see
:mod:`.newton`) when that fits the memory budget ``max_memory`` and otherwise in the primal over
chunks of the (memory-mapped) features (see :mod:`.primal`); the choice is logged. All take an
:class:`SVMProblems` batch and return decision values.
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

from . import newton, primal
from .protocol import SVMProtocol

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


def _synchronized_time(device) -> float:
    """``time.perf_counter()`` after the device's queued work is done (CUDA kernels run asynchronously)."""
    if torch.device(device).type == 'cuda':
        torch.cuda.synchronize(device)
    return time.perf_counter()


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


def _chunked_decision(model, features, chunk_rows=8192):
    """``model.decision_function`` over row chunks, each converted to float64 on its own.

    A float64 copy of all evaluation rows at COCO2014 size (40,504 x 9,216) would take 3 GB beside the
    training rows and liblinear's own copy of them; row chunks give the same values.
    """
    return np.concatenate([model.decision_function(np.asarray(features[i:i + chunk_rows], dtype=np.float64))
                           for i in range(0, len(features), chunk_rows)])


def _fit_liblinear(features, rows, targets, train_mask, costs, protocol, eval_features):
    """One problem for all its costs with LinearSVC; runs in a worker process."""
    start = time.process_time()
    group = np.asarray(features[rows], dtype=np.float64)
    # A refit trains on every row: indexing with the all-true mask would copy the group once more.
    train_x = group if train_mask.all() else group[train_mask]
    train_y = targets[train_mask]
    decision = np.empty((len(rows), len(costs)))
    eval_decision = None if eval_features is None else np.empty((len(costs), len(eval_features)))
    for k, cost in enumerate(costs):
        model = LinearSVC(C=cost, class_weight=dict(protocol.class_weight),
                          intercept_scaling=protocol.intercept_scaling, fit_intercept=True,
                          penalty='l2', loss='squared_hinge', dual=True, tol=protocol.tol,
                          max_iter=protocol.max_iter)
        model.fit(train_x, train_y)
        decision[:, k] = model.decision_function(group)
        if eval_decision is not None:
            eval_decision[k] = _chunked_decision(model, eval_features)
    return decision, eval_decision, time.process_time() - start


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


@dataclass
class _DualModels:
    """Models kept by the dual path for :meth:`FastSVMSolver.score`.

    Attributes:
        rows: (b, n) training rows of each group.
        coef: (b, n, e, c) ``β`` of the ``e`` flagged problems at every cost.
    """
    rows: torch.Tensor
    coef: torch.Tensor


class FastSVMSolver(BaseSVMSolver):
    """Exact batched Newton solver on the shared Gram matrix (torch, float64; CPU or GPU).

    ``prepare`` forms ``K̃ = XXᵀ + s²`` once per layer and the top eigenpairs of ``K̃`` used by the
    preconditioner; every fold, class, cost and low-shot sample then only reads blocks of it.
    Solutions of problems on all training rows are remembered per target vector and cost, so a
    refit at a cost already solved in cross-validation starts from the mean of the fold solutions.

    When the dual's matrices (:meth:`dual_bytes`) would exceed ``max_memory``, ``prepare`` hands the
    layer to a :class:`PrimalSVMSolver` with the same tolerance and budget instead, and logs the
    choice; ``path`` tells which one is in use.

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
        precision: ``'mixed'`` (default) runs the products inside the Newton steps on float32 residuals
            of the Gram matrix after its top ``precond_rank`` eigenpairs, adding the eigenpart in float64
            (:class:`.newton.GramBlocks`). Violations, stopping and decision values stay float64, so the
            models are as exact as with ``'double'``, which runs every product in float64. Groups of
            fewer than ``8 × precond_rank`` rows use float64 (below that, the low-rank part costs a
            quarter or more of the block product), and so does a layer whose float32 copy would not fit
            ``max_memory``. The primal path applies the same split to the rows (see :class:`PrimalSVMSolver`).
        memory_budget: bytes of Gram blocks gathered at once for problems on row subsets. Every CG step multiplies
            the float32 blocks of one chunk in turn, so a chunk whose blocks stay in the CPU's cache is faster:
            low-shot k = 96 took 25.1-26.0 s with 192 MiB (4 training sets of 1,920 rows) against 28.2-28.5 s
            with 512 MiB (11 of them), alternating runs on the 2-core development CPU.
        max_memory: bytes (or a size string such as ``'16G'``) the solver may hold; decides between
            the dual and the primal path, and bounds the primal path's batches.
        method: ``'auto'`` (dual when it fits ``max_memory``, else primal), ``'dual'`` or ``'primal'``.
    """

    def __init__(self,
                 protocol: SVMProtocol,
                 device='cpu',
                 tol: float = 1e-6,
                 precond_rank: int = 32,
                 group_precond_rank: int = 16,
                 chains: Optional[int] = None,
                 precision: str = 'mixed',
                 memory_budget: int = 3 << 26,
                 max_memory=DEFAULT_MAX_MEMORY,
                 method: str = 'auto'):
        super().__init__(protocol)
        if method not in ('auto', 'dual', 'primal'):
            raise ValueError(f"method must be 'auto', 'dual' or 'primal', got {method!r}")
        self.method = method
        self.max_memory = parse_memory(max_memory)
        self.path = None  # 'dual' or 'primal' once prepared
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
        self._primal = None
        self._rows = self._gram = self._residual = self._precond = self._group_precond = None
        self._eval_rows = self._eval_gram = None
        self._weight_cost = 0  # multiply-adds spent scoring through weights, see _prepare_evaluation
        self._models_scored = 0
        self._solved = {}  # target-vector digest -> {cost: (sum of β over problems, count)}
        self._block_buffers = {}  # dtype -> flat buffer of gathered Gram blocks, see _gather

    def dual_bytes(self, num_rows: int, dim: int, num_eval: int = 0, mixed: bool = False) -> int:
        """Bytes the dual path holds for a layer: float64 rows, Gram matrix (and its float32 residual when
        ``mixed``), preconditioner factors, gathered blocks, evaluation rows and their Gram matrix (worst case)."""
        rank = self.precond_rank
        gram = num_rows * num_rows * (12 if mixed else 8)
        factors = 8 * num_rows * (rank + rank * (rank + 1) // 2)
        evaluation = 8 * num_eval * (dim + num_rows)
        return 8 * num_rows * dim + gram + factors + evaluation + self.memory_budget

    def prepare(self, train_features: np.ndarray, eval_features: Optional[np.ndarray] = None,
                num_scored: Optional[int] = None) -> None:
        super().prepare(train_features, eval_features, num_scored)
        self._reset()
        num_rows, dim = train_features.shape
        need = self.dual_bytes(num_rows, dim, 0 if eval_features is None else len(eval_features))
        use_primal = self._uses_primal(need)
        self.path = 'primal' if use_primal else 'dual'
        reason = {'auto': f'dual needs ~{need / 2**30:.2f} GiB, max_memory {self.max_memory / 2**30:.2f} GiB'}
        MMLogger.get_current_instance().info(
            f'fast SVM solver: {self.path} path for {num_rows} x {dim} training rows '
            f'({reason.get(self.method, f"method={self.method!r}")})')
        if use_primal:
            self._primal = self._primal_solver()
            self._primal.prepare(train_features, eval_features)
            return
        start = time.perf_counter()
        self._rows = newton.to_tensor(train_features, self.device)
        self._gram = newton.gram_matrix(self._rows, bias_sq=self.protocol.intercept_scaling**2)
        gram_done = _synchronized_time(self.device)
        self._precond = newton.Preconditioner.from_gram(self._gram, self.precond_rank)
        self._group_precond = self._precond.truncate(self.group_precond_rank)
        num_eval = 0 if eval_features is None else len(eval_features)
        if self.precision == 'mixed' and self.dual_bytes(num_rows, dim, num_eval, mixed=True) <= self.max_memory:
            self._residual = newton.low_rank_residual(self._gram, self._precond)
        self.prepare_history.append(dict(rows=num_rows, dim=dim, gram_seconds=gram_done - start,
                                         preconditioner_seconds=_synchronized_time(self.device) - gram_done))

    def _uses_primal(self, dual_bytes: int) -> bool:
        return self.method == 'primal' or (self.method == 'auto' and dual_bytes > self.max_memory)

    def _primal_solver(self) -> 'PrimalSVMSolver':
        return PrimalSVMSolver(self.protocol, device=self.device, tol=self.tol, max_memory=self.max_memory,
                               precision=self.precision)

    def check_memory(self, num_rows: int, dim: int, num_eval: int = 0) -> None:
        if self._uses_primal(self.dual_bytes(num_rows, dim, num_eval)):
            self._primal_solver().check_memory(num_rows, dim, num_eval)

    def solve(self, problems: SVMProblems) -> SVMSolution:
        self._check_ready(problems)
        if self._primal is not None:
            solution = self._primal.solve(problems)
            self.history.append(solution.info)
            return solution
        b, n, m, c = problems.shape
        start = time.perf_counter()
        weights = (self.protocol.positive_weight, self.protocol.negative_weight)
        chains = self.chains or self._auto_chains(m, c)
        scored = torch.from_numpy(np.flatnonzero(problems.evaluate)).to(self.device)
        later = problems.score_later and len(scored) > 0
        decision = np.empty((b, n, m, c))
        eval_decision = np.empty((b, len(scored), c, len(self.eval_features))) if len(scored) and not later else None
        kept = []  # (b', n, e, c) coefficients of the flagged problems, chunk by chunk, when scored later
        stats = dict(newton=0, cg=0, max_violation=0.0)
        full = b == 1 and n == len(self._gram) and np.array_equal(problems.rows[0], np.arange(n))
        mixed = self._residual is not None and n >= 8 * self._precond.rank
        per_chunk = max(1, self.memory_budget // ((12 if mixed else 8) * n * n))
        if eval_decision is not None:
            self._prepare_evaluation(n, b * len(scored) * c)
        for lo in range(0, b, per_chunk):
            part = slice(lo, lo + per_chunk)
            rows = torch.from_numpy(problems.rows[part]).to(self.device)
            gram = self._gather(self._gram, rows, full)
            residual = None
            if mixed:
                vectors = self._precond.vectors[None] if full else self._precond.vectors[rows]
                residual = newton.GramBlocks(self._gather(self._residual, rows, full), vectors=vectors,
                                             values=self._precond.values)
            precond = self._precond if full else self._group_precond.take(rows)
            result = newton.solve_path(
                gram, torch.from_numpy(problems.targets[part]).to(self.device),
                torch.from_numpy(problems.train_mask[part]).to(self.device),
                torch.from_numpy(problems.costs), weights, precond, tol=self.tol, chains=chains,
                init=self._recall(problems) if full else None, residual=residual)
            if full:
                self._remember(problems, result.coef[0])
            decision[part] = result.decision.cpu().numpy()
            if len(scored):
                coef = result.coef.index_select(2, scored)
                if later:
                    kept.append(coef)
                else:
                    eval_decision[part] = self._evaluate(rows, coef).cpu().numpy()
            stats['newton'] += int(result.newton_steps.sum())
            stats['cg'] += int(result.cg_steps.sum())
            stats['max_violation'] = max(stats['max_violation'], float(result.violation.max()))
        if stats['max_violation'] > self.tol:
            MMLogger.get_current_instance().warning(
                f'fast SVM solver stopped at optimality violation {stats["max_violation"]:.2e} > '
                f'tol {self.tol:.0e} (Newton step cap reached)')
        info = dict(fits=b * m * c, wall_time=time.perf_counter() - start, chains=chains, path='dual', **stats)
        self.history.append(info)
        models = _DualModels(torch.from_numpy(problems.rows).to(self.device), torch.cat(kept)) if later else None
        return SVMSolution(decision, eval_decision, info, models)

    def score(self, solution: SVMSolution, cost_index: np.ndarray) -> np.ndarray:
        models = solution.models
        if not isinstance(models, _DualModels):
            return super().score(solution, cost_index)
        index = torch.from_numpy(np.asarray(cost_index)).to(self.device)  # (b, e)
        b, n, e, _ = models.coef.shape
        coef = torch.gather(models.coef, 3, index[:, None, :, None].expand(b, n, e, 1))
        self._prepare_evaluation(n, b * e)
        return self._evaluate(models.rows, coef)[:, :, 0].cpu().numpy()

    def _gather(self, matrix: torch.Tensor, rows: torch.Tensor, full: bool) -> torch.Tensor:
        """The (b, n, n) blocks of ``matrix`` (the Gram matrix or its residual) for groups of rows; a view when
        the group is everything. Chunks of one solve reuse a buffer per dtype (see :func:`.newton.gather_blocks`)."""
        if full:
            return matrix[None]
        size = rows.numel() * rows.shape[1]
        buffer = self._block_buffers.get(matrix.dtype)
        if buffer is None or buffer.numel() < size:
            buffer = self._block_buffers[matrix.dtype] = matrix.new_empty(size)
        return newton.gather_blocks(matrix, rows, out=buffer[:size].view(*rows.shape, rows.shape[1]))

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
        """Choose how to score the next ``models`` models, trained on groups of ``n`` rows.

        Either through the weights ``w = X̃ᵀβ``, ∝ (N + N_eval)·D per model (models are scattered over
        all N rows, see :meth:`_evaluate`), or through the train-vs-evaluation Gram matrix: N_eval·N·D
        once, then ∝ N_eval·n per model (N in place of n when scored densely). When ``num_scored`` was
        given to :meth:`prepare`, the Gram matrix is formed as soon as the models still to come pay for
        it (taking this solve's ``n`` for theirs). Otherwise the count is unknown (low-shot scores 100
        per shot count, or 1,900 with every cost; VOC07 20), and it is formed once the models scored so
        far would have paid for it: at most twice the cost of the better choice in hindsight.
        """
        if self._eval_rows is None:
            self._eval_rows = newton.to_tensor(self.eval_features, self.device)
        if self._eval_gram is not None:
            return
        num_eval, dim = self._eval_rows.shape
        gram_rows = len(self._rows) if self._dense_scoring(n) else n
        through_gram, through_weights = num_eval * gram_rows, dim * (len(self._rows) + num_eval)  # per model
        forming = num_eval * len(self._rows) * dim
        if self.num_scored is None:
            self._weight_cost += models * through_weights
            form = through_gram < through_weights and self._weight_cost > forming
        else:
            ahead = max(self.num_scored - self._models_scored, models)
            form = forming + ahead * through_gram < ahead * through_weights
        self._models_scored += models
        if form:
            # (N, N_eval): a group's rows of it are contiguous, see _evaluate.
            self._eval_gram = newton.gram_matrix(self._eval_rows, self._rows, self.protocol.intercept_scaling**2)

    def _dense_scoring(self, n: int) -> bool:
        # Through the train-vs-evaluation Gram matrix, groups covering a good part of the rows are
        # scored through one dense product over all N rows; small ones gather their rows of it (a dense
        # product would multiply mostly zeros). Through the weights, every group is scored densely (see
        # _evaluate).
        return 4 * n >= len(self._rows)

    def _evaluate(self, rows: torch.Tensor, coef: torch.Tensor) -> torch.Tensor:
        """Decision values on the evaluation rows: (b, e, c, N_eval) from coef (b, n, e, c).

        Dense scoring scatters the models of several groups into one (N, groups·e·c) coefficient
        matrix over all training rows, so that scoring is one large product instead of a gather and
        a thin, memory-bound product per group. Scoring through the weights is always dense: gathering a
        group's n feature rows (n·D floats) costs more than multiplying the zeros (low-shot k = 32, 100
        groups of 640 rows, one model each: 1.8 s gathered).
        """
        b, n, e, c = coef.shape
        models = coef.reshape(b, n, e * c)
        bias_sq = self.protocol.intercept_scaling**2
        if self._eval_gram is not None and not self._dense_scoring(n):
            # the group's rows of the train-vs-evaluation Gram matrix, bias included
            scores = torch.cat([self._eval_gram.index_select(0, r).T @ w for r, w in zip(rows, models)], dim=1)
            return scores.reshape(-1, b, e, c).permute(1, 2, 3, 0)
        parts = []
        step = max(1, self.memory_budget // (8 * len(self._rows) * e * c))
        for lo in range(0, b, step):
            part = models[lo:lo + step]
            # scatter_add, not assignment: a padded group repeats a row, whose padding coefficient is 0.
            scattered = part.new_zeros(len(part), len(self._rows), e * c).scatter_add_(
                1, rows[lo:lo + step, :, None].expand(-1, -1, e * c), part)
            scattered = scattered.permute(1, 0, 2).reshape(len(self._rows), -1)
            if self._eval_gram is not None:
                parts.append(self._eval_gram.T @ scattered)
            else:
                parts.append((self._eval_rows @ (self._rows.T @ scattered)).add_(bias_sq * scattered.sum(0)))
        return torch.cat(parts, dim=1).reshape(-1, b, e, c).permute(1, 2, 3, 0)


class PrimalSVMSolver(BaseSVMSolver):
    """Batched primal Newton-CG over row chunks (torch, float64; CPU or GPU), see :mod:`.primal`.

    Memory grows like ``(N + D)·m`` for ``m`` problems solved together, never ``N²``: the training
    rows stay in memory as float64 when the budget allows and are otherwise re-read from the
    (memory-mapped) features chunk by chunk. Problems are solved in column batches that fit
    ``max_memory``; every problem walks its costs in ascending order, each cost starting from
    the previous cost's solution. Problems on row subsets (groups) become problems
    on all rows whose other rows have cost 0.

    Args:
        protocol: the SVM settings.
        device: torch device.
        tol: every decision value ends within ``tol`` of the exact optimum (see :mod:`.primal`).
        max_memory: bytes (or a size string) the solver may hold; :meth:`prepare` raises when even one
            problem with the smallest chunk does not fit.
        precond_rank: eigenvectors of ``X̃ᵀX̃`` in the preconditioner.
        max_newton: Newton step cap per (problem, cost).
        precision: ``'mixed'`` (default) runs the Hessian products inside CG on a float32 copy of the rows
            with their part along the preconditioner's eigenvectors taken out and added back in float64
            (:class:`.primal.MixedRows`, 4 bytes per entry more) when that copy fits ``max_memory`` without
            streaming the rows; gradients, line searches, stopping and decision values stay float64, so the
            models are as exact as with ``'double'`` (float64 products throughout).
        chunk_rows, resident: override the memory plan's chunk size and whether the rows are kept in
            memory (``None``: as planned from ``max_memory``).
    """

    def __init__(self,
                 protocol: SVMProtocol,
                 device='cpu',
                 tol: float = 1e-6,
                 max_memory=DEFAULT_MAX_MEMORY,
                 precond_rank: int = 32,
                 max_newton: int = 100,
                 precision: str = 'mixed',
                 chunk_rows: Optional[int] = None,
                 resident: Optional[bool] = None):
        super().__init__(protocol)
        if precision not in ('mixed', 'double'):
            raise ValueError(f"precision must be 'mixed' or 'double', got {precision!r}")
        self.precision = precision
        self.chunk_rows = chunk_rows
        self.resident = resident
        self.device = torch.device(device)
        self.tol = tol
        self.max_memory = parse_memory(max_memory)
        self.precond_rank = precond_rank
        self.max_newton = max_newton
        self.path = 'primal'
        self._source = self._eval_source = self._subspace = self._mixed = None
        self._row_norm = 1.0

    def prepare(self, train_features: np.ndarray, eval_features: Optional[np.ndarray] = None,
                num_scored: Optional[int] = None) -> None:
        super().prepare(train_features, eval_features, num_scored)
        num_rows, dim = train_features.shape
        # Raises before any work when the budget cannot hold a single problem.
        plan = primal.plan_memory(num_rows, dim, 1, self.precond_rank, self.max_memory,
                                  mixed=self.precision == 'mixed')
        chunk_rows = self.chunk_rows or plan.chunk_rows
        resident = plan.resident if self.resident is None else self.resident
        self._source = primal.RowSource(train_features, self.device, chunk_rows, resident)
        self._eval_source = None if eval_features is None else primal.RowSource(
            eval_features, self.device, chunk_rows, resident=False)
        scale = self.protocol.intercept_scaling
        norms = [float((x * x).sum(1).max()) for _, x in self._source.chunks()]
        self._row_norm = float(np.sqrt(max(norms) + scale**2))
        self._subspace = primal.Subspace.build(self._source, scale, self.precond_rank)
        self._mixed = primal.MixedRows(self._source, self._subspace, scale) if plan.mixed else None
        if self.precision == 'mixed' and not plan.mixed:
            MMLogger.get_current_instance().info(
                'primal SVM solver: float64 Hessian products (the float32 copy of the rows does not fit '
                f'max_memory {self.max_memory / 2**30:.2f} GiB next to the float64 rows)')

    def check_memory(self, num_rows: int, dim: int, num_eval: int = 0) -> None:
        primal.plan_memory(num_rows, dim, 1, self.precond_rank, self.max_memory)

    def solve(self, problems: SVMProblems) -> SVMSolution:
        self._check_ready(problems)
        b, n, m, c = problems.shape
        start = time.perf_counter()
        num_rows, dim = self._source.shape
        source = self._source
        resident = source.resident
        mixed = self._mixed is not None
        rank = self._subspace.rank
        batch = max(1, min(b * m, primal.columns_that_fit(num_rows, dim, source.chunk_rows, rank, resident,
                                                          self.max_memory, mixed)))
        plan = primal.MemoryPlan.sized(num_rows, dim, rank, batch, source.chunk_rows, resident, mixed)
        targets, mask = self._full_rows(problems)
        scored = np.flatnonzero(problems.evaluate)
        decision = np.empty((b, n, m, c))
        eval_decision = np.empty((b, len(scored), c, len(self.eval_features))) if len(scored) else None
        stats = dict(newton=0, cg=0, max_violation=0.0, column_batches=0)
        for lo in range(0, b * m, plan.columns):
            columns = np.arange(lo, min(lo + plan.columns, b * m))
            self._solve_columns(problems, columns, targets[:, columns], mask[:, columns], decision,
                                eval_decision, scored, stats)
            stats['column_batches'] += 1
        # Reported in decision-value units, like the dual solver's margin-unit violation.
        if stats['max_violation'] > self.tol:
            MMLogger.get_current_instance().warning(
                f'primal SVM solver stopped with decision values up to {stats["max_violation"]:.2e} from '
                f'the optimum > tol {self.tol:.0e} (Newton step cap reached)')
        info = dict(fits=b * m * c, wall_time=time.perf_counter() - start, path='primal',
                    memory_plan=dict(columns=plan.columns, chunk_rows=plan.chunk_rows, resident=plan.resident,
                                     bytes=plan.bytes, mixed=plan.mixed), **stats)
        self.history.append(info)
        return SVMSolution(decision, eval_decision, info)

    def _full_rows(self, problems: SVMProblems):
        """Targets and training masks of every (group, problem) over all N rows: (N, b·m) each."""
        b, n, m, _ = problems.shape
        num_rows = self._source.shape[0]
        targets = np.ones((num_rows, b * m), dtype=np.int8)
        mask = np.zeros((num_rows, b * m), dtype=bool)
        for g in range(b):
            for j in range(m):
                col = g * m + j
                targets[problems.rows[g], col] = problems.targets[g, :, j]
                mask[problems.rows[g][problems.train_mask[g, :, j]], col] = True
        return targets, mask

    def _solve_columns(self, problems, columns, targets, mask, decision, eval_decision, scored, stats):
        """All costs of the (group, problem) columns ``columns``; fills the outputs in place."""
        b, n, m, c = problems.shape
        protocol = self.protocol
        groups, index = columns // m, columns % m
        targets = torch.from_numpy(targets).to(self.device, torch.float64)
        base = torch.where(targets > 0, protocol.positive_weight, protocol.negative_weight)
        base = base * torch.from_numpy(mask).to(self.device)
        costs = problems.costs[index]  # (w, c)
        order = np.argsort(costs, axis=1, kind='stable')
        weights = result_decision = None
        scale = protocol.intercept_scaling
        for position in range(c):
            cost_value = torch.from_numpy(costs[np.arange(len(columns)), order[:, position]]).to(self.device)
            cost = base * cost_value
            # The previous cost's solution as it is, not its best multiple (the dual path's start): its margins
            # predict the active rows better; large cost steps take half the Newton steps
            # (docs/en/benchmarks/svm_voc07.md, "COCO2014 linear SVM").
            result = primal.solve_primal(self._source, targets, cost, self._subspace, scale, self._row_norm,
                                         init=weights, init_decision=result_decision, tol=self.tol,
                                         max_newton=self.max_newton, mixed=self._mixed)
            weights, result_decision = result.weights, result.decision
            stats['newton'] += int(result.newton_steps.sum())
            stats['cg'] += int(result.cg_steps.sum())
            stats['max_violation'] = max(stats['max_violation'],
                                         float(result.gradient_norm.max()) * self._row_norm)
            values = result.decision.cpu().numpy()
            evaluated = problems.evaluate[index]
            eval_values = None
            if evaluated.any():
                eval_values = primal.decision_values(self._eval_source, weights[:, torch.from_numpy(
                    np.flatnonzero(evaluated)).to(self.device)], scale).cpu().numpy()
            for k, (g, j) in enumerate(zip(groups, index)):
                cost_index = order[k, position]
                decision[g, :, j, cost_index] = values[problems.rows[g], k]
            if eval_values is not None:
                for e, k in enumerate(np.flatnonzero(evaluated)):
                    g, j = groups[k], index[k]
                    eval_decision[g, np.searchsorted(scored, j), order[k, position]] = eval_values[:, e]


#: Solver names accepted by :func:`build_svm_solver`. A plain mapping: the solvers are not
#: config-built modules, so a registry would add a scope and lazy imports for two entries.
SOLVERS = {'fast': FastSVMSolver, 'sklearn': SklearnSVMSolver, 'primal': PrimalSVMSolver}


def build_svm_solver(name: str, protocol: SVMProtocol, **kwargs) -> BaseSVMSolver:
    """Build the solver ``name`` (``'fast'``, ``'sklearn'`` or ``'primal'``) for ``protocol``.

    ``kwargs`` go to the solver's constructor, e.g. ``device``, ``max_memory`` (fast, primal) or
    ``n_jobs`` (sklearn).
    """
    if name not in SOLVERS:
        raise ValueError(f'unknown SVM solver {name!r}, expected one of {sorted(SOLVERS)}')
    return SOLVERS[name](protocol, **kwargs)

"""The fast solver: one shared Gram matrix per layer and the batched dual Newton solver
(:mod:`mmssl.evaluation.svm.newton`), or the primal solver over row chunks when the Gram matrix does not fit the
memory budget."""
import time
from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch
from mmengine.logging import MMLogger

from ..gram import GramBlocks, gather_blocks, gram_matrix, low_rank_residual, to_tensor
from ..newton import solve_path
from ..preconditioner import Preconditioner
from ..protocol import SVMProtocol
from .base import DEFAULT_MAX_MEMORY, BaseSVMSolver, SVMProblems, SVMSolution, parse_memory
from .primal import PrimalSVMSolver


def _synchronized_time(device) -> float:
    """``time.perf_counter()`` after the device's queued work is done (CUDA kernels run asynchronously)."""
    if torch.device(device).type == 'cuda':
        torch.cuda.synchronize(device)
    return time.perf_counter()


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
            (:class:`.gram.GramBlocks`). Violations, stopping and decision values stay float64, so the
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
        self._rows = to_tensor(train_features, self.device)
        self._gram = gram_matrix(self._rows, bias_sq=self.protocol.intercept_scaling**2)
        gram_done = _synchronized_time(self.device)
        self._precond = Preconditioner.from_gram(self._gram, self.precond_rank)
        self._group_precond = self._precond.truncate(self.group_precond_rank)
        num_eval = 0 if eval_features is None else len(eval_features)
        if self.precision == 'mixed' and self.dual_bytes(num_rows, dim, num_eval, mixed=True) <= self.max_memory:
            self._residual = low_rank_residual(self._gram, self._precond)
        self.prepare_history.append(dict(rows=num_rows, dim=dim, gram_seconds=gram_done - start,
                                         preconditioner_seconds=_synchronized_time(self.device) - gram_done))

    def _uses_primal(self, dual_bytes: int) -> bool:
        return self.method == 'primal' or (self.method == 'auto' and dual_bytes > self.max_memory)

    def _primal_solver(self) -> PrimalSVMSolver:
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
                residual = GramBlocks(self._gather(self._residual, rows, full), vectors=vectors,
                                      values=self._precond.values)
            precond = self._precond if full else self._group_precond.take(rows)
            result = solve_path(
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
        the group is everything. Chunks of one solve reuse a buffer per dtype (see :func:`.gram.gather_blocks`)."""
        if full:
            return matrix[None]
        size = rows.numel() * rows.shape[1]
        buffer = self._block_buffers.get(matrix.dtype)
        if buffer is None or buffer.numel() < size:
            buffer = self._block_buffers[matrix.dtype] = matrix.new_empty(size)
        return gather_blocks(matrix, rows, out=buffer[:size].view(*rows.shape, rows.shape[1]))

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
            self._eval_rows = to_tensor(self.eval_features, self.device)
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
            self._eval_gram = gram_matrix(self._eval_rows, self._rows, self.protocol.intercept_scaling**2)

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

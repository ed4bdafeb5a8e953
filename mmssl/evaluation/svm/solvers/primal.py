"""The primal solver: batched Newton-CG over row chunks of the (memory-mapped) features
(:mod:`mmssl.evaluation.svm.primal`), for layers whose Gram matrix does not fit the memory budget."""
import time
from typing import Optional

import numpy as np
import torch
from mmengine.logging import MMLogger

from ..primal import (MemoryPlan, MixedRows, RowSource, Subspace, columns_that_fit, decision_values, plan_memory,
                      solve_primal)
from ..protocol import SVMProtocol
from .base import DEFAULT_MAX_MEMORY, BaseSVMSolver, SVMProblems, SVMSolution, parse_memory


class PrimalSVMSolver(BaseSVMSolver):
    """Batched primal Newton-CG over row chunks (torch, float64; CPU or GPU), see :mod:`mmssl.evaluation.svm.primal`.

    Memory grows like ``(N + D)·m`` for ``m`` problems solved together, never ``N²``: the training
    rows stay in memory as float64 when the budget allows and are otherwise re-read from the
    (memory-mapped) features chunk by chunk. Problems are solved in column batches that fit
    ``max_memory``; every problem walks its costs in ascending order, each cost starting from
    the previous cost's solution. Problems on row subsets (groups) become problems
    on all rows whose other rows have cost 0.

    Args:
        protocol: the SVM settings.
        device: torch device.
        tol: every decision value ends within ``tol`` of the exact optimum (see :mod:`mmssl.evaluation.svm.primal`).
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
        plan = plan_memory(num_rows, dim, 1, self.precond_rank, self.max_memory, mixed=self.precision == 'mixed')
        chunk_rows = self.chunk_rows or plan.chunk_rows
        resident = plan.resident if self.resident is None else self.resident
        self._source = RowSource(train_features, self.device, chunk_rows, resident)
        self._eval_source = None if eval_features is None else RowSource(
            eval_features, self.device, chunk_rows, resident=False)
        scale = self.protocol.intercept_scaling
        norms = [float((x * x).sum(1).max()) for _, x in self._source.chunks()]
        self._row_norm = float(np.sqrt(max(norms) + scale**2))
        self._subspace = Subspace.build(self._source, scale, self.precond_rank)
        self._mixed = MixedRows(self._source, self._subspace, scale) if plan.mixed else None
        if self.precision == 'mixed' and not plan.mixed:
            MMLogger.get_current_instance().info(
                'primal SVM solver: float64 Hessian products (the float32 copy of the rows does not fit '
                f'max_memory {self.max_memory / 2**30:.2f} GiB next to the float64 rows)')

    def check_memory(self, num_rows: int, dim: int, num_eval: int = 0) -> None:
        plan_memory(num_rows, dim, 1, self.precond_rank, self.max_memory)

    def solve(self, problems: SVMProblems) -> SVMSolution:
        self._check_ready(problems)
        b, n, m, c = problems.shape
        start = time.perf_counter()
        num_rows, dim = self._source.shape
        source = self._source
        resident = source.resident
        mixed = self._mixed is not None
        rank = self._subspace.rank
        batch = max(1, min(b * m, columns_that_fit(num_rows, dim, source.chunk_rows, rank, resident,
                                                   self.max_memory, mixed)))
        plan = MemoryPlan.sized(num_rows, dim, rank, batch, source.chunk_rows, resident, mixed)
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
            # (speed_benchmarks/svm_history.md, "COCO2014 at full size").
            result = solve_primal(self._source, targets, cost, self._subspace, scale, self._row_norm,
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
                eval_values = decision_values(self._eval_source, weights[:, torch.from_numpy(
                    np.flatnonzero(evaluated)).to(self.device)], scale).cpu().numpy()
            for k, (g, j) in enumerate(zip(groups, index)):
                cost_index = order[k, position]
                decision[g, :, j, cost_index] = values[problems.rows[g], k]
            if eval_values is not None:
                for e, k in enumerate(np.flatnonzero(evaluated)):
                    g, j = groups[k], index[k]
                    eval_decision[g, np.searchsorted(scored, j), order[k, position]] = eval_values[:, e]

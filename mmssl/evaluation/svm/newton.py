"""Exact batched solver for squared-hinge linear SVMs that share one Gram matrix.

With liblinear's settings (L2 penalty on weights and bias, squared hinge, per-sample cost
``c_i = C·weight(y_i)``) the SVM ``min ½‖w̃‖² + Σ c_i max(0, 1 - y_i w̃ᵀx̃_i)²`` over the augmented
samples ``x̃ = [x, s]`` has the solution ``w̃ = Σ β_i x̃_i``. Everything is expressed through the Gram
matrix ``K̃ = XXᵀ + s²``: the decision values are ``f = K̃β`` and the bias is ``s·Σβ_i``. The dual
variables are ``α = yβ ≥ 0``, and optimality reads ``α_i / (2c_i) = max(0, 1 - y_i f_i)`` for every
training sample ``i`` - the residual of this identity, in margin units, is the stopping criterion.

The solver is the finite Newton method for this piecewise quadratic (Keerthi & DeCoste 2005,
Chapelle 2007): with ``A`` the samples inside the margin, a Newton step solves
``(K̃_AA + diag(1/(2c_A))) β_A = y_A`` and sets ``β`` to 0 elsewhere; an exact line search keeps
the objective decreasing. Once ``A`` is right the step is exact, so a handful of steps reach the
optimum to machine precision. Each linear system is solved by conjugate gradients preconditioned
with the top eigenpairs of ``K̃`` (Woodbury), and all problems (classes, folds, samples) move
together: every CG step is one batched matrix product ``K̃ @ P`` over all unconverged columns.

Tensors are ``(b, n, m)``: ``b`` groups with their own ``n × n`` Gram block (``b = 1`` for the full
protocol, one group per low-shot sample), ``m`` problems (columns) per group. The Gram matrix and the
products of its blocks are in :mod:`.gram`, the low-rank factors behind the preconditioner in
:mod:`.preconditioner` and the exact line search in :mod:`.line_search`.
"""
from dataclasses import dataclass, fields
from typing import Optional, Tuple

import numpy as np
import torch

from .gram import GramBlocks
from .line_search import line_search
from .preconditioner import Preconditioner


@dataclass
class SolveResult:
    """Solutions of a batch of problems.

    Attributes:
        coef: (b, n, m) ``β``; zero on rows a problem does not train on.
        decision: (b, n, m) ``K̃β`` - decision values (bias included) on all n rows of the group.
        newton_steps: (b, m) Newton steps taken.
        cg_steps: (b, m) conjugate-gradient steps taken (one Gram product each).
        violation: (b, m) final optimality residual in margin units.
    """
    coef: torch.Tensor
    decision: torch.Tensor
    newton_steps: torch.Tensor
    cg_steps: torch.Tensor
    violation: torch.Tensor


def _take_groups(x: torch.Tensor, groups: torch.Tensor) -> torch.Tensor:
    """``x[groups]`` without copying when all groups are kept."""
    return x if len(groups) == len(x) else x[groups]


@dataclass
class _Columns:
    """Indices of the live columns of a (b, m) batch, packed group by group.

    Groups are padded to the largest live count with dead columns, which are computed but never
    written back. Groups without live columns are dropped (:class:`GramBlocks` selects groups
    without copying their blocks).

    Attributes:
        groups: (b',) kept groups.
        cols: (b', w) column of each packed slot.
        valid: (b', w) bool, slots that hold a live column (the others are padding).
    """
    groups: torch.Tensor
    cols: torch.Tensor
    valid: torch.Tensor

    @classmethod
    def pack(cls, live: torch.Tensor) -> '_Columns':
        """Pack the ``True`` entries of ``live`` (b, m)."""
        counts = live.sum(1)
        busy = counts.nonzero()[:, 0]
        width = int(counts.max())
        order = torch.argsort((~live).to(torch.int8), dim=1, stable=True)
        cols = order[busy, :width]
        return cls(busy, cols, torch.gather(live[busy], 1, cols))

    def within(self, inner: '_Columns') -> '_Columns':
        """``inner`` packs slots of this packing; the same columns indexed in the original batch."""
        return _Columns(self.groups[inner.groups], torch.gather(self.cols[inner.groups], 1, inner.cols),
                        inner.valid)

    def take(self, x: torch.Tensor) -> torch.Tensor:
        """(b, m) -> (b', w) or (b, n, m) -> (b', n, w)."""
        x = _take_groups(x, self.groups)
        if x.dim() == 2:
            return torch.gather(x, 1, self.cols)
        return torch.gather(x, 2, self.cols[:, None, :].expand(-1, x.shape[1], -1))

    def put(self, x: torch.Tensor, values: torch.Tensor) -> None:
        """Write the live entries of ``values`` (b', w) or (b', n, w) back into ``x``."""
        groups = self.groups[:, None].expand_as(self.cols)[self.valid]
        cols = self.cols[self.valid]
        if x.dim() == 2:
            x[groups, cols] = values[self.valid]
        else:
            x[groups, :, cols] = values.transpose(1, 2)[self.valid]


@dataclass
class _Woodbury:
    """Per-column inverse of ``U_A Λ U_Aᵀ + diag(r_A + 1/(2c_A))`` on the active rows ``A``.

    Attributes:
        vectors: (b, n, k) rows of ``U`` of each group.
        weights: (b, n, w) ``active / (r + 1/(2c))`` per column; zero off the active rows.
        chol: (b, w, k, k) Cholesky factors of ``Λ⁻¹ + Uᵀ diag(weights) U``; ``None`` when k = 0.
    """
    vectors: torch.Tensor
    weights: torch.Tensor
    chol: Optional[torch.Tensor]

    @classmethod
    def build(cls, precond: Preconditioner, inv2c: torch.Tensor, active: torch.Tensor) -> '_Woodbury':
        weights = active / (precond.factor('residual_diag')[..., None] + inv2c)  # (b, n, w)
        vectors = precond.factor('vectors')
        b, _, w = weights.shape
        k = precond.rank
        if k == 0:
            return cls(vectors, weights, None)
        # Uᵀ diag(weights_j) U for all columns j: weights (w × n) times the row outer products.
        upper = torch.triu_indices(k, k, device=inv2c.device)
        system = inv2c.new_empty(b, w, k, k)
        packed = weights.transpose(1, 2) @ precond.factor('outer')
        system[:, :, upper[0], upper[1]] = packed
        system[:, :, upper[1], upper[0]] = packed
        system.diagonal(dim1=-2, dim2=-1).add_(1 / precond.values)
        return cls(vectors, weights, torch.linalg.cholesky(system))

    def __call__(self, residual: torch.Tensor) -> torch.Tensor:
        scaled = self.weights * residual
        if self.chol is None:
            return scaled
        projected = (self.vectors.transpose(1, 2) @ scaled).transpose(1, 2)[..., None]  # (b, w, k, 1)
        solved = torch.cholesky_solve(projected, self.chol)[..., 0].transpose(1, 2)  # (b, k, w)
        return scaled - self.weights * (self.vectors @ solved)

    def select(self, cols: _Columns) -> '_Woodbury':
        """The packed columns ``cols`` of this preconditioner."""
        vectors = _take_groups(self.vectors, cols.groups)
        weights = cols.take(self.weights)
        if self.chol is None:
            return _Woodbury(vectors, weights, None)
        k = self.chol.shape[-1]
        index = cols.cols[..., None, None].expand(-1, -1, k, k)
        return _Woodbury(vectors, weights, torch.gather(_take_groups(self.chol, cols.groups), 1, index))


def _violation(coef, decision, targets, cost, inv2c):
    """max_i |α_i/(2c_i) - max(0, 1 - y_i f_i)| over training rows, per column: (b, m)."""
    slack = (1 - targets * decision).clamp_min(0)
    residual = (targets * coef * inv2c - slack) * (cost > 0)
    return residual.abs().amax(dim=1)


@dataclass
class _CGState:
    """Conjugate-gradient recurrences of the packed live columns; all (b', n, w) unless noted.

    Attributes:
        gram: Gram blocks of the kept groups.
        active, inv2c: the system ``K̃_AA + diag(inv2c_A)`` as a 0/1 row mask and the diagonal.
        precond: the preconditioner of these columns.
        tol: (b', w) residual target.
        x, kx: the iterate and ``K̃ x``.
        r, z, p: residual, preconditioned residual and search direction.
        rz: (b', w) ``rᵀz``.
        steps: (b', w) steps taken.
        done: (b', w) converged or padding slots.
    """
    gram: GramBlocks
    active: torch.Tensor
    inv2c: torch.Tensor
    precond: _Woodbury
    tol: torch.Tensor
    x: torch.Tensor
    kx: torch.Tensor
    r: torch.Tensor
    z: torch.Tensor
    p: torch.Tensor
    rz: torch.Tensor
    steps: torch.Tensor
    done: torch.Tensor

    def repack(self, inner: _Columns) -> '_CGState':
        """Keep only the slots of ``inner`` (a packing of this state's (b', w) slots)."""
        values = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name == 'gram':
                values[item.name] = value.select(inner.groups)
            elif item.name == 'precond':
                values[item.name] = value.select(inner)
            else:
                values[item.name] = inner.take(value)
        return _CGState(**values)


def _conjugate_gradient(gram, active, inv2c, rhs, precond, tol, max_iter):
    """Solve ``(K̃_AA + diag(inv2c_A)) d = rhs`` per column until ``max|residual| <= tol``.

    Args:
        gram: :class:`GramBlocks` of b groups; active: (b, n, w) float 0/1; inv2c: (b, n, w);
        rhs: (b, n, w), zero off A.
        precond: a :class:`_Woodbury` for these columns; tol: (b, w); max_iter: int.

    Returns:
        tuple: ``d`` (b, n, w), ``K̃ d`` (b, n, w) on all rows and the steps per column (b, w).
    """
    sol = torch.zeros_like(rhs)
    sol_image = torch.zeros_like(rhs)
    steps = torch.zeros(tol.shape, dtype=torch.long, device=rhs.device)
    live = rhs.abs().amax(1) > tol
    if not live.any():
        return sol, sol_image, steps
    cols = _Columns.pack(live)
    state_precond = precond.select(cols)
    residual = cols.take(rhs)
    z = state_precond(residual)
    state = _CGState(gram=gram.select(cols.groups), active=cols.take(active), inv2c=cols.take(inv2c),
                     precond=state_precond, tol=cols.take(tol), x=cols.take(sol), kx=cols.take(sol_image),
                     r=residual, z=z, p=z.clone(), rz=(residual * z).sum(1), steps=cols.take(steps),
                     done=~cols.valid)

    def write_back():
        cols.put(sol, state.x)
        cols.put(sol_image, state.kx)
        cols.put(steps, state.steps)

    width = int(live.sum())
    for _ in range(max_iter):
        kp = state.gram.product(state.p, live=~state.done.all(1))
        ap = state.active * kp + state.inv2c * state.p
        curvature = (state.p * ap).sum(1)
        # Finished columns stay frozen until the next repack (their recurrences may degenerate).
        step = torch.where(state.done | (curvature <= 0), 0, state.rz / curvature)
        state.steps += ~state.done
        state.x += step[:, None] * state.p
        state.kx += step[:, None] * kp
        state.r -= step[:, None] * ap
        done = state.done | (state.r.abs().amax(1) <= state.tol)
        state.done = done
        if done.all():
            break
        state.z = state.precond(state.r)
        rz = (state.r * state.z).sum(1)
        ratio = torch.where(done, 0, rz / torch.where(done, 1, state.rz))
        state.p = state.z + ratio[:, None] * state.p
        state.rz = rz
        still = int((~done).sum())
        if still <= width // 2:  # repack so finished columns stop costing matrix products
            write_back()
            inner = _Columns.pack(~done)
            cols, state = cols.within(inner), state.repack(inner)
            width = still
    write_back()
    return sol, sol_image, steps


def solve(gram: torch.Tensor,
          targets: torch.Tensor,
          cost: torch.Tensor,
          precond: Preconditioner,
          init: Optional[torch.Tensor] = None,
          init_decision: Optional[torch.Tensor] = None,
          tol: float = 1e-8,
          max_newton: int = 100,
          forcing: float = 1e-2,
          residual: Optional[GramBlocks] = None) -> SolveResult:
    """Solve a batch of squared-hinge SVMs exactly.

    Args:
        gram: (b, n, n) Gram block of each group (``K̃`` including the bias term).
        targets: (b, n, m) ±1 targets (float, same dtype as ``gram``).
        cost: (b, n, m) per-sample cost ``C·weight(y)``; 0 excludes a row from training (it still
            gets a decision value).
        precond: preconditioner with ``b`` groups.
        init: (b, n, m) warm start ``β``; zero off the training rows.
        init_decision: ``K̃ @ init`` if known.
        tol: stop when every training sample satisfies ``|α_i/(2c_i) - max(0, 1 - y_i f_i)| <= tol``.
        max_newton: cap on Newton steps per column.
        forcing: each CG solve reduces the residual below ``forcing ×`` the current violation. A
            column whose step fails to decrease the objective (an inexact step need not be a
            descent direction) retries with a 100 times tighter solve.
        residual: optional :class:`GramBlocks` of the float32 residuals of ``gram`` and their low-rank part,
            for the products inside the Newton steps. Newton steps only need to be approximately right:
            every violation and the final decision values are computed from ``gram`` itself, so the
            solution is as exact as with ``gram`` alone, while most products read half the bytes. A
            column whose step fails or whose CG solve hits its cap takes its later steps on ``gram``; so
            does one that is twice not optimal on exact decision values when it is on the incremental ones.

    Returns:
        SolveResult: solutions; ``violation > tol`` flags a column that hit ``max_newton``.
    """
    targets, cost = targets.to(gram.dtype), cost.to(gram.dtype)
    blocks = GramBlocks(gram)
    trained = cost > 0
    inv2c = torch.where(trained, 0.5 / torch.where(trained, cost, 1), 0)
    coef = torch.zeros_like(targets) if init is None else init.to(gram.dtype) * trained
    if init is None:
        decision = torch.zeros_like(targets)
    else:
        decision = blocks.product(coef) if init_decision is None else init_decision.to(gram.dtype).clone()
    steps = torch.zeros(targets.shape[0], targets.shape[2], dtype=torch.long, device=targets.device)
    cg_steps = torch.zeros_like(steps)
    exact = True
    max_cg = 10 * int(np.sqrt(targets.shape[1])) + 100
    accuracy = torch.full(steps.shape, forcing, dtype=gram.dtype, device=gram.device)
    on_gram = torch.full(steps.shape, residual is None, device=gram.device)  # columns whose steps use gram
    drifted = torch.zeros_like(on_gram)  # columns found not optimal on exact decision values once
    while True:
        violation = _violation(coef, decision, targets, cost, inv2c)
        live = (violation > tol) & (steps < max_newton)
        if not live.any():
            if exact:
                break
            # Decision values were updated incrementally; confirm optimality on exact ones. A column
            # that is not optimal on them drifted on the residual products (by about the rounding of the
            # float32 residual times its coefficients). From the exact values its drift starts over, so
            # it takes its next steps on the residual again; one that drifts out twice goes on with gram.
            decision = blocks.product(coef)
            exact = True
            failed = _violation(coef, decision, targets, cost, inv2c) > tol
            on_gram |= failed & drifted
            drifted |= failed
            continue
        exact = False
        for products, part in ((residual, live & ~on_gram), (blocks, live & on_gram)):
            if not part.any():
                continue
            cols = _Columns.pack(part)
            cg_tol = torch.clamp(cols.take(violation) * cols.take(accuracy), min=tol * 1e-4)
            new_coef, new_decision, step, cg_used = _newton_step(
                products.select(cols.groups),
                cols.take(targets), cols.take(cost), cols.take(inv2c),
                cols.take(coef), cols.take(decision), precond.select(cols.groups), cg_tol, max_cg)
            cols.put(coef, new_coef)
            cols.put(decision, new_decision)
            failed = step < 1e-6
            cols.put(accuracy, torch.where(failed, cols.take(accuracy) * 1e-2, cols.take(accuracy)))
            cols.put(on_gram, cols.take(on_gram) | failed | (cg_used >= max_cg))
            cols.put(cg_steps, cols.take(cg_steps) + cg_used)
        steps[live] += 1
    return SolveResult(coef, decision, steps, cg_steps, violation)


def _newton_step(gram, targets, cost, inv2c, coef, decision, precond, cg_tol, max_cg):
    """One Newton step on the live columns; ``gram`` is a :class:`GramBlocks`, exact or residual."""
    active = ((1 - targets * decision > 0) & (cost > 0)).to(coef.dtype)
    kept = coef * active
    leaving = coef - kept
    decision_kept = decision.clone()
    moved = leaving.any(1)
    if moved.any():  # rows that left the margin drop out of β: remove their share of K̃β
        cols = _Columns.pack(moved)
        product = gram.select(cols.groups).product(cols.take(leaving))
        cols.put(decision_kept, cols.take(decision) - product)
    rhs = active * (targets - decision_kept - inv2c * kept)
    # A solve cannot get below the rounding of its own precision.
    cg_tol = torch.maximum(cg_tol, 100 * torch.finfo(rhs.dtype).eps * rhs.abs().amax(1))
    precond = _Woodbury.build(precond, inv2c, active)
    delta, image, cg_used = _conjugate_gradient(gram, active, inv2c, rhs, precond, cg_tol, max_cg)
    # The Newton point is kept + delta: the step from coef drops the leaving rows and adds delta.
    direction = delta - leaving
    image = image - (decision - decision_kept)
    t = line_search(coef, decision, direction, image, targets, cost)
    return coef + t * direction, decision + t * image, t[:, 0], cg_used


def warm_start_scale(coef, decision, targets, cost):
    """Scale a previous solution ``β`` into a warm start for new costs.

    Along an ascending cost path the solution grows like the cost while most samples are inside
    the margin, and saturates once they reach it. The scale is the objective-optimal multiple
    ``s`` (an exact 1-D search), capped so that no sample leaves the margin: near convergence many
    samples sit just inside it, and pushing them out shrinks the active set, after which Newton
    overshoots and needs many short steps to recover it.

    Returns:
        tuple: scaled ``β`` and ``K̃β``, both (b, n, m).
    """
    zero = torch.zeros_like(coef)
    scale = line_search(zero, zero, coef, decision, targets, cost, max_step=1e12, iters=80)
    functional = targets * decision
    inside = (functional > 0) & (functional < 1) & (cost > 0)
    keep = 1 / torch.where(inside, functional, 1e-12).amax(dim=1, keepdim=True)
    scale = torch.minimum(scale, keep.clamp_min(1))
    return coef * scale, decision * scale


def solve_path(gram: torch.Tensor,
               targets: torch.Tensor,
               train_mask: torch.Tensor,
               costs: torch.Tensor,
               class_weight: Tuple[float, float],
               precond: Preconditioner,
               tol: float = 1e-8,
               max_newton: int = 100,
               chains: int = 1,
               init: Optional[torch.Tensor] = None,
               residual: Optional[GramBlocks] = None) -> SolveResult:
    """Solve every problem for every one of its costs, warm-starting along ascending costs.

    The sorted costs of a problem are split into ``chains`` interleaved paths that advance
    together: chain ``i`` solves the ``i``-th, ``(i + chains)``-th, ... smallest cost, each from the
    best multiple of its previous solution. One chain needs the fewest Newton steps; more chains
    put more columns into each Gram product, which pays off when the Gram blocks are small and the
    products are bound by memory traffic rather than arithmetic.

    Args:
        gram: (b, n, n) Gram blocks.
        targets: (b, n, m) ±1.
        train_mask: (b, n, m) bool, rows each problem trains on.
        costs: (m, c) costs ``C`` per problem, any order.
        class_weight: (positive, negative) multipliers of ``C``.
        precond: preconditioner with ``b`` groups.
        tol: optimality tolerance, see :func:`solve`.
        max_newton: Newton step cap per solve.
        chains: number of interleaved cost paths.
        init: (b, n, m) optional warm start ``β`` for the smallest cost of every problem.
        residual: optional residual blocks of ``gram`` for the Newton steps' products, see :func:`solve`.

    Returns:
        SolveResult: tensors with a trailing cost axis in the order of ``costs``: coef and decision
        (b, n, m, c), the others (b, m, c).
    """
    b, n, m = targets.shape
    c = costs.shape[1]
    targets = targets.to(gram.dtype)
    costs = costs.to(device=gram.device, dtype=gram.dtype)
    order = costs.argsort(dim=1)
    sorted_costs = torch.gather(costs, 1, order)
    base = torch.where(targets > 0, class_weight[0], class_weight[1]) * train_mask
    chains = max(1, min(chains, c))
    pieces = []
    coef = decision = None
    if init is not None:
        coef = init.to(gram.dtype)[..., None] * train_mask[..., None]
        decision = GramBlocks(gram).product(coef[..., 0])
        coef, decision = coef.expand(b, n, m, chains), decision[..., None].expand(b, n, m, chains)
    for start in range(0, c, chains):
        width = min(chains, c - start)

        def widen(x):  # (b, n, m) -> (b, n, m * width), problem-major like the costs below
            return x[..., None].expand(b, n, m, width).reshape(b, n, m * width)

        cost = widen(base) * sorted_costs[:, start:start + width].reshape(-1)
        init = init_decision = None
        if coef is not None:
            keep = (slice(None), slice(None), slice(None), slice(0, width))
            init, init_decision = warm_start_scale(coef[keep].reshape(b, n, -1),
                                                   decision[keep].reshape(b, n, -1), widen(targets), cost)
        result = solve(gram, widen(targets), cost, precond, init, init_decision, tol=tol,
                       max_newton=max_newton, residual=residual)
        coef = result.coef.reshape(b, n, m, width)
        decision = result.decision.reshape(b, n, m, width)
        pieces.append(result)
    inverse = order.argsort(dim=1)

    def stack(name):
        values = torch.cat([getattr(r, name).reshape(getattr(r, name).shape[:-1] + (m, -1))
                            for r in pieces], dim=-1)
        return torch.gather(values, -1, inverse.expand(values.shape[:-2] + inverse.shape))

    return SolveResult(*(stack(k) for k in ('coef', 'decision', 'newton_steps', 'cg_steps', 'violation')))

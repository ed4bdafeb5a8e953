"""Primal Newton-CG for squared-hinge linear SVMs whose Gram matrix does not fit in memory.

The problem is the one of :mod:`.newton` (liblinear's L2-regularised squared hinge with the bias as
a regularised constant feature ``s``, per-sample costs ``c_i = C·weight(y_i)``), written over the
augmented weights ``w̃ = [w, w_b]`` instead of the dual variables:

    min_w̃  ½‖w̃‖² + Σ_i c_i max(0, 1 - y_i f_i)²,    f = X w + s·w_b.

Gradient ``g = w̃ - 2 X̃ᵀ(c·y·ξ)`` with ``ξ = max(0, 1 - y f)``; generalised Hessian
``H = I + 2 X̃ᵀ diag(c·[ξ > 0]) X̃`` (Keerthi & DeCoste 2005; liblinear's TRON solves the same
system). Every quantity touches the samples only through ``X̃·V`` and ``X̃ᵀ·U`` for a block of
columns, so the rows are read in chunks - from memory when they fit the budget, else straight
from the memory map - and memory grows like ``(n + D)·m``, not ``n²``.

The objective is 1-strongly convex in ``w̃``, so ``‖w̃ - w̃*‖ ≤ ‖g‖`` and every decision value is
within ``max_i ‖x̃_i‖·‖g‖`` of the optimum: stopping at ``‖g‖ ≤ tol / max_i ‖x̃_i‖`` puts all decision
values within ``tol`` of the exact solution, which is what the dual solver's tolerance delivers.

CG is preconditioned per column with the exact Hessian on the leading eigenvectors ``V`` of
``X̃ᵀX̃`` (the large mean direction of post-ReLU features and its neighbours, which make ``H``
ill-conditioned) and its diagonal on the rest:
``P⁻¹ = V (VᵀHV)⁻¹ Vᵀ + Q diag(H)⁻¹ Q`` with ``Q = I - VVᵀ``; ``VᵀHV = I + 2 Zᵀ diag(c·a) Z`` with
``Z = X̃V`` kept in memory (n × k).
"""
from dataclasses import dataclass
from typing import Iterator, Optional, Tuple

import numpy as np
import torch

from .line_search import segment_search

#: Rows per chunk when the features are streamed (and the smallest chunk the budget must allow).
MAX_CHUNK_ROWS = 8192
MIN_CHUNK_ROWS = 256
STREAM_CHUNK_ROWS = 2048
_FLOAT = 8  # bytes of a float64


def _packed_outer_rows(z: torch.Tensor) -> torch.Tensor:
    """(r, k(k+1)/2) upper triangles of ``z_i z_iᵀ`` for the rows of (r, k) ``z``."""
    k = z.shape[1]
    rows, cols = torch.triu_indices(k, k, device=z.device)
    return z[:, rows] * z[:, cols]


@dataclass
class MemoryPlan:
    """How the primal solver uses its memory budget.

    Attributes:
        columns: problems (columns) solved together.
        chunk_rows: rows per chunk of ``X``.
        resident: whether the float64 rows are kept in memory (else re-read from the source).
        bytes: estimated peak bytes of this plan.
        mixed: whether the float32 split of the rows (:class:`MixedRows`) is held as well.
    """
    columns: int
    chunk_rows: int
    resident: bool
    bytes: int
    mixed: bool = False

    @classmethod
    def sized(cls, num_rows: int, dim: int, rank: int, columns: int, chunk_rows: int, resident: bool,
              mixed: bool) -> 'MemoryPlan':
        """The plan for this layout with its bytes from :func:`primal_bytes`."""
        return cls(columns, chunk_rows, resident,
                   primal_bytes(num_rows, dim, columns, chunk_rows, rank, resident, mixed), mixed)


def primal_bytes(num_rows: int, dim: int, columns: int, chunk_rows: int, rank: int, resident: bool,
                 mixed: bool = False) -> int:
    """Estimated peak bytes of :func:`solve_primal` (float64 state, rows, chunk temporaries, float32 split)."""
    packed = rank * (rank + 1) // 2
    per_column = _FLOAT * (10 * (dim + 1) + 12 * num_rows + 3 * rank * rank + 4 * chunk_rows)
    fixed = _FLOAT * (num_rows * rank + (dim + 1) * rank + chunk_rows * packed)
    rows = _FLOAT * num_rows * dim if resident else (_FLOAT + 4) * chunk_rows * dim
    split = MixedRows.bytes(num_rows, dim) if mixed else 0
    return fixed + rows + split + columns * per_column


def columns_that_fit(num_rows: int, dim: int, chunk_rows: int, rank: int, resident: bool, max_memory: int,
                     mixed: bool = False) -> int:
    """How many problems fit ``max_memory`` next to the rows in the given layout."""
    base = primal_bytes(num_rows, dim, 0, chunk_rows, rank, resident, mixed)
    per_column = primal_bytes(num_rows, dim, 1, chunk_rows, rank, resident, mixed) - base
    return int(max(0, max_memory - base) // per_column)


def plan_memory(num_rows: int, dim: int, columns: int, rank: int, max_memory: int,
                mixed: bool = False) -> MemoryPlan:
    """The largest column batch and chunk that fit ``max_memory`` bytes.

    Prefers keeping the rows in memory (each pass is then a plain matrix product) when that still
    leaves room for all ``columns`` or at least a quarter of them; otherwise streams chunks. With
    ``mixed``, the float32 split of the rows is planned in when it leaves room for the same layout,
    and left out otherwise (``MemoryPlan.mixed`` says which).

    Raises:
        ValueError: when even one column with the smallest chunk does not fit; the message says how
            much is needed.
    """
    double = _plan_layout(num_rows, dim, columns, rank, max_memory, mixed=False)
    if double is None:
        smallest = _smallest_bytes(num_rows, dim, rank, mixed=False)
        raise ValueError(
            f'max_memory={max_memory / 2**30:.3g} GiB ({max_memory} bytes) is too small for the primal SVM '
            f'solver: {num_rows} rows x {dim} dims need at least {smallest / 2**30:.3g} GiB ({smallest} '
            'bytes) for one problem and the smallest chunk; raise max_memory')
    split = _plan_layout(num_rows, dim, columns, rank, max_memory, mixed=True) if mixed else None
    # The split must not cost the rows their place in memory: streaming them is slower than float64 products.
    return split if split is not None and split.resident == double.resident else double


def _smallest_bytes(num_rows: int, dim: int, rank: int, mixed: bool) -> int:
    """Bytes of one problem in the smaller of the layouts: the smallest streamed chunk or the rows in memory."""
    return min(primal_bytes(num_rows, dim, 1, min(MIN_CHUNK_ROWS, num_rows), rank, False, mixed),
               primal_bytes(num_rows, dim, 1, min(MAX_CHUNK_ROWS, num_rows), rank, True, mixed))


def _plan_layout(num_rows: int, dim: int, columns: int, rank: int, max_memory: int,
                 mixed: bool) -> Optional[MemoryPlan]:
    """:func:`plan_memory` for one choice of ``mixed``; ``None`` when not even one problem fits."""
    if _smallest_bytes(num_rows, dim, rank, mixed) > max_memory:
        return None
    smallest_chunk = min(MIN_CHUNK_ROWS, num_rows)
    chunk = min(MAX_CHUNK_ROWS, num_rows)

    def fit(resident, chunk_rows):
        return columns_that_fit(num_rows, dim, chunk_rows, rank, resident, max_memory, mixed)

    def plan(cols, chunk_rows, resident):
        return MemoryPlan.sized(num_rows, dim, rank, cols, chunk_rows, resident, mixed)

    resident_cols = fit(True, chunk)
    if resident_cols >= max(1, min(columns, max(1, columns // 4))):
        return plan(min(columns, resident_cols), chunk, True)
    # Streamed chunks only need to be large enough for efficient products; smaller ones leave room
    # for more problems per pass.
    chunk = min(chunk, STREAM_CHUNK_ROWS)
    while chunk > smallest_chunk and fit(False, chunk) < 1:
        chunk //= 2
    chunk = max(chunk, smallest_chunk)
    if fit(False, chunk) < 1:  # only the resident layout fits (tiny problems)
        return plan(max(1, min(columns, resident_cols)), min(MAX_CHUNK_ROWS, num_rows), True)
    return plan(max(1, min(columns, fit(False, chunk))), chunk, False)


class RowSource:
    """(N, D) rows (array or memory map) served as float64 chunks on ``device``.

    Args:
        array: the rows; a read-only memory map is never copied whole unless ``resident``.
        device: torch device of the chunks.
        chunk_rows: rows per chunk.
        resident: convert all rows once and keep them (float64) on ``device``.
    """

    def __init__(self, array: np.ndarray, device, chunk_rows: int, resident: bool):
        self.array = array
        self.device = torch.device(device)
        self.chunk_rows = chunk_rows
        self.shape = tuple(array.shape)
        self._chunks = None
        if resident:
            self._chunks = [self._read(lo) for lo in range(0, self.shape[0], chunk_rows)]

    @property
    def resident(self) -> bool:
        return self._chunks is not None

    def _read(self, lo: int) -> torch.Tensor:
        block = np.asarray(self.array[lo:lo + self.chunk_rows], dtype=np.float64)
        return torch.from_numpy(block).to(self.device)

    def chunks(self) -> Iterator[Tuple[slice, torch.Tensor]]:
        """``(rows, X[rows])`` for consecutive chunks."""
        for i, lo in enumerate(range(0, self.shape[0], self.chunk_rows)):
            rows = slice(lo, min(lo + self.chunk_rows, self.shape[0]))
            yield rows, (self._read(lo) if self._chunks is None else self._chunks[i])


def decision_values(source: RowSource, weights: torch.Tensor, bias_scale: float) -> torch.Tensor:
    """``X̃ w̃`` for (D + 1, m) ``weights``: (N, m)."""
    out = weights.new_empty(source.shape[0], weights.shape[1])
    for rows, x in source.chunks():
        out[rows] = x @ weights[:-1] + bias_scale * weights[-1]
    return out


@dataclass
class Subspace:
    """Leading eigenvectors of ``X̃ᵀX̃`` and their images, the low-rank part of the preconditioner.

    Attributes:
        vectors: (D + 1, k) orthonormal ``V``.
        images: (N, k) ``Z = X̃V``.
    """
    vectors: torch.Tensor
    images: torch.Tensor

    @classmethod
    def build(cls, source: RowSource, bias_scale: float, rank: int, power_iters: int = 3,
              seed: int = 0) -> 'Subspace':
        """Randomized subspace iteration on ``X̃ᵀX̃`` (Halko et al. 2011), one pass per iteration."""
        n, dim = source.shape
        rank = min(rank, n, dim + 1)
        generator = torch.Generator(device='cpu').manual_seed(seed)
        basis = torch.randn(dim + 1, rank, generator=generator, dtype=torch.float64).to(source.device)
        images = None
        for it in range(power_iters + 1):
            basis = torch.linalg.qr(basis).Q
            images = decision_values(source, basis, bias_scale)
            if it == power_iters:
                break
            basis = _transpose_product(source, images, bias_scale)
        # Rotate onto the eigenvectors of the projected matrix, so V spans a Ritz basis.
        values, vectors = torch.linalg.eigh(images.T @ images)
        order = values.argsort(descending=True)
        return cls(basis @ vectors[:, order], images @ vectors[:, order])

    @property
    def rank(self) -> int:
        return self.vectors.shape[1]


def chunk_transpose_product(x: torch.Tensor, columns: torch.Tensor) -> torch.Tensor:
    """``xᵀ @ columns`` (D, w) for an (r, D) chunk of rows and (r, w) ``columns``.

    MKL's product with the chunk transposed is 5-7x slower than ``(columnsᵀ x)ᵀ`` for 4-8 columns, in
    float64 and float32 (8,192 x 9,217 chunk, 2-core AMD EPYC); from 16 columns on it is 1.2-1.3x faster
    in float32 and still 1.3-1.9x slower in float64. Measured by ``speed_benchmarks/svm_speed.py --products``.
    """
    if columns.dtype == torch.float32 and columns.device.type == 'cpu' and columns.shape[1] >= 16:
        return x.T @ columns
    return (columns.T @ x).T


def _transpose_product(source: RowSource, rows_by_cols: torch.Tensor, bias_scale: float) -> torch.Tensor:
    """``X̃ᵀ U`` for (N, m) ``U``: (D + 1, m)."""
    out = rows_by_cols.new_zeros(source.shape[1] + 1, rows_by_cols.shape[1])
    for rows, x in source.chunks():
        out[:-1] += chunk_transpose_product(x, rows_by_cols[rows])
    out[-1] = bias_scale * rows_by_cols.sum(0)
    return out


class _Preconditioner:
    """``P⁻¹ = V M⁻¹ Vᵀ + Q diag(H)⁻¹ Q`` per column, ``M = VᵀHV`` (see the module docstring)."""

    def __init__(self, subspace: Subspace, weight: torch.Tensor, diagonal: torch.Tensor, chunk_rows: int):
        # weight: (N, w) the Hessian's row weights 2·c·a; diagonal: (D + 1, w) diag(H).
        self.vectors = subspace.vectors
        self.diagonal = diagonal
        k = subspace.rank
        upper = torch.triu_indices(k, k, device=weight.device)
        packed = weight.new_zeros(weight.shape[1], upper.shape[1])
        for lo in range(0, len(weight), chunk_rows):
            packed += weight[lo:lo + chunk_rows].T @ _packed_outer_rows(subspace.images[lo:lo + chunk_rows])
        system = weight.new_zeros(weight.shape[1], k, k)
        system[:, upper[0], upper[1]] = packed
        system[:, upper[1], upper[0]] = packed
        system.diagonal(dim1=-2, dim2=-1).add_(1)
        self.chol = torch.linalg.cholesky(system)  # (w, k, k)

    def __call__(self, residual: torch.Tensor, cols: Optional[torch.Tensor] = None) -> torch.Tensor:
        chol = self.chol if cols is None else self.chol[cols]
        diagonal = self.diagonal if cols is None else self.diagonal[:, cols]
        projected = self.vectors.T @ residual  # (k, w)
        low = torch.cholesky_solve(projected.T[..., None], chol)[..., 0].T
        rest = residual - self.vectors @ projected
        rest = rest / diagonal
        return self.vectors @ low + rest - self.vectors @ (self.vectors.T @ rest)


@dataclass
class PrimalResult:
    """Solutions of a batch of primal problems.

    Attributes:
        weights: (D + 1, m) ``w̃`` (the last row multiplies the constant feature ``s``).
        decision: (N, m) decision values on all rows.
        newton_steps, cg_steps: (m,) iterations.
        gradient_norm: (m,) final ``‖g‖``; every decision value is within
            ``max_i ‖x̃_i‖ · gradient_norm`` of the optimum.
    """
    weights: torch.Tensor
    decision: torch.Tensor
    newton_steps: torch.Tensor
    cg_steps: torch.Tensor
    gradient_norm: torch.Tensor


def _gradient(source, weights, decision, targets, cost, bias_scale):
    """Gradient (D + 1, m), diag(H) (D + 1, m) and the Hessian row weights 2·c·a (N, m)."""
    slack = (1 - targets * decision).clamp_min(0) * (cost > 0)
    weight = 2 * cost * (slack > 0)
    residual = 2 * cost * targets * slack
    grad = weights.clone()
    diagonal = torch.ones_like(weights)
    square = None  # one buffer for all chunks: a fresh (r, D) temporary per chunk made the pass 2-3x slower
    for rows, x in source.chunks():
        grad[:-1] -= chunk_transpose_product(x, residual[rows])
        square = x.new_empty(x.shape) if square is None else square[:len(x)]
        diagonal[:-1] += chunk_transpose_product(torch.mul(x, x, out=square), weight[rows])
    grad[-1] -= bias_scale * residual.sum(0)
    diagonal[-1] += bias_scale**2 * weight.sum(0)
    return grad, diagonal, weight


def _hessian_product(source, direction, weight, bias_scale):
    """``H p`` (D + 1, w) and ``X̃ p`` (N, w) for (D + 1, w) directions, in one pass over the rows."""
    product = direction.clone()
    image = direction.new_empty(source.shape[0], direction.shape[1])
    for rows, x in source.chunks():
        image[rows] = x @ direction[:-1] + bias_scale * direction[-1]
        product[:-1] += chunk_transpose_product(x, weight[rows] * image[rows])
    product[-1] += bias_scale * (weight * image).sum(0)
    return product, image


class MixedRows:
    """``X̃ = Z Vᵀ + R``: the rows split along the preconditioner's subspace, ``R`` kept in float32.

    The dual path's mixed precision (:class:`.gram.GramBlocks`) on rows: the leading eigenvectors
    carry most of ``X̃``'s norm (the mean direction of post-ReLU features), so a float32 ``R`` has an
    error far below a float32 ``X̃``'s. Used for the Hessian products inside CG only; gradients, line
    searches and decision values stay float64, so the models are as exact as with float64 products.

    Args:
        source: the (N, D) rows.
        subspace: ``V`` (D + 1, k) and ``Z = X̃V`` (N, k).
        bias_scale: the constant feature ``s``.
    """

    def __init__(self, source: RowSource, subspace: Subspace, bias_scale: float):
        self.subspace = subspace
        self.shape = source.shape
        self.chunks = []
        for rows, x in source.chunks():
            images = subspace.images[rows]
            residual = torch.empty(len(x), x.shape[1] + 1, dtype=torch.float32, device=x.device)
            residual[:, :-1] = x - images @ subspace.vectors[:-1].T
            residual[:, -1] = bias_scale - images @ subspace.vectors[-1]
            self.chunks.append((rows, residual))

    @staticmethod
    def bytes(num_rows: int, dim: int) -> int:
        return 4 * num_rows * (dim + 1)

    def hessian_product(self, direction: torch.Tensor, weight: torch.Tensor):
        """``H p`` (D + 1, w) for (D + 1, w) directions and ``X̃ p`` (N, w, float32 accuracy)."""
        vectors, images = self.subspace.vectors, self.subspace.images
        low = vectors.T @ direction  # (k, w)
        direction32 = direction.float()
        image = direction.new_empty(self.shape[0], direction.shape[1])
        transposed = torch.zeros_like(direction32)
        projected = low.new_zeros(low.shape)
        for rows, residual in self.chunks:
            image[rows] = images[rows] @ low + (residual @ direction32).double()
            scaled = weight[rows] * image[rows]
            transposed += chunk_transpose_product(residual, scaled.float())
            projected += images[rows].T @ scaled
        return direction + vectors @ projected + transposed.double(), image


def _conjugate_gradient(hessian_product, rhs, weight, precond, tol, max_iter):
    """Solve ``H d = rhs`` per column until ``‖residual‖ <= tol``; finished columns drop out.

    ``hessian_product(p, weight)`` returns ``H p`` and ``X̃ p``.

    Returns:
        tuple: ``d`` (D + 1, w), ``X̃ d`` (N, w) and the steps per column (w,).
    """
    sol = torch.zeros_like(rhs)
    image = rhs.new_zeros(weight.shape[0], rhs.shape[1])
    steps = torch.zeros(rhs.shape[1], dtype=torch.long, device=rhs.device)
    live = torch.arange(rhs.shape[1], device=rhs.device)
    r = rhs.clone()
    z = precond(r)
    p = z.clone()
    rz = (r * z).sum(0)
    for _ in range(max_iter):
        hp, xp = hessian_product(p, weight[:, live])
        step = rz / (p * hp).sum(0)
        sol[:, live] += step * p
        image[:, live] += step * xp
        r -= step * hp
        steps[live] += 1
        keep = r.norm(dim=0) > tol[live]
        if not keep.any():
            break
        if not keep.all():  # finished columns stop costing passes over the rows
            live, r, p, rz = live[keep], r[:, keep], p[:, keep], rz[keep]
        z = precond(r, live)
        rz_new = (r * z).sum(0)
        p = z + (rz_new / rz) * p
        rz = rz_new
    return sol, image, steps


def solve_primal(source: RowSource,
                 targets: torch.Tensor,
                 cost: torch.Tensor,
                 subspace: Subspace,
                 bias_scale: float,
                 row_norm: float,
                 init: Optional[torch.Tensor] = None,
                 init_decision: Optional[torch.Tensor] = None,
                 tol: float = 1e-6,
                 max_newton: int = 100,
                 forcing: float = 1e-2,
                 mixed: Optional[MixedRows] = None) -> PrimalResult:
    """Solve a batch of squared-hinge SVMs on the rows of ``source`` in the primal.

    Args:
        source: the (N, D) training rows.
        targets: (N, m) ±1.
        cost: (N, m) per-sample cost ``C·weight(y)``; 0 excludes a row (it still gets a decision value).
        subspace: the preconditioner's subspace, see :class:`Subspace`.
        bias_scale: the constant feature ``s`` (``intercept_scaling``).
        row_norm: ``max_i ‖x̃_i‖``, turning ``tol`` into a gradient bound.
        init: (D + 1, m) warm start.
        init_decision: ``X̃ @ init`` if known (saves a pass over the rows).
        tol: every decision value ends within ``tol`` of the exact optimum.
        max_newton: Newton step cap per column.
        forcing: each CG solve reduces the residual below ``forcing × ‖g‖`` (any CG iterate is a
            descent direction, so a loose solve is safe; the exact line search keeps progress).
        mixed: the float32 split of the rows for the Hessian products inside CG (see
            :class:`MixedRows`); ``None`` runs them in float64 on ``source``.

    Returns:
        PrimalResult: ``gradient_norm > tol / row_norm`` flags a column that hit ``max_newton``.
    """
    n, m = targets.shape
    dim = source.shape[1]
    weights = targets.new_zeros(dim + 1, m) if init is None else init.clone()
    if init is None:
        decision = targets.new_zeros(n, m)
    else:
        decision = decision_values(source, weights, bias_scale) if init_decision is None else init_decision.clone()
    newton_steps = torch.zeros(m, dtype=torch.long, device=targets.device)
    cg_steps = torch.zeros_like(newton_steps)
    grad_tol = tol / row_norm
    max_cg = 10 * int(np.sqrt(dim)) + 100
    exact = True
    if mixed is None:
        def hessian_product(direction, weight):
            return _hessian_product(source, direction, weight, bias_scale)
    else:
        hessian_product = mixed.hessian_product
    while True:
        grad, diagonal, weight = _gradient(source, weights, decision, targets, cost, bias_scale)
        norm = grad.norm(dim=0)
        live = torch.nonzero((norm > grad_tol) & (newton_steps < max_newton))[:, 0]
        if not len(live):
            if exact:
                break
            # Decision values were updated incrementally; confirm optimality on exact ones.
            decision = decision_values(source, weights, bias_scale)
            exact = True
            continue
        exact = False
        precond = _Preconditioner(subspace, weight[:, live], diagonal[:, live], source.chunk_rows)
        cg_tol = torch.clamp(forcing * norm[live], min=0.1 * grad_tol)
        direction, image, used = _conjugate_gradient(hessian_product, -grad[:, live], weight[:, live], precond,
                                                     cg_tol, max_cg)
        if mixed is not None:  # the line search and the decision values need X̃d in float64
            image = decision_values(source, direction, bias_scale)
        w, f = weights[:, live], decision[:, live]
        y, c = targets[:, live], cost[:, live]
        slope0 = (w * direction).sum(0)
        curvature = (direction * direction).sum(0)
        scale0 = (w * direction).abs().sum(0) + curvature
        t = segment_search(slope0[None], curvature[None], scale0[None], (1 - y * f)[None], (y * image)[None],
                           c[None])[0]
        weights[:, live] = w + t * direction
        decision[:, live] = f + t * image
        newton_steps[live] += 1
        cg_steps[live] += used
    return PrimalResult(weights, decision, newton_steps, cg_steps, norm)

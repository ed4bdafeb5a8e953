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
protocol, one group per low-shot sample), ``m`` problems (columns) per group.
"""
from dataclasses import dataclass, fields
from typing import Optional, Tuple

import numpy as np
import torch

_BLOCK = 2048  # rows per block when forming Gram matrices
_SGEMM_COLUMNS = 16  # float32 products are fastest at multiples of this width, see symmetric_product
_PLAIN_FLOAT64 = torch.backends.cpu.get_cpu_capability() == 'AVX512'  # float64 layout, see symmetric_product


def to_tensor(array: np.ndarray, device='cpu', dtype=torch.float64) -> torch.Tensor:
    """Copy (possibly memory-mapped) rows to a tensor block by block, converting on the way."""
    out = torch.empty(array.shape, device=device, dtype=dtype)
    for i in range(0, len(array), _BLOCK):
        block = np.asarray(array[i:i + _BLOCK])
        if not (block.flags.writeable and block.flags.c_contiguous):  # torch.from_numpy wants writable rows
            block = np.array(block)
        out[i:i + _BLOCK].copy_(torch.from_numpy(block))
    return out


def gram_matrix(rows: torch.Tensor, other: Optional[torch.Tensor] = None,
                bias_sq: float = 1.0) -> torch.Tensor:
    """``K̃ = X Yᵀ + bias_sq``, the Gram matrix of the samples augmented with the bias feature.

    Args:
        rows: (N, D) samples X.
        other: (M, D) samples Y; ``None`` means X, and only one triangle is multiplied (BLAS syrk on CPU, else
            :func:`block_triangle_gram`).
        bias_sq: the squared constant feature, ``intercept_scaling²``.

    Returns:
        torch.Tensor: (N, N) or (M, N), dtype and device of ``rows``.
    """
    if other is not None:
        return (other @ rows.T).add_(bias_sq)
    if rows.device.type == 'cpu':
        # NumPy hands X Xᵀ of one buffer to BLAS syrk (one triangle, mirrored): about 1.3x faster on
        # this 2-core CPU than block_triangle_gram (5,011 x 9,216 rows: 3.4 s against 4.5 s, alternating runs).
        array = rows.contiguous().numpy()
        return torch.from_numpy(array @ array.T).add_(bias_sq)
    return block_triangle_gram(rows).add_(bias_sq)


def block_triangle_gram(rows: torch.Tensor) -> torch.Tensor:
    """``X Xᵀ`` for (N, D) ``rows`` on any device, multiplying only the upper triangle of row blocks.

    The result is exactly symmetric: each product is written once and mirrored, and a diagonal block
    (which a GEMM need not return symmetric to the last bit) keeps only its upper triangle.
    """
    n = len(rows)
    gram = torch.empty(n, n, device=rows.device, dtype=rows.dtype)
    for i in range(0, n, _BLOCK):
        block = rows[i:i + _BLOCK] @ rows[i:].T
        size = len(block)
        diagonal = block[:, :size].triu()
        gram[i:i + size, i:i + size] = diagonal + diagonal.triu(1).T
        gram[i:i + size, i + size:] = block[:, size:]
        gram[i + size:, i:i + size] = block[:, size:].T
    return gram


def gather_blocks(matrix: torch.Tensor, rows: torch.Tensor, out: Optional[torch.Tensor] = None) -> torch.Tensor:
    """The (b, n, n) blocks ``matrix[rows[g]][:, rows[g]]`` of a square (N, N) ``matrix`` for (b, n) ``rows``.

    Written group by group through flat indices into ``out`` when given (a (b, n, n) tensor of the
    matrix's dtype), so that a caller gathering many chunks reuses one buffer: a fresh buffer of
    hundreds of MB is paid for in page faults at every chunk. On the 2-core development CPU, 11
    float64 blocks of 1,920² out of 5,011²: 77 ms into a reused buffer against 560 ms through one
    broadcast advanced index into a new tensor.
    """
    b, n = rows.shape
    if out is None:
        out = matrix.new_empty(b, n, n)
    flat = torch.empty(n, n, dtype=torch.long, device=matrix.device)
    for g in range(b):
        torch.add(rows[g][:, None] * matrix.shape[1], rows[g][None, :], out=flat)
        torch.take(matrix, flat, out=out[g])
    return out


def symmetric_product(gram: torch.Tensor, columns: torch.Tensor) -> torch.Tensor:
    """``gram @ columns`` for symmetric (..., n, n) ``gram`` and (..., n, w) ``columns``.

    The fastest layout of MKL's kernels on the 2-core development CPUs, measured by
    ``speed_benchmarks/svm_speed.py --products``: in float64, a few rows times a square matrix,
    ``(columnsᵀ gram)ᵀ``, on an AMD EPYC (AVX2; up to twice as fast as ``gram @ columns``), but
    ``gram @ columns`` on an Intel Xeon with AVX-512 (1.45x faster at 16 columns of 1,920² blocks);
    in float32, ``gram @ columns`` with the columns padded to a multiple of 16 (AMD: 1.1-1.4x faster
    than the better unpadded layout at 4-8 columns, the same within run-to-run noise from 16 on;
    Intel: the same as unpadded), except for one or two columns. The result may be a view.
    """
    width = columns.shape[-1]
    if columns.dtype == torch.float32 and columns.device.type == 'cpu' and width > 2:
        padded = -width % _SGEMM_COLUMNS
        if padded:
            columns = torch.nn.functional.pad(columns, (0, padded))
        return (gram @ columns)[..., :width]
    if _PLAIN_FLOAT64 and columns.dtype == torch.float64 and columns.device.type == 'cpu':
        return gram @ columns
    return (columns.transpose(-1, -2).contiguous() @ gram).transpose(-1, -2)


def top_eigenpairs(gram: torch.Tensor, rank: int, oversample: int = 16, power_iters: int = 3,
                   seed: int = 0) -> Tuple[torch.Tensor, torch.Tensor]:
    """Leading eigenpairs of a PSD matrix by randomized subspace iteration (Halko et al. 2011).

    Only used to build preconditioners, so moderate accuracy is enough; a full ``eigh`` of a
    5,011² matrix would cost more than all the SVM solves together on a CPU.

    Args:
        gram: (N, N) symmetric positive semi-definite.
        rank: number of eigenpairs.
        oversample: extra subspace columns.
        power_iters: subspace iterations.
        seed: seed of the random start.

    Returns:
        tuple: eigenvectors (N, rank) and eigenvalues (rank,), descending.
    """
    n = len(gram)
    if rank <= 0:
        return gram.new_zeros(n, 0), gram.new_zeros(0)
    width = min(n, rank + oversample)
    generator = torch.Generator(device='cpu').manual_seed(seed)
    basis = torch.randn(n, width, generator=generator, dtype=gram.dtype).to(gram.device)
    for _ in range(power_iters):
        basis = torch.linalg.qr(gram @ basis).Q
    values, vectors = torch.linalg.eigh(basis.T @ gram @ basis)
    order = values.argsort(descending=True)[:rank]
    return basis @ vectors[:, order], values[order].clamp_min(0)


def _packed_outer(vectors: torch.Tensor) -> torch.Tensor:
    """(N, k(k+1)/2) upper triangles of the outer products of the rows of (N, k) ``vectors``."""
    k = vectors.shape[1]
    rows, cols = torch.triu_indices(k, k, device=vectors.device)
    return (vectors[:, :, None] * vectors[:, None, :]).reshape(len(vectors), -1)[:, rows * k + cols]


@dataclass
class Preconditioner:
    """Low-rank part of ``K̃`` shared by all problems: ``K̃ ≈ U diag(λ) Uᵀ + diag(r)``.

    For a group of rows ``S`` the same identity holds with the rows ``U[S]`` and ``r[S]``, so one
    eigendecomposition of the full Gram matrix serves every fold and every low-shot sample. A
    grouped preconditioner holds the rows of its groups, gathered once when it is made: every
    Newton step reads them, and reading slabs of whole groups is cheaper than gathering rows again.

    Attributes:
        vectors: (N, k) ``U``; (b, n, k) when grouped.
        values: (k,) eigenvalues ``λ``.
        residual_diag: (N,) ``diag(K̃ - UΛUᵀ)``, clamped positive; (b, n) when grouped.
        outer: (N, k(k+1)/2) upper triangles of ``u_i u_iᵀ`` for every row ``u_i`` of ``U``, so
            that ``Uᵀ diag(d) U`` for many vectors ``d`` is one matrix product; (b, n, ...) when grouped.
        grouped: whether the factors are per group; otherwise they are one group of all N rows.
    """
    vectors: torch.Tensor
    values: torch.Tensor
    residual_diag: torch.Tensor
    outer: torch.Tensor
    grouped: bool = False

    @classmethod
    def from_gram(cls, gram: torch.Tensor, rank: int) -> 'Preconditioner':
        """Build from a full (N, N) Gram matrix, as a single group."""
        vectors, values = top_eigenpairs(gram, rank)
        keep = values > values.max().clamp_min(torch.finfo(values.dtype).tiny) * 1e-10
        vectors, values = vectors[:, keep], values[keep]
        residual = torch.diagonal(gram) - (vectors * vectors * values).sum(1)
        floor = 1e-6 * torch.diagonal(gram).mean()
        return cls(vectors, values, residual.clamp_min(floor), _packed_outer(vectors))

    @property
    def rank(self) -> int:
        return len(self.values)

    def truncate(self, rank: int) -> 'Preconditioner':
        """The same factors with only the ``rank`` leading eigenpairs (single group)."""
        vectors, values = self.vectors[:, :rank], self.values[:rank]
        residual = self.residual_diag + (self.vectors[:, rank:]**2 * self.values[rank:]).sum(1)
        return Preconditioner(vectors, values, residual, _packed_outer(vectors))

    def take(self, rows: torch.Tensor) -> 'Preconditioner':
        """The groups of rows ``rows`` (b, n) of a single-group preconditioner."""
        return self._indexed(rows)

    def select(self, groups: torch.Tensor) -> 'Preconditioner':
        """The groups ``groups`` of this preconditioner."""
        if not self.grouped or len(groups) == len(self.vectors):
            return self
        return self._indexed(groups)

    def _indexed(self, index: torch.Tensor) -> 'Preconditioner':
        """A grouped preconditioner of the factors' entries ``index`` (rows of one group, or groups)."""
        return Preconditioner(self.vectors[index], self.values, self.residual_diag[index], self.outer[index], True)

    def factor(self, name: str) -> torch.Tensor:
        """``vectors``, ``residual_diag`` or ``outer`` per group: (groups, n, ...)."""
        factor = getattr(self, name)
        return factor if self.grouped else factor[None]


def low_rank_residual(gram: torch.Tensor, precond: Preconditioner) -> torch.Tensor:
    """``K̃ - UΛUᵀ`` in float32 for a single-group preconditioner, formed block by block (no float64 copy)."""
    scaled = precond.vectors * precond.values
    residual = torch.empty(gram.shape, device=gram.device, dtype=torch.float32)
    for i in range(0, len(gram), _BLOCK):
        residual[i:i + _BLOCK] = gram[i:i + _BLOCK] - scaled[i:i + _BLOCK] @ precond.vectors.T
    return residual


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
class GramBlocks:
    """The Gram blocks of some groups, chosen by index: selecting groups never copies a block.

    Products stream every block they touch, so their cost is the number of blocks read. Large
    blocks are therefore multiplied group by group, skipping groups without live columns; small ones
    are gathered into one batched product, where a copy costs less than a Python loop.

    The blocks may instead hold the float32 residual ``R = K̃ - UΛUᵀ`` of a low-rank part given by
    ``vectors`` and ``values``: a product is then ``R @ P`` in float32 plus ``U(Λ(UᵀP))`` in the
    precision of ``P``. Float32 rounding of ``K̃`` itself would swamp the solves (the leading
    eigenvalue of the Gram matrix of non-negative features is thousands of times the others);
    rounding ``R``, whose norm is the first eigenvalue left out, costs no accuracy the Newton steps
    need, while the products read half the bytes.

    Attributes:
        blocks: (B, n, n) symmetric blocks of all groups (float64, or the float32 residuals).
        groups: (b,) the groups these blocks stand for; ``None`` is all B.
        vectors: optional (b, n, k) rows of ``U`` of the groups these blocks stand for, when ``blocks`` are
            residuals; gathered when groups are selected, since every product reads them.
        values: optional (k,) eigenvalues ``Λ``.
    """
    blocks: torch.Tensor
    groups: Optional[torch.Tensor] = None
    vectors: Optional[torch.Tensor] = None
    values: Optional[torch.Tensor] = None

    _LOOP_ROWS = 256  # block size from which products loop over groups

    def __len__(self) -> int:
        return len(self.blocks) if self.groups is None else len(self.groups)

    def select(self, groups: torch.Tensor) -> 'GramBlocks':
        """The groups ``groups`` (indices into these groups)."""
        if len(groups) == len(self):
            return self
        vectors = None if self.vectors is None else self.vectors[groups]
        return GramBlocks(self.blocks, groups if self.groups is None else self.groups[groups], vectors, self.values)

    def product(self, columns: torch.Tensor, live: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``K̃_g @ columns[g]`` for every group g: (b, n, w) in the dtype of ``columns``; zero (or only the
        low-rank part) for groups where ``live`` (b,) is False."""
        out = self._block_product(columns.to(self.blocks.dtype), live).to(columns.dtype)
        if self.vectors is None:
            return out
        return out + self.vectors @ (self.values[:, None] * (self.vectors.transpose(1, 2) @ columns))

    def _block_product(self, columns: torch.Tensor, live: Optional[torch.Tensor]) -> torch.Tensor:
        if self.blocks.shape[-1] < self._LOOP_ROWS:
            blocks = self.blocks if self.groups is None else self.blocks[self.groups]
            return symmetric_product(blocks, columns)
        if self.groups is None and len(self.blocks) == 1:
            return symmetric_product(self.blocks, columns)
        groups = range(len(self)) if live is None else live.nonzero()[:, 0].tolist()
        index = range(len(self.blocks)) if self.groups is None else self.groups.tolist()
        out = columns.new_zeros(columns.shape)
        for g in groups:
            out[g] = symmetric_product(self.blocks[index[g]], columns[g])
        return out


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


def line_search(coef, decision, direction, image, targets, cost, max_step=1.0, iters=50):
    """Exact minimiser over ``t ∈ [0, max_step]`` of the objective at ``coef + t·direction``.

    The objective restricted to the segment is a convex piecewise quadratic in ``t``; its slope is
    piecewise linear, so safeguarded Newton steps on the slope land on the root after a few pieces.
    A slope within rounding error of zero counts as zero, and ``t = 1`` is tried first: near the
    optimum the Newton step is tiny and its slope is pure rounding noise, which must not stop it.

    Args:
        coef, decision: (b, n, w) current ``β`` and ``K̃β``.
        direction, image: (b, n, w) the step and ``K̃ @ step``. They are passed rather than an end
            point because ``(β + d) - β`` loses the digits of a tiny step ``d``.
        targets, cost: (b, n, w) ``y`` and per-sample cost (0 = not trained).
        max_step: upper bound of ``t``.
        iters: Newton steps on the slope.

    Returns:
        torch.Tensor: (b, 1, w) step sizes.
    """
    curvature = (direction * image).sum(1)
    slope0 = (direction * decision).sum(1)
    # Rounding scale of the slope: the same sums taken over absolute values.
    scale0 = (direction * decision).abs().sum(1) + (direction * image).abs().sum(1)
    return segment_search(slope0, curvature, scale0, 1 - targets * decision, targets * image, cost,
                          max_step, iters)[:, None]


def segment_search(slope0: torch.Tensor, curvature: torch.Tensor, scale0: torch.Tensor,
                   margin: torch.Tensor, speed: torch.Tensor, cost: torch.Tensor,
                   max_step: float = 1.0, iters: int = 50) -> torch.Tensor:
    """Exact minimiser over ``t ∈ [0, max_step]`` of ``q(t) + Σ_i c_i max(0, margin_i - t·speed_i)²``.

    ``q`` is the regulariser along the segment, given by its slope at 0 and its curvature, so the
    same search serves the dual (``q = ½(β + tδ)ᵀK̃(β + tδ)``) and the primal
    (``q = ½‖w + td‖²``) parametrisations; see :func:`line_search`.

    Args:
        slope0, curvature, scale0: (b, w) ``q'(0)``, ``q''`` and the rounding scale of ``q'(0)``.
        margin, speed, cost: (b, n, w) ``1 - y_i f_i``, ``y_i·(change of f_i per unit t)`` and ``c_i``.
        max_step, iters: upper bound of ``t`` and Newton steps on the slope.

    Returns:
        torch.Tensor: (b, w) step sizes.
    """

    # Products that do not depend on t, formed once (the same values, in the same order, as inline).
    weighted = cost * speed
    weighted_size = weighted.abs()
    weighted_speed = weighted * speed

    def slope_at(t, with_hess=True):
        inside = (margin - t[:, None] * speed).clamp_min(0)
        slope = slope0 + t * curvature - 2 * (weighted * inside).sum(1)
        noise = 1e-10 * (scale0 * (1 + t) + 2 * (weighted_size * inside).sum(1))
        hess = curvature + 2 * (weighted_speed * (inside > 0)).sum(1) if with_hess else None
        return slope, hess, noise

    # A step whose slope is rounding noise already at t = 0 changes the objective by less than its
    # last digit; the Newton step is then taken whole (it still fixes tiny KKT violations).
    slope, _, noise = slope_at(torch.zeros_like(curvature), with_hess=False)
    flat = slope.abs() <= noise
    # A convex function that rises at t = 0 is smallest there. Bisecting towards 0 would take all
    # ``iters`` steps (an inexact Newton direction near the optimum can be such an ascent direction).
    rising = slope > noise
    t = torch.full_like(curvature, min(1.0, max_step)).masked_fill_(rising, 0)
    low = torch.zeros_like(t)
    high = torch.full_like(t, max_step)
    finished = flat | rising
    for _ in range(iters):
        if finished.all():
            break
        slope, hess, noise = slope_at(t)
        # Done when the slope vanishes, the minimiser lies beyond max_step, or the bracket closed.
        finished = (finished | (slope.abs() <= noise) | ((t >= max_step) & (slope < 0))
                    | (high - low <= 1e-15 * (1 + t)))
        low = torch.where(slope < 0, t, low)
        high = torch.where(slope > 0, t, high)
        proposal = torch.where(hess > 0, t - slope / hess.clamp_min(1e-300), high)
        bisect = (low + high) / 2
        proposal = torch.where((proposal <= low) | (proposal >= high), bisect, proposal)
        t = torch.where(finished, t, proposal)
    return t.clamp(0, max_step)


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

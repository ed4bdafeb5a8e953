"""Gram matrices of the augmented samples and the products of their blocks, for the dual solver (:mod:`.newton`).

``K̃ = XXᵀ + s²`` is formed once per layer; problems on row subsets (folds, low-shot samples) read
blocks of it. Every conjugate-gradient step is a batched product of such blocks with the unconverged
columns, so the layout of these products decides most of the solver's time.
"""
from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch

from .preconditioner import Preconditioner

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


def low_rank_residual(gram: torch.Tensor, precond: Preconditioner) -> torch.Tensor:
    """``K̃ - UΛUᵀ`` in float32 for a single-group preconditioner, formed block by block (no float64 copy)."""
    scaled = precond.vectors * precond.values
    residual = torch.empty(gram.shape, device=gram.device, dtype=torch.float32)
    for i in range(0, len(gram), _BLOCK):
        residual[i:i + _BLOCK] = gram[i:i + _BLOCK] - scaled[i:i + _BLOCK] @ precond.vectors.T
    return residual


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

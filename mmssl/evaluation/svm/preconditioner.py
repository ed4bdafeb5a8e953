"""Low-rank factors of the Gram matrix shared by every problem of a layer (the dual solver's preconditioner)."""
from dataclasses import dataclass
from typing import Tuple

import torch


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

import pytest
import torch

from mmssl.evaluation.svm.gram import (_BLOCK, GramBlocks, block_triangle_gram, gather_blocks, gram_matrix,
                                       symmetric_product)
from mmssl.evaluation.svm.line_search import segment_search
from mmssl.evaluation.svm.newton import solve
from mmssl.evaluation.svm.preconditioner import Preconditioner


@pytest.mark.parametrize('n', [20, 300])  # gathered into one batched product, and multiplied group by group
def test_gram_blocks_multiply_the_selected_groups_and_skip_idle_ones(n):
    generator = torch.Generator().manual_seed(0)
    rows = torch.randn(3, n, 8, dtype=torch.float64, generator=generator)
    blocks = GramBlocks(rows @ rows.transpose(1, 2) + 1)
    columns = torch.randn(2, n, 5, dtype=torch.float64, generator=generator)
    chosen = blocks.select(torch.tensor([2, 0]))
    assert chosen.blocks is blocks.blocks  # selecting never copies the blocks
    expected = torch.stack([blocks.blocks[2] @ columns[0], blocks.blocks[0] @ columns[1]])
    torch.testing.assert_close(chosen.product(columns), expected)
    product = chosen.product(columns, live=torch.tensor([False, True]))
    torch.testing.assert_close(product[1], expected[1])
    if n >= GramBlocks._LOOP_ROWS:  # idle groups cost nothing there
        assert not product[0].any()


@pytest.mark.parametrize('dtype', [torch.float64, torch.float32])
def test_gathered_blocks_are_the_rows_and_columns_of_each_group_also_in_a_reused_buffer(dtype):
    generator = torch.Generator().manual_seed(4)
    matrix = torch.randn(50, 50, generator=generator).to(dtype)
    rows = torch.stack([torch.randperm(50, generator=generator)[:7].sort().values for _ in range(3)])
    rows[2, -2:] = rows[2, -3]  # a padded group repeats a row
    expected = matrix[rows[:, :, None], rows[:, None, :]]
    assert torch.equal(gather_blocks(matrix, rows), expected)
    buffer = torch.full((3, 7, 7), float('nan'), dtype=dtype)
    assert gather_blocks(matrix, rows, out=buffer) is buffer and torch.equal(buffer, expected)
    assert torch.equal(gather_blocks(matrix, rows[1:], out=buffer[:2]), expected[1:])  # a shorter last chunk


def test_gram_matrices_are_exactly_symmetric_and_equal_to_the_plain_product():
    rows = torch.randn(_BLOCK + 37, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    expected = rows @ rows.T + 4.0
    for gram in (gram_matrix(rows, bias_sq=4.0), block_triangle_gram(rows) + 4.0):  # CPU (syrk), other devices
        torch.testing.assert_close(gram, expected)
        assert torch.equal(gram, gram.T)  # the symmetric products rely on it


@pytest.mark.parametrize('n', [20, 300])
def test_residual_blocks_add_their_low_rank_part_back(n):
    generator = torch.Generator().manual_seed(2)
    rows = torch.rand(3, n, 40, dtype=torch.float64, generator=generator)  # non-negative: one dominant eigenvalue
    gram = rows @ rows.transpose(1, 2) + 1
    values, vectors = torch.linalg.eigh(gram)
    values, vectors = values[:, -4:], vectors[..., -4:]
    # One set of eigenvalues for every group, as the solver's groups share the full matrix's.
    vectors = vectors * (values / values[0]).sqrt()[:, None, :]
    residual = (gram - (vectors * values[0]) @ vectors.transpose(1, 2)).float()
    blocks = GramBlocks(residual, vectors=vectors, values=values[0]).select(torch.tensor([2, 0]))
    columns = torch.randn(2, n, 5, dtype=torch.float64, generator=generator)
    expected = torch.stack([gram[2] @ columns[0], gram[0] @ columns[1]])
    product = blocks.product(columns)
    assert product.dtype == torch.float64
    # Float32 rounding of the residual only: far below the rounding of the Gram matrix itself in float32.
    error = (product - expected).abs().max() / expected.abs().max()
    float32_error = (GramBlocks(gram.float()).select(torch.tensor([2, 0])).product(columns) - expected).abs().max()
    assert error < 1e-6 and error * expected.abs().max() < float32_error / 10


@pytest.mark.parametrize('width', [1, 2, 3, 8, 16, 17, 40])
def test_float32_products_are_padded_without_changing_them(width):
    rows = torch.rand(2, 70, 9, generator=torch.Generator().manual_seed(width))
    gram = rows @ rows.transpose(1, 2)
    columns = torch.randn(2, 70, width, generator=torch.Generator().manual_seed(1))
    product = symmetric_product(gram, columns)
    assert product.shape == (2, 70, width)
    torch.testing.assert_close(product, gram @ columns)


def test_a_wrong_residual_costs_steps_but_not_accuracy():
    generator = torch.Generator().manual_seed(4)
    rows = torch.rand(1, 80, 30, dtype=torch.float64, generator=generator)
    gram = rows @ rows.transpose(1, 2) + 1
    targets = torch.where(rows[..., :1].expand(1, 80, 3) > 0.5, 1.0, -1.0).double()
    cost = torch.tensor([0.1, 1.0, 10.0], dtype=torch.float64).expand(1, 80, 3).clone()
    precond = Preconditioner.from_gram(gram[0], 4)
    exact = solve(gram, targets, cost, precond, tol=1e-9)
    # A residual that is all wrong (zero, no low-rank part): steps drift, the exact checks catch it.
    wrong = solve(gram, targets, cost, precond, tol=1e-9, residual=GramBlocks(torch.zeros(1, 80, 80)))
    assert (wrong.violation <= 1e-9).all()
    torch.testing.assert_close(wrong.decision, exact.decision, atol=1e-7, rtol=0)
    assert wrong.newton_steps.sum() > exact.newton_steps.sum()


def test_segment_search_stops_at_zero_on_a_rising_direction():
    # Column 0 rises from t = 0 (an inexact Newton direction can); column 1 has its minimiser inside.
    # q(t) = slope0·t + curvature·t²/2 plus c·max(0, margin - t·speed)² over one sample.
    slope0 = torch.tensor([[1e-8, -0.5]], dtype=torch.float64)
    curvature = torch.tensor([[1e-16, 1.0]], dtype=torch.float64)
    margin = torch.tensor([[[0.0, 1.0]]], dtype=torch.float64)
    speed = torch.tensor([[[1.0, 1.0]]], dtype=torch.float64)
    cost = torch.ones(1, 1, 2, dtype=torch.float64)
    t = segment_search(slope0, curvature, slope0.abs(), margin, speed, cost)
    assert t[0, 0] == 0  # bisecting towards 0 instead ends near 2**-50 after all its steps
    # Column 1: slope -0.5 + t - 2(1 - t) vanishes at t = 5/6.
    torch.testing.assert_close(t[0, 1], torch.tensor(5 / 6, dtype=torch.float64))

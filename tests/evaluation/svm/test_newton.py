import pytest
import torch

from mmssl.evaluation.svm.newton import _BLOCK, GramBlocks, block_triangle_gram, gram_matrix


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


def test_gram_matrices_are_exactly_symmetric_and_equal_to_the_plain_product():
    rows = torch.randn(_BLOCK + 37, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    expected = rows @ rows.T + 4.0
    for gram in (gram_matrix(rows, bias_sq=4.0), block_triangle_gram(rows) + 4.0):  # CPU (syrk), other devices
        torch.testing.assert_close(gram, expected)
        assert torch.equal(gram, gram.T)  # the symmetric products rely on it

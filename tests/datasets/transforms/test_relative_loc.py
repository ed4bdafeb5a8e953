import numpy as np
import pytest

from mmssl.datasets.transforms import RelativeLocPatches
from mmssl.datasets.transforms.relative_loc import CENTRE, NEIGHBOURS


def coordinate_image(size=255):
    """3-channel image whose pixels encode their own (y, x) position, so patches reveal where they came from."""
    y, x = np.mgrid[:size, :size]
    return np.stack([y, x, np.zeros_like(y)], axis=-1).astype(np.float32)


def sample(transform, img, seed=0):
    np.random.seed(seed)
    return transform(dict(img=img.copy(), img_path='coords.png'))


def test_toolbox_defaults_shapes_and_labels():
    out = sample(RelativeLocPatches(), coordinate_image())
    assert out['img'].shape == (9, 64, 64, 3)
    assert out['gt_label'].tolist() == list(range(8))
    assert out['patch_boxes'].shape == (9, 4)


@pytest.mark.parametrize('seed', range(5))
def test_label_k_is_always_the_same_grid_position(seed):
    transform = RelativeLocPatches(patch_size=64, cell_size=85)
    out = sample(transform, coordinate_image(255), seed)  # grid == image, so cell = pixel // 85
    cells = out['img'][:, 0, 0, :2].astype(int) // 85  # (row, col) of each patch's first pixel
    assert tuple(cells[CENTRE]) == (1, 1)
    expected = {0: (0, 0), 1: (0, 1), 2: (0, 2), 3: (1, 0), 4: (1, 2), 5: (2, 0), 6: (2, 1), 7: (2, 2)}
    for label in out['gt_label']:
        assert tuple(cells[NEIGHBOURS[label]]) == expected[label], label


@pytest.mark.parametrize('jitter', [None, 7])
def test_jitter_stays_inside_the_cell(jitter):
    patch, cell = (64, 85) if jitter is None else (96, 144)
    transform = RelativeLocPatches(patch_size=patch, cell_size=cell, jitter=jitter)
    for seed in range(20):
        out = sample(transform, coordinate_image(3 * cell), seed)
        top_left = out['img'][:, 0, 0, :2].astype(int)
        rows, cols = np.divmod(np.arange(9), 3)
        within = top_left - np.stack([rows * cell, cols * cell], axis=1)
        assert within.min() >= 0 and within.max() <= cell - patch
        if jitter is not None:
            assert np.abs(within - (cell - patch) // 2).max() <= jitter


def test_grid_position_is_random_in_larger_images():
    transform = RelativeLocPatches(patch_size=10, cell_size=10)
    corners = {tuple(sample(transform, coordinate_image(60), seed)['patch_boxes'][0, :2]) for seed in range(10)}
    assert len(corners) > 1


def test_color_drop_leaves_two_channels_without_image_signal():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, size=(255, 255, 3)).astype(np.uint8)
    out = sample(RelativeLocPatches(color_drop=True), img)
    original = sample(RelativeLocPatches(), img)['img'].astype(np.float32)
    for patch, source in zip(out['img'], original):
        correlations = [abs(np.corrcoef(patch[..., c].ravel(), source[..., c].ravel())[0, 1]) for c in range(3)]
        kept = int(np.argmax(correlations))
        assert correlations[kept] == pytest.approx(1.0)
        assert all(c < 0.1 for i, c in enumerate(correlations) if i != kept)
        for c in range(3):
            if c != kept:
                assert patch[..., c].std() < 0.05 * source[..., kept].std()


def test_pixelation_reduces_detail_and_keeps_shape():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, size=(255, 255, 3)).astype(np.uint8)
    out = sample(RelativeLocPatches(pixelate_prob=1.0, pixelate_min_pixels=100), img)
    assert out['img'].shape == (9, 64, 64, 3)
    for patch in out['img']:
        assert len(np.unique(patch.reshape(-1, 3), axis=0)) < 64 * 64


def test_patch_normalize_gives_zero_mean_unit_rms():
    rng = np.random.default_rng(0)
    out = sample(RelativeLocPatches(patch_normalize=True), rng.integers(0, 255, (255, 255, 3)).astype(np.uint8))
    assert out['img'].dtype == np.float32
    for patch in out['img']:
        assert abs(patch.mean()) < 1e-4 and np.sqrt((patch**2).mean()) == pytest.approx(1.0, abs=1e-3)


def test_too_small_image_names_image_and_minimum():
    with pytest.raises(ValueError, match=r'coords.png is 100x120.*255x255'):
        sample(RelativeLocPatches(), np.zeros((100, 120, 3), np.uint8))
    out = sample(RelativeLocPatches(upscale_small=True), np.zeros((100, 120, 3), np.uint8))
    assert out['img'].shape == (9, 64, 64, 3)


def test_greyscale_input_is_handled():
    out = sample(RelativeLocPatches(), np.zeros((255, 255), np.uint8))
    assert out['img'].shape == (9, 64, 64, 1)


def test_invalid_geometry_is_refused():
    with pytest.raises(ValueError, match='patch_size'):
        RelativeLocPatches(patch_size=90, cell_size=85)
    with pytest.raises(ValueError, match='jitter'):
        RelativeLocPatches(patch_size=64, cell_size=85, jitter=20)

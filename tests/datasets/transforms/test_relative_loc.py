import numpy as np
import pytest
from mmengine.config import Config
from mmengine.dataset import Compose

from mmssl.datasets.transforms import RandomRescalePixels, RelativeLocPatches
from mmssl.datasets.transforms.relative_loc import CENTRE, NEIGHBOURS, NEIGHBOURS_1X
from mmssl.utils import register_all_modules


@pytest.fixture
def configs(repo_root):
    """The folder of the shipped relative-location configs."""
    return repo_root / 'configs' / 'selfsup' / 'relative_loc'


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


def test_uniform_placement_stays_inside_exact_cells():
    transform = RelativeLocPatches(patch_size=64, cell_size=85)
    seen = set()
    for seed in range(40):
        out = sample(transform, coordinate_image(255), seed)
        top_left = out['img'][:, 0, 0, :2].astype(int)
        rows, cols = np.divmod(np.arange(9), 3)
        within = top_left - np.stack([rows * 85, cols * 85], axis=1)
        assert within.min() >= 0 and within.max() <= 21  # mmselfsup 0.x: TF.crop of exact 85-px cells
        seen.update(within.ravel().tolist())
    assert {0, 21} <= seen


def test_inclusive_cell_end_is_mmselfsup_1x_imcrop():
    """1.x crops cell boxes [i*85, (i+1)*85] with mmcv.imcrop (inclusive ends, clipped at the 255-px border)."""
    transform = RelativeLocPatches(patch_size=64, cell_size=85, inclusive_cell_end=True)
    max_within = np.zeros((9, 2), int)
    for seed in range(200):
        out = sample(transform, coordinate_image(255), seed)
        top_left = out['img'][:, 0, 0, :2].astype(int)
        rows, cols = np.divmod(np.arange(9), 3)
        within = top_left - np.stack([rows * 85, cols * 85], axis=1)
        assert within.min() >= 0
        assert (top_left + 64 <= 255).all()
        max_within = np.maximum(max_within, within)
    rows, cols = np.divmod(np.arange(9), 3)
    # 86-px cells in the first two rows / columns (offsets up to 22), 85 px in the last (up to 21).
    np.testing.assert_array_equal(max_within[:, 0], np.where(rows < 2, 22, 21))
    np.testing.assert_array_equal(max_within[:, 1], np.where(cols < 2, 22, 21))


def test_paper_jitter_is_lattice_plus_shift_clipped_at_the_border():
    """deepcontext sample_patch: gridstart + k * (96 + 48) + randint(-7, 7), clipped to the image."""
    transform = RelativeLocPatches(patch_size=96, cell_size=144, jitter=7)
    assert transform.grid_size == 2 * 144 + 96
    shifts = set()
    for seed in range(30):
        out = sample(transform, coordinate_image(384), seed)  # grid == image
        top_left = out['img'][:, 0, 0, :2].astype(int)
        rows, cols = np.divmod(np.arange(9), 3)
        shift = top_left - np.stack([rows * 144, cols * 144], axis=1)
        assert np.abs(shift).max() <= 7
        assert (shift[rows == 0, 0] >= 0).all() and (shift[rows == 2, 0] <= 0).all()  # clipped at the border
        shifts.update(shift[CENTRE].tolist())
    assert min(shifts) < 0 < max(shifts)


def test_rescale_to_a_random_pixel_count_keeps_the_aspect():
    transform = RandomRescalePixels(150000, 450000)
    counts = []
    for seed in range(20):
        np.random.seed(seed)
        out = transform(dict(img=np.zeros((300, 400, 3), np.uint8)))
        h, w = out['img'].shape[:2]
        counts.append(h * w)
        assert w / h == pytest.approx(4 / 3, rel=0.01)
        assert 149000 <= h * w <= 450000
    assert max(counts) - min(counts) > 50000


def test_grid_position_is_random_in_larger_images():
    transform = RelativeLocPatches(patch_size=10, cell_size=10)
    corners = {tuple(sample(transform, coordinate_image(60), seed)['patch_boxes'][0, :2]) for seed in range(10)}
    assert len(corners) > 1


def test_color_drop_is_the_papers():
    """deepcontext prep_image: keep one channel minus its mean, the others U(0, 1) - 0.5."""
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, size=(255, 255, 3)).astype(np.uint8)
    out = sample(RelativeLocPatches(color_drop=True), img)
    original = sample(RelativeLocPatches(), img)['img'].astype(np.float32)
    assert out['img'].dtype == np.float32
    for patch, source in zip(out['img'], original):
        errors = [np.abs(patch[..., c] - (source[..., c] - source[..., c].mean())).max() for c in range(3)]
        kept = int(np.argmin(errors))
        assert errors[kept] < 1e-3
        for c in range(3):
            if c != kept:
                assert patch[..., c].min() >= -0.5 and patch[..., c].max() < 0.5
                assert patch[..., c].std() == pytest.approx(1 / np.sqrt(12), rel=0.1)


def test_pixelation_side_is_uniform_in_area_and_bilinear():
    transform = RelativeLocPatches(patch_size=96, cell_size=96, pixelate_prob=1.0, pixelate_min_pixels=100)
    np.random.seed(0)
    sides = transform._pixelate_sides(20000)
    assert sides.min() >= 10 and sides.max() <= 95
    # side = int(sqrt(U * (95^2 - 10^2) + 10^2)): side^2 is uniform on [100, 9025) up to the truncation.
    area = sides.astype(float)**2
    # E[side^2] = (9025 + 100) / 2 = 4562.5 before truncation; int() lowers it by about E[side] = 64.
    assert area.mean() == pytest.approx(4498.5, rel=0.01)
    assert np.mean(sides < 50) == pytest.approx((50**2 - 100) / (9025 - 100), abs=0.02)
    # Bilinear both ways: a ramp stays a smooth ramp (nearest upsampling would leave 10 flat steps per row).
    ramp = np.tile(np.linspace(0, 255, 96, dtype=np.float32)[None, :, None], (96, 1, 3))
    smooth = transform._pixelate(ramp, 10)
    assert len(np.unique(np.round(smooth[48, :, 0], 3))) > 60
    assert np.abs(smooth - ramp)[:, 10:-10].max() < 0.03 * 255
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, size=(288, 288, 3)).astype(np.uint8)
    out = sample(transform, img)
    original = sample(RelativeLocPatches(patch_size=96, cell_size=96), img)['img'].astype(np.float32)
    assert out['img'].shape == (9, 96, 96, 3) and out['img'].dtype == np.float32
    for patch, source in zip(out['img'], original):  # every patch lost detail (total variation along x)
        assert np.abs(np.diff(patch, axis=1)).sum() < np.abs(np.diff(source, axis=1)).sum()


def test_paper_normalisation_gives_rms_50():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (255, 255, 3)).astype(np.uint8)
    out = sample(RelativeLocPatches(color_drop=True, patch_normalize=True, patch_norm_scale=50.), img)
    for patch in out['img']:
        assert np.sqrt((patch**2).mean()) == pytest.approx(50., rel=1e-3)
    plain = sample(RelativeLocPatches(patch_normalize=True), img)
    for patch in plain['img']:
        assert np.abs(patch.mean(axis=(0, 1))).max() < 1e-4
        assert np.sqrt((patch**2).mean()) == pytest.approx(1.0, abs=1e-3)


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
    with pytest.raises(ValueError, match=r'jitter 48 must be in \[0, gap\)'):
        RelativeLocPatches(patch_size=96, cell_size=144, jitter=48)
    with pytest.raises(ValueError, match='inclusive_cell_end'):
        RelativeLocPatches(patch_size=96, cell_size=144, jitter=7, inclusive_cell_end=True)


def pipeline_of(config, key='train_dataloader'):
    """The pipeline of ``key``'s data set in the config file ``config``."""
    register_all_modules()
    return Config.fromfile(str(config))[key].dataset.pipeline


def run_until_patches(pipeline, img, seed=0, grey=True):
    """Run a config's pipeline from a decoded image up to (not including) the patch cutting."""
    steps = [dict(step) for step in pipeline[1:] if step['type'] not in ('RelativeLocPatches', 'PackInputs')]
    for step in steps:
        if step['type'] == 'RandomGrayscale':
            step['prob'] = 1.0 if grey else 0.0
    np.random.seed(seed)
    return Compose(steps)(dict(img=img, img_path='x.jpg', ori_shape=img.shape[:2], img_shape=img.shape[:2]))


def test_default_pipeline_is_mmselfsup_1x(configs):
    pipeline = pipeline_of(configs / 'relative-loc_resnet50_8xb64-steplr-70e_in1k.py')
    assert [step['type'] for step in pipeline] == ['LoadImageFromFile', 'Resize', 'RandomCrop', 'RandomGrayscale',
                                                   'RelativeLocPatches', 'PackInputs']
    assert pipeline[1] == dict(type='Resize', scale=292)
    assert pipeline[3] == dict(type='RandomGrayscale', prob=0.66, keep_channels=True)
    assert pipeline[4]['inclusive_cell_end'] is True
    # Squash: a 300x600 image becomes 292x292 before the 255 crop, whatever its aspect ratio.
    img = np.zeros((300, 600, 3), np.uint8)
    img[..., 0], img[..., 1], img[..., 2] = 30, 60, 150  # B, G, R
    steps = [dict(step) for step in pipeline[1:2]]
    resized = Compose(steps)(dict(img=img.copy(), img_shape=(300, 600)))['img']
    assert resized.shape == (292, 292, 3)
    # Greyscale with mmcv's default weights (1, 1, 1): the channel mean in every channel, not luma.
    out = run_until_patches(pipeline, img.copy())['img']
    assert out.shape == (255, 255, 3)
    assert (out == 80).all()  # (30 + 60 + 150) / 3; luma would give 0.114*30 + 0.587*60 + 0.299*150 = 83.5


def test_0x_variant_keeps_the_aspect_and_uses_luma(configs):
    pipeline = pipeline_of(configs / 'relative-loc-0x_resnet50_8xb64-steplr-70e_in1k.py')
    assert pipeline[1] == dict(type='ResizeEdge', scale=292, edge='short')
    assert pipeline[4]['inclusive_cell_end'] is False
    img = np.zeros((300, 600, 3), np.uint8)
    img[..., 0], img[..., 1], img[..., 2] = 30, 60, 150
    resized = Compose([dict(step) for step in pipeline[1:2]])(dict(img=img.copy()))['img']
    assert resized.shape == (292, 584, 3)
    out = run_until_patches(pipeline, img.copy())['img']
    assert out.shape == (255, 255, 3)
    assert np.abs(out.astype(int) - 83).max() <= 1  # 0.299 R + 0.587 G + 0.114 B = 83.5
    cfg = Config.fromfile(str(configs / 'relative-loc-0x_resnet50_8xb64-steplr-70e_in1k.py'))
    assert cfg.model.label_layout == 'row_major' and cfg.model.pair_order == 'neighbour_first'
    assert cfg.model.data_preprocessor.mean == [123.675, 116.28, 103.53]


def test_paper_config_uses_the_deepcontext_sampling(configs):
    pipeline = pipeline_of(configs / 'relative-loc-paper_resnet50_8xb64-steplr-70e_in1k.py')
    assert pipeline[1] == dict(type='RandomRescalePixels', min_pixels=150000, max_pixels=450000)
    patches = pipeline[2]
    assert (patches['patch_size'], patches['cell_size'], patches['jitter']) == (96, 144, 7)
    assert patches['pixelate_prob'] == 0.33 and patches['color_drop'] and patches['patch_norm_scale'] == 50.
    cfg = Config.fromfile(str(configs / 'relative-loc-paper_resnet50_8xb64-steplr-70e_in1k.py'))
    assert cfg.model.pair_order == 'centre_first' and cfg.model.label_layout == 'row_major'


def test_label_layouts():
    # 1.x: patch index 3i + j with i the column (mmcv.imcrop boxes are x1, y1, ...): column-major walk.
    column_major = [3 * row + col for col in range(3) for row in range(3) if (row, col) != (1, 1)]
    assert list(NEIGHBOURS_1X) == column_major
    assert list(NEIGHBOURS) == [p for p in range(9) if p != CENTRE]

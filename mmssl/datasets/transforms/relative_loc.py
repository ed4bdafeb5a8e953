"""Patch sampling for relative-location prediction (Doersch et al., ICCV 2015).

Two anchors: the OpenMMLab toolbox (mmselfsup 1.x ``mmselfsup/datasets/transforms/processing.py``
``RandomPatchWithLabels``; 0.x ``mmselfsup/datasets/relative_loc.py`` ``image_to_patches``) and the paper's code
(cdoersch/deepcontext ``train.py``: ``sample_patch``, ``prep_image``, ``imgloader``).
"""
import math
from typing import Optional, Tuple

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from mmssl.registry import TRANSFORMS

GRID = 3
CENTRE = 4
# Grid positions (row-major, 0 = top-left, centre = 4) of the eight neighbours in row-major order: the label
# order of mmselfsup 0.x (``patches[i] for i in range(9) if i != 4`` after a row-major crop) and of the paper
# (deepcontext ``pos2lbl``: 1 2 3 / 4 _ 5 / 6 7 8).
NEIGHBOURS = (0, 1, 2, 3, 5, 6, 7, 8)
# mmselfsup 1.x crops cell ``3i + j`` with ``mmcv.imcrop(img, [i * h_grid, j * w_grid, ...])``, whose boxes are
# x1, y1, x2, y2: ``i`` is the column and ``j`` the row. Its label k is therefore the k-th non-centre index of a
# column-major walk, i.e. these row-major grid positions.
NEIGHBOURS_1X = (0, 3, 6, 1, 7, 2, 5, 8)
#: ``label_layout`` name → grid position (row-major) of the neighbour with label k.
LABEL_LAYOUTS = {'1.x': NEIGHBOURS_1X, 'row_major': NEIGHBOURS}


@TRANSFORMS.register_module()
class RandomRescalePixels(BaseTransform):
    """Resize to a random total pixel count, keeping the aspect ratio (deepcontext ``train.py``).

    The paper's loader rescales every image so that it has ``randint(150000, 450000)`` pixels
    (``ut.get_resized_image(..., {"gri_targpixels": random.randint(150000, 450000)})``), sides truncated to
    integers, bilinear.

    Required keys: ``img``. Modified keys: ``img``, ``img_shape``. Added keys: ``scale_factor``.

    Args:
        min_pixels, max_pixels: range of the target pixel count (both inclusive).
        interpolation: mmcv interpolation name.
    """

    def __init__(self, min_pixels: int = 150000, max_pixels: int = 450000, interpolation: str = 'bilinear'):
        if not 0 < min_pixels <= max_pixels:
            raise ValueError(f'RandomRescalePixels needs 0 < min_pixels <= max_pixels, got {min_pixels}, {max_pixels}')
        self.min_pixels = min_pixels
        self.max_pixels = max_pixels
        self.interpolation = interpolation

    @cache_randomness
    def _target_pixels(self) -> int:
        return int(np.random.randint(self.min_pixels, self.max_pixels + 1))

    def transform(self, results: dict) -> dict:
        img = results['img']
        h, w = img.shape[:2]
        ratio = math.sqrt(self._target_pixels() / (h * w))
        size = (max(1, int(w * ratio)), max(1, int(h * ratio)))
        results['img'] = mmcv.imresize(img, size, interpolation=self.interpolation)
        results['img_shape'] = results['img'].shape[:2]
        results['scale_factor'] = (size[0] / w, size[1] / h)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(min_pixels={self.min_pixels}, max_pixels={self.max_pixels})'


@TRANSFORMS.register_module()
class RelativeLocPatches(BaseTransform):
    """Cut a 3×3 grid of patches for relative-location prediction.

    Two placements:

    - ``jitter=None`` (the toolbox): cells of ``cell_size`` pixels, the grid spans ``3 * cell_size``, and each
      patch lies anywhere inside its cell (mmselfsup: 85-px cells of a 255-px crop, 64-px patches, up to 21 px of
      slack). With ``inclusive_cell_end=True`` each cell is one pixel wider, clipped at the image border, as in
      mmselfsup 1.x, which crops cells with ``mmcv.imcrop`` (inclusive box ends): offsets 0..22 in the first two
      rows / columns, 0..21 in the last. mmselfsup 0.x crops exact 85-px cells (``TF.crop``).
    - ``jitter=int`` (the paper): patches on a lattice of pitch ``cell_size`` (patch plus gap; paper 96 + 48),
      shifted by U{-jitter, ..., jitter} in x and y and clipped at the image border (deepcontext
      ``sample_patch``); the grid spans ``2 * cell_size + patch_size``.

    Images larger than the grid get a random grid position.

    Options of the paper (deepcontext ``prep_image``), off by default, applied per patch in this order:

    - ``pixelate_prob``: that share of patches (paper 0.33) is resized to a side drawn uniformly in *area*,
      ``int(sqrt(U · ((patch_size - 1)² - pixelate_min_pixels) + pixelate_min_pixels))`` (paper: 95² and 10²),
      and back, bilinear both ways.
    - ``color_drop``: one random channel is kept, minus its mean; the others are replaced by U(0, 1) − 0.5
      noise (in pixel units, so they carry almost no energy). Output becomes float32.
    - ``patch_normalize``: the patch divided by its RMS, times ``patch_norm_scale`` (paper: ×50, "so that the
      variance is roughly the same as the usual AlexNet inputs"). Without ``color_drop`` every channel is first
      centred on its mean (the paper always drops colour, which centres the kept channel). Output float32; use
      mean 0 / std 1 in the data preprocessor.

    Required keys: ``img`` (H, W, C) with H, W at least the grid size.
    Modified keys: ``img`` → (9, patch, patch, C), grid positions in row-major order (centre = index 4).
    Added keys: ``gt_label`` = 0..7, the pair labels; which neighbour each label names is the algorithm's
    ``label_layout`` (:data:`LABEL_LAYOUTS`). ``patch_boxes`` (9, 4): x1, y1, x2, y2 in the input image.

    Args:
        patch_size: side of each patch.
        cell_size: side of each grid cell, i.e. the patch pitch (patch plus gap).
        jitter: ``None`` for uniform placement inside the cell, else the paper's max shift from the lattice.
        inclusive_cell_end: mmselfsup 1.x's one-pixel-wider cells (``jitter=None`` only).
        color_drop: see above.
        pixelate_prob: share of patches to pixelate (paper: 0.33).
        pixelate_min_pixels: fewest pixels a pixelated patch keeps (paper: 100).
        patch_normalize: see above.
        patch_norm_scale: RMS of a normalised patch (paper: 50).
        upscale_small: resize images smaller than the grid up to fit (short side = grid size) instead of raising.
    """

    def __init__(self,
                 patch_size: int = 64,
                 cell_size: int = 85,
                 jitter: Optional[int] = None,
                 inclusive_cell_end: bool = False,
                 color_drop: bool = False,
                 pixelate_prob: float = 0.0,
                 pixelate_min_pixels: int = 100,
                 patch_normalize: bool = False,
                 patch_norm_scale: float = 1.0,
                 upscale_small: bool = False):
        if patch_size > cell_size:
            raise ValueError(f'patch_size ({patch_size}) must not exceed cell_size ({cell_size})')
        if jitter is not None:
            if not 0 <= jitter < max(1, cell_size - patch_size):
                raise ValueError(f'jitter {jitter} must be in [0, gap) = [0, {cell_size - patch_size}) so that '
                                 'neighbouring patches cannot overlap (deepcontext asserts the same)')
            if inclusive_cell_end:
                raise ValueError('inclusive_cell_end describes mmselfsup 1.x cells; it needs jitter=None')
        if not 0 <= pixelate_prob <= 1:
            raise ValueError(f'pixelate_prob must be in [0, 1], got {pixelate_prob}')
        if pixelate_prob > 0 and not 1 <= pixelate_min_pixels <= (patch_size - 1)**2:
            raise ValueError(f'pixelate_min_pixels must be in [1, (patch_size - 1)^2 = {(patch_size - 1)**2}], '
                             f'got {pixelate_min_pixels}')
        self.patch_size = patch_size
        self.cell_size = cell_size
        self.jitter = jitter
        self.inclusive_cell_end = inclusive_cell_end
        self.color_drop = color_drop
        self.pixelate_prob = pixelate_prob
        self.pixelate_min_pixels = pixelate_min_pixels
        self.patch_normalize = patch_normalize
        self.patch_norm_scale = patch_norm_scale
        self.upscale_small = upscale_small

    @property
    def grid_size(self) -> int:
        if self.jitter is None:
            return GRID * self.cell_size
        return (GRID - 1) * self.cell_size + self.patch_size

    def _fit_image(self, results: dict) -> np.ndarray:
        img = results['img']
        if img.ndim == 2:
            img = img[..., None]
        h, w = img.shape[:2]
        if min(h, w) >= self.grid_size:
            return img
        if not self.upscale_small:
            raise ValueError(f"RelativeLocPatches: image {results.get('img_path', '<in memory>')} is {h}x{w}, "
                             f'smaller than the {self.grid_size}x{self.grid_size} patch grid '
                             f'(patch_size {self.patch_size}, cell_size {self.cell_size}, jitter {self.jitter}); '
                             'resize it first or set upscale_small=True')
        scale = self.grid_size / min(h, w)
        size = (max(self.grid_size, round(w * scale)), max(self.grid_size, round(h * scale)))
        resized = mmcv.imresize(img, size)
        return resized if resized.ndim == 3 else resized[..., None]

    def _pixelate_sides(self, num: int) -> np.ndarray:
        """deepcontext: ``int(sqrt(random() * (95 * 95 - 10 * 10) + 10 * 10))`` for 96-px patches."""
        top, low = (self.patch_size - 1)**2, min(self.pixelate_min_pixels, (self.patch_size - 1)**2)
        return np.sqrt(np.random.rand(num) * (top - low) + low).astype(np.int64)

    @cache_randomness
    def _sample_layout(self, h: int, w: int, channels: int) -> dict:
        """Draw every random choice of one call: patch corners, kept colour channels, pixelation sizes."""
        num = GRID * GRID
        grid_y = np.random.randint(0, h - self.grid_size + 1)
        grid_x = np.random.randint(0, w - self.grid_size + 1)
        rows, cols = np.divmod(np.arange(num), GRID)
        cell_origin = np.stack([grid_y + rows * self.cell_size, grid_x + cols * self.cell_size], axis=1)
        if self.jitter is None:
            cell_end = cell_origin + self.cell_size + int(self.inclusive_cell_end)
            cell_end = np.minimum(cell_end, np.array([h, w]))
            slack = cell_end - cell_origin - self.patch_size  # (9, 2), inclusive upper bound of the offset
            offsets = cell_origin + np.random.randint(0, slack + 1)
        else:
            shift = np.random.randint(-self.jitter, self.jitter + 1, size=(num, 2))
            offsets = np.clip(cell_origin + shift, 0, np.array([h, w]) - self.patch_size)
        pixelate = np.random.rand(num) < self.pixelate_prob
        sides = self._pixelate_sides(num)
        return dict(
            offsets=offsets,  # (9, 2) top-left (y, x), grid row-major
            keep_channel=np.random.randint(channels, size=num),
            pixelate_side=np.where(pixelate, sides, 0),
            noise_seed=np.random.randint(2**31))

    def _pixelate(self, patch: np.ndarray, side: int) -> np.ndarray:
        small = mmcv.imresize(patch.astype(np.float32), (side, side), interpolation='bilinear')
        big = mmcv.imresize(small, (self.patch_size, self.patch_size), interpolation='bilinear')
        return big.reshape(patch.shape)

    @staticmethod
    def _drop_colors(patch: np.ndarray, keep: int, rng: np.random.Generator) -> np.ndarray:
        out = (rng.random(patch.shape) - 0.5).astype(np.float32)
        kept = patch[..., keep].astype(np.float32)
        out[..., keep] = kept - kept.mean()
        return out

    def _normalize(self, patch: np.ndarray) -> np.ndarray:
        patch = patch.astype(np.float32)
        if not self.color_drop:
            patch = patch - patch.mean(axis=(0, 1), keepdims=True)
        return patch / (np.sqrt((patch**2).mean()) + 1e-6) * self.patch_norm_scale

    def transform(self, results: dict) -> dict:
        img = self._fit_image(results)
        layout = self._sample_layout(*img.shape)
        rng = np.random.default_rng(layout['noise_seed'])
        p = self.patch_size
        patches = []
        for (y, x), keep, side in zip(layout['offsets'], layout['keep_channel'], layout['pixelate_side']):
            patch = img[y:y + p, x:x + p]
            if side:
                patch = self._pixelate(patch, side)
            if self.color_drop and patch.shape[2] > 1:
                patch = self._drop_colors(patch, keep, rng)
            if self.patch_normalize:
                patch = self._normalize(patch)
            patches.append(patch)
        float_output = self.color_drop or self.patch_normalize or self.pixelate_prob > 0
        results['img'] = np.stack(patches).astype(np.float32 if float_output else img.dtype)
        results['img_shape'] = (p, p)
        results['gt_label'] = np.arange(len(NEIGHBOURS))
        corners = layout['offsets'][:, ::-1]
        results['patch_boxes'] = np.concatenate([corners, corners + p], axis=1)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(patch_size={self.patch_size}, cell_size={self.cell_size}, '
                f'jitter={self.jitter}, inclusive_cell_end={self.inclusive_cell_end}, '
                f'color_drop={self.color_drop}, pixelate_prob={self.pixelate_prob}, '
                f'patch_normalize={self.patch_normalize}, patch_norm_scale={self.patch_norm_scale}, '
                f'upscale_small={self.upscale_small})')


def label_positions(label_layout: str) -> Tuple[int, ...]:
    """Row-major grid positions of the neighbours with labels 0..7 under ``label_layout``."""
    if label_layout not in LABEL_LAYOUTS:
        raise ValueError(f'label_layout must be one of {sorted(LABEL_LAYOUTS)}, got {label_layout!r}')
    return LABEL_LAYOUTS[label_layout]

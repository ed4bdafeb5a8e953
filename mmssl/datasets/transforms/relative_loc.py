"""Patch sampling for relative-location prediction (Doersch et al., ICCV 2015)."""
from typing import Optional

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from mmssl.registry import TRANSFORMS

GRID = 3
CENTRE = 4
# Grid positions (row-major, 0 = top-left) of the eight neighbours; pair label k means position NEIGHBOURS[k].
NEIGHBOURS = (0, 1, 2, 3, 5, 6, 7, 8)


@TRANSFORMS.register_module()
class RelativeLocPatches(BaseTransform):
    """Cut a 3×3 grid of patches for relative-location prediction.

    The grid has cells of ``cell_size`` pixels (the grid spans ``3 * cell_size``); one ``patch_size`` patch is
    taken from each cell. With ``jitter=None`` the patch lies anywhere inside its cell (the OpenMMLab toolbox
    variant: 85-px cells, 64-px patches, up to 21 px of jitter); with an int the patch is centred in its cell and
    shifted by up to ±``jitter`` pixels (the paper: ``patch_size=96``, ``cell_size=144`` i.e. a 48-px gap,
    ``jitter=7``). Images larger than the grid get a random grid position.

    Options of the original paper, off by default:

    - ``color_drop``: each patch keeps one random colour channel; the other two are replaced by Gaussian noise
      (mean of the kept channel, std ``noise_std_ratio`` × its std) so they carry no image signal.
    - ``pixelate_prob``: that share of patches is downsampled to between ``pixelate_min_pixels`` pixels and full
      size, then upsampled back (nearest), so the network cannot rely on fine texture alone.
    - ``patch_normalize``: each patch minus its mean, divided by its RMS (output becomes float32; use mean 0 /
      std 1 in the data preprocessor).

    Required keys: ``img`` (H, W, C) with H, W ≥ ``3 * cell_size``.
    Modified keys: ``img`` → (9, patch, patch, C), grid positions in row-major order (centre = index 4).
    Added keys: ``gt_label`` = 0..7 (label k: neighbour at position ``NEIGHBOURS[k]`` relative to the centre),
    ``patch_boxes`` (9, 4) as x1, y1, x2, y2 in the input image.

    Args:
        patch_size: side of each patch.
        cell_size: side of each grid cell (patch plus gap).
        jitter: ``None`` for uniform placement inside the cell, else the max shift from the cell centre.
        color_drop: see above.
        noise_std_ratio: noise std as a share of the kept channel's std (paper: ~1/100).
        pixelate_prob: share of patches to pixelate (paper: 1/3).
        pixelate_min_pixels: fewest pixels a pixelated patch keeps (paper: 100).
        patch_normalize: see above.
        upscale_small: resize images smaller than the grid up to fit (short side = grid size) instead of raising.
    """

    def __init__(self,
                 patch_size: int = 64,
                 cell_size: int = 85,
                 jitter: Optional[int] = None,
                 color_drop: bool = False,
                 noise_std_ratio: float = 0.01,
                 pixelate_prob: float = 0.0,
                 pixelate_min_pixels: int = 100,
                 patch_normalize: bool = False,
                 upscale_small: bool = False):
        if patch_size > cell_size:
            raise ValueError(f'patch_size ({patch_size}) must not exceed cell_size ({cell_size})')
        if jitter is not None and (cell_size - patch_size) // 2 < jitter:
            raise ValueError(f'jitter {jitter} would move a {patch_size}-px patch out of its {cell_size}-px cell; '
                             f'at most {(cell_size - patch_size) // 2}')
        if not 0 <= pixelate_prob <= 1:
            raise ValueError(f'pixelate_prob must be in [0, 1], got {pixelate_prob}')
        self.patch_size = patch_size
        self.cell_size = cell_size
        self.jitter = jitter
        self.color_drop = color_drop
        self.noise_std_ratio = noise_std_ratio
        self.pixelate_prob = pixelate_prob
        self.pixelate_min_pixels = pixelate_min_pixels
        self.patch_normalize = patch_normalize
        self.upscale_small = upscale_small

    @property
    def grid_size(self) -> int:
        return GRID * self.cell_size

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
                             f'(3 x cell_size {self.cell_size}); resize it first or set upscale_small=True')
        scale = self.grid_size / min(h, w)
        size = (max(self.grid_size, round(w * scale)), max(self.grid_size, round(h * scale)))
        resized = mmcv.imresize(img, size)
        return resized if resized.ndim == 3 else resized[..., None]

    @cache_randomness
    def _sample_layout(self, h: int, w: int, channels: int) -> dict:
        """Draw every random choice of one call: patch corners, kept colour channels, pixelation sizes."""
        num = GRID * GRID
        grid_y = np.random.randint(0, h - self.grid_size + 1)
        grid_x = np.random.randint(0, w - self.grid_size + 1)
        slack = self.cell_size - self.patch_size
        if self.jitter is None:
            within = np.random.randint(0, slack + 1, size=(num, 2))
        else:
            within = slack // 2 + np.random.randint(-self.jitter, self.jitter + 1, size=(num, 2))
        rows, cols = np.divmod(np.arange(num), GRID)
        cell_origin = np.stack([grid_y + rows * self.cell_size, grid_x + cols * self.cell_size], axis=1)
        min_side = min(self.patch_size, max(1, int(np.ceil(np.sqrt(self.pixelate_min_pixels)))))
        pixelate = np.random.rand(num) < self.pixelate_prob
        return dict(
            offsets=cell_origin + within,  # (9, 2) top-left (y, x), grid row-major
            keep_channel=np.random.randint(channels, size=num),
            pixelate_side=np.where(pixelate, np.random.randint(min_side, self.patch_size + 1, size=num), 0))

    def _drop_colors(self, patch: np.ndarray, keep: int) -> np.ndarray:
        kept = patch[..., keep].astype(np.float32)
        out = np.random.normal(kept.mean(), self.noise_std_ratio * kept.std() + 1e-6, patch.shape)
        out = out.astype(np.float32)
        out[..., keep] = kept
        return out

    def _pixelate(self, patch: np.ndarray, side: int) -> np.ndarray:
        small = mmcv.imresize(patch, (side, side), interpolation='area')
        big = mmcv.imresize(small, (self.patch_size, self.patch_size), interpolation='nearest')
        return big.reshape(patch.shape)

    @staticmethod
    def _normalize(patch: np.ndarray) -> np.ndarray:
        centred = patch.astype(np.float32) - patch.mean()
        return centred / (np.sqrt((centred**2).mean()) + 1e-6)

    def transform(self, results: dict) -> dict:
        img = self._fit_image(results)
        layout = self._sample_layout(*img.shape)
        p = self.patch_size
        patches = []
        for (y, x), keep, side in zip(layout['offsets'], layout['keep_channel'], layout['pixelate_side']):
            patch = img[y:y + p, x:x + p]
            if self.color_drop and patch.shape[2] > 1:
                patch = self._drop_colors(patch, keep)
            if side:
                patch = self._pixelate(patch, side)
            if self.patch_normalize:
                patch = self._normalize(patch)
            patches.append(patch)
        float_output = self.color_drop or self.patch_normalize
        results['img'] = np.stack(patches).astype(np.float32 if float_output else img.dtype)
        results['img_shape'] = (p, p)
        results['gt_label'] = np.arange(len(NEIGHBOURS))
        corners = layout['offsets'][:, ::-1]
        results['patch_boxes'] = np.concatenate([corners, corners + p], axis=1)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(patch_size={self.patch_size}, cell_size={self.cell_size}, '
                f'jitter={self.jitter}, color_drop={self.color_drop}, pixelate_prob={self.pixelate_prob}, '
                f'patch_normalize={self.patch_normalize}, upscale_small={self.upscale_small})')

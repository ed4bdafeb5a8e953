"""Transforms that mmcv 2.1 does not ship (it has Resize, CenterCrop, RandomFlip, RandomGrayscale)."""
import math
from typing import Sequence, Tuple, Union

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from mmssl.registry import TRANSFORMS


def _pair(size: Union[int, Sequence[int]]) -> Tuple[int, int]:
    """``size`` as (height, width)."""
    if isinstance(size, int):
        return size, size
    if len(size) != 2:
        raise ValueError(f'expected an int or (height, width), got {size}')
    return int(size[0]), int(size[1])


def _set_img(results: dict, img: np.ndarray) -> dict:
    results['img'] = img
    results['img_shape'] = img.shape[:2]
    return results


@TRANSFORMS.register_module()
class ResizeEdge(BaseTransform):
    """Resize so that one edge (the short one by default) has ``scale`` pixels, keeping the aspect ratio.

    Required keys: ``img``. Modified keys: ``img``, ``img_shape``. Added keys: ``scale_factor``.

    Args:
        scale: target length of the chosen edge.
        edge: ``'short'``, ``'long'``, ``'height'`` or ``'width'``.
        interpolation: mmcv interpolation name.
    """

    def __init__(self, scale: int, edge: str = 'short', interpolation: str = 'bilinear'):
        if edge not in ('short', 'long', 'height', 'width'):
            raise ValueError(f"ResizeEdge edge must be 'short', 'long', 'height' or 'width', got {edge!r}")
        self.scale = scale
        self.edge = edge
        self.interpolation = interpolation

    def transform(self, results: dict) -> dict:
        h, w = results['img'].shape[:2]
        reference = {'short': min(h, w), 'long': max(h, w), 'height': h, 'width': w}[self.edge]
        ratio = self.scale / reference
        size = (max(1, round(w * ratio)), max(1, round(h * ratio)))
        img = mmcv.imresize(results['img'], size, interpolation=self.interpolation)
        results['scale_factor'] = (size[0] / w, size[1] / h)
        return _set_img(results, img)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(scale={self.scale}, edge={self.edge!r})'


@TRANSFORMS.register_module()
class RandomCrop(BaseTransform):
    """Crop a random ``crop_size`` window; images smaller than it are an error unless ``pad_if_needed``.

    Required keys: ``img``. Modified keys: ``img``, ``img_shape``.

    Args:
        crop_size: int or (height, width).
        pad_if_needed: zero-pad images smaller than the crop instead of raising.
    """

    def __init__(self, crop_size: Union[int, Sequence[int]], pad_if_needed: bool = False):
        self.crop_size = _pair(crop_size)
        self.pad_if_needed = pad_if_needed

    @cache_randomness
    def _offset(self, h: int, w: int) -> Tuple[int, int]:
        ch, cw = self.crop_size
        return np.random.randint(0, h - ch + 1), np.random.randint(0, w - cw + 1)

    def transform(self, results: dict) -> dict:
        img = results['img']
        ch, cw = self.crop_size
        h, w = img.shape[:2]
        if h < ch or w < cw:
            if not self.pad_if_needed:
                raise ValueError(f"RandomCrop {self.crop_size}: image {results.get('img_path', '')} is only "
                                 f'{h}x{w}; resize it first or set pad_if_needed=True')
            img = mmcv.impad(img, shape=(max(h, ch), max(w, cw)), pad_val=0)
            h, w = img.shape[:2]
        top, left = self._offset(h, w)
        return _set_img(results, img[top:top + ch, left:left + cw])

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(crop_size={self.crop_size})'


@TRANSFORMS.register_module()
class RandomResizedCrop(BaseTransform):
    """Inception-style crop: random area share and aspect ratio, resized to ``scale`` (torchvision semantics).

    Required keys: ``img``. Modified keys: ``img``, ``img_shape``.

    Args:
        scale: output size, int or (height, width).
        crop_ratio_range: range of the crop area as a share of the image area.
        aspect_ratio_range: range of crop width / height.
        max_attempts: tries before falling back to a centre crop.
        interpolation: mmcv interpolation name.
    """

    def __init__(self,
                 scale: Union[int, Sequence[int]],
                 crop_ratio_range: Tuple[float, float] = (0.08, 1.0),
                 aspect_ratio_range: Tuple[float, float] = (3. / 4., 4. / 3.),
                 max_attempts: int = 10,
                 interpolation: str = 'bilinear'):
        self.scale = _pair(scale)
        self.crop_ratio_range = crop_ratio_range
        self.aspect_ratio_range = aspect_ratio_range
        self.max_attempts = max_attempts
        self.interpolation = interpolation

    @cache_randomness
    def _crop_box(self, h: int, w: int) -> Tuple[int, int, int, int]:
        area = h * w
        log_ratio = (math.log(self.aspect_ratio_range[0]), math.log(self.aspect_ratio_range[1]))
        for _ in range(self.max_attempts):
            target_area = np.random.uniform(*self.crop_ratio_range) * area
            aspect = math.exp(np.random.uniform(*log_ratio))
            cw = int(round(math.sqrt(target_area * aspect)))
            ch = int(round(math.sqrt(target_area / aspect)))
            if 0 < cw <= w and 0 < ch <= h:
                return np.random.randint(0, h - ch + 1), np.random.randint(0, w - cw + 1), ch, cw
        # Fallback as in torchvision: the largest centred crop within the aspect range.
        in_ratio = w / h
        if in_ratio < min(self.aspect_ratio_range):
            cw, ch = w, int(round(w / min(self.aspect_ratio_range)))
        elif in_ratio > max(self.aspect_ratio_range):
            ch, cw = h, int(round(h * max(self.aspect_ratio_range)))
        else:
            ch, cw = h, w
        return (h - ch) // 2, (w - cw) // 2, ch, cw

    def transform(self, results: dict) -> dict:
        img = results['img']
        top, left, ch, cw = self._crop_box(*img.shape[:2])
        crop = img[top:top + ch, left:left + cw]
        img = mmcv.imresize(crop, (self.scale[1], self.scale[0]), interpolation=self.interpolation)
        return _set_img(results, img)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale={self.scale}, crop_ratio_range={self.crop_ratio_range}, '
                f'aspect_ratio_range={self.aspect_ratio_range})')


@TRANSFORMS.register_module()
class ColorJitter(BaseTransform):
    """Random brightness / contrast / saturation / hue in random order (torchvision semantics, mmcv kernels).

    Required keys: ``img`` (BGR uint8). Modified keys: ``img``.

    Args:
        brightness, contrast, saturation: jitter strength f; the factor is drawn from [max(0, 1 - f), 1 + f].
        hue: the hue shift is drawn from [-hue, hue], hue ≤ 0.5.
    """

    def __init__(self, brightness: float = 0., contrast: float = 0., saturation: float = 0., hue: float = 0.):
        if not 0 <= hue <= 0.5:
            raise ValueError(f'ColorJitter hue must be in [0, 0.5], got {hue}')
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
        self.hue = hue

    @cache_randomness
    def _factors(self) -> Sequence[Tuple[str, float]]:
        ops = []
        for name in ('brightness', 'contrast', 'saturation'):
            strength = getattr(self, name)
            if strength > 0:
                ops.append((name, np.random.uniform(max(0., 1 - strength), 1 + strength)))
        if self.hue > 0:
            ops.append(('hue', np.random.uniform(-self.hue, self.hue)))
        return [ops[i] for i in np.random.permutation(len(ops))]

    def transform(self, results: dict) -> dict:
        img = results['img']
        apply = {'brightness': mmcv.adjust_brightness, 'contrast': mmcv.adjust_contrast,
                 'saturation': mmcv.adjust_color, 'hue': mmcv.adjust_hue}
        for name, factor in self._factors():
            img = apply[name](img, factor)
        results['img'] = img
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(brightness={self.brightness}, contrast={self.contrast}, '
                f'saturation={self.saturation}, hue={self.hue})')


# AlexNet's PCA of ImageNet RGB pixel values in [0, 1] (Krizhevsky et al. 2012): eigenvalues and, as columns, the
# eigenvectors (rows R, G, B). The values of mmselfsup 0.x ``mmselfsup/datasets/pipelines/transforms.py``
# (``Lighting._IMAGENET_PCA``) and of the FAIR benchmark; mmselfsup 1.x passes the same numbers x255 in BGR order.
IMAGENET_PCA_EIGVAL = (0.2175, 0.0188, 0.0045)
IMAGENET_PCA_EIGVEC = ((-0.5675, 0.7192, 0.4009),
                       (-0.5808, -0.0045, -0.8140),
                       (-0.5836, -0.6948, 0.4203))


@TRANSFORMS.register_module()
class Lighting(BaseTransform):
    """AlexNet-style PCA lighting noise: add ``eigvec @ (alpha * eigval)`` to every pixel, alpha ~ N(0, alphastd²).

    Matches mmselfsup 0.x ``Lighting`` (applied to the [0, 1] RGB tensor between ``ToTensor`` and ``Normalize``):
    here the shift is scaled by ``value_scale`` (255) for 0–255 images and reordered to the image's channel
    order, so after the data preprocessor's mean/std the network sees the same input. The result is float32 and
    not clipped (as 0.x; mmselfsup 1.x / mmcls cast it back to the input dtype, which wraps uint8 values).

    Required keys: ``img`` (H, W, 3). Modified keys: ``img`` (float32).

    Args:
        eigval: PCA eigenvalues, for pixel values in [0, 1], RGB.
        eigvec: 3×3 matrix with the eigenvectors as columns, rows in R, G, B order.
        alphastd: std of the per-image random weights alpha (0 disables the transform).
        value_scale: pixel scale of the images (255 for mmcv-loaded uint8 images).
        color_format: ``'bgr'`` (mmcv loading) or ``'rgb'``.
    """

    def __init__(self,
                 eigval: Sequence[float] = IMAGENET_PCA_EIGVAL,
                 eigvec: Sequence[Sequence[float]] = IMAGENET_PCA_EIGVEC,
                 alphastd: float = 0.1,
                 value_scale: float = 255.,
                 color_format: str = 'bgr'):
        self.eigval = np.asarray(eigval, dtype=np.float64)
        self.eigvec = np.asarray(eigvec, dtype=np.float64)
        if self.eigval.shape != (3, ) or self.eigvec.shape != (3, 3):
            raise ValueError(f'Lighting needs 3 eigenvalues and a 3x3 eigenvector matrix, got shapes '
                             f'{self.eigval.shape} and {self.eigvec.shape}')
        if color_format not in ('bgr', 'rgb'):
            raise ValueError(f"Lighting color_format must be 'bgr' or 'rgb', got {color_format!r}")
        if alphastd < 0:
            raise ValueError(f'Lighting alphastd must be >= 0, got {alphastd}')
        self.alphastd = alphastd
        self.value_scale = value_scale
        self.color_format = color_format

    @cache_randomness
    def _alpha(self) -> np.ndarray:
        return np.random.normal(0, self.alphastd, 3)

    def rgb_shift(self, alpha: np.ndarray) -> np.ndarray:
        """The (R, G, B) offset, in the image's pixel scale, for weights ``alpha`` (3,)."""
        return self.eigvec @ (alpha * self.eigval) * self.value_scale

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f"Lighting expects an (H, W, 3) colour image, got shape {img.shape} for "
                             f"{results.get('img_path', '<in memory>')}")
        if self.alphastd == 0:
            return results
        shift = self.rgb_shift(self._alpha())
        if self.color_format == 'bgr':
            shift = shift[::-1]
        results['img'] = (img.astype(np.float32) + shift.astype(np.float32)).astype(np.float32)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(eigval={self.eigval.tolist()}, alphastd={self.alphastd}, '
                f'value_scale={self.value_scale}, color_format={self.color_format!r})')

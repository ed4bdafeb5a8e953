from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmssl.registry import TRANSFORMS
from mmssl.structures import DataSample


def image_to_tensor(img: np.ndarray) -> torch.Tensor:
    """(..., H, W, C) or (H, W) array → contiguous (..., C, H, W) tensor, dtype kept."""
    if img.ndim == 2:
        img = img[..., None]
    return torch.from_numpy(np.ascontiguousarray(np.moveaxis(img, -1, -3)))


@TRANSFORMS.register_module()
class PackInputs(BaseTransform):
    """Pack a sample into ``{'inputs': tensor, 'data_samples': DataSample}`` for the data preprocessor.

    ``inputs`` is the image as (C, H, W), or (P, C, H, W) for a stack of P patches. ``gt_label`` (when present)
    becomes ``data_samples.gt_label``; every key in ``meta_keys`` that the sample has is kept as metainfo
    (``sample_idx`` among them, for memory-bank methods).

    Args:
        input_key: the results key holding the image(s).
        meta_keys: keys copied into the data sample's metainfo.
    """

    def __init__(self,
                 input_key: str = 'img',
                 meta_keys: Sequence[str] = ('sample_idx', 'img_path', 'ori_shape', 'img_shape', 'patch_boxes')):
        self.input_key = input_key
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        if self.input_key not in results:
            raise KeyError(f"PackInputs: the pipeline produced no '{self.input_key}' (keys: {sorted(results)})")
        data_sample = DataSample()
        if 'gt_label' in results:
            data_sample.set_gt_label(results['gt_label'])
        data_sample.set_metainfo({key: results[key] for key in self.meta_keys if key in results})
        return dict(inputs=image_to_tensor(results[self.input_key]), data_samples=data_sample)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(input_key={self.input_key!r}, meta_keys={self.meta_keys})'

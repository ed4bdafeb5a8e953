import numpy as np
from mmcv.transforms import BaseTransform

from mmssl.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomRotationStack(BaseTransform):
    """Stack the image rotated by 0°, 90°, 180° and 270°; labels 0..3 (Gidaris et al. 2018).

    Required keys: ``img`` (H, W, C), square so that all four rotations share one shape.
    Modified keys: ``img`` → (4, H, W, C). Added keys: ``gt_label`` = [0, 1, 2, 3].
    """

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.shape[0] != img.shape[1]:
            raise ValueError(f"RandomRotationStack needs square images, {results.get('img_path', '')} is "
                             f'{img.shape[0]}x{img.shape[1]}; crop it first')
        results['img'] = np.stack([np.rot90(img, k).copy() for k in range(4)])
        results['gt_label'] = np.arange(4)
        return results

"""mmssl's ``LoadImageFromFile``: mmcv's, with decode errors that name the image."""
import os.path as osp

from mmcv.transforms import LoadImageFromFile as MMCVLoadImageFromFile

from mmssl.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadImageFromFile(MMCVLoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` (same arguments), registered under the same name in the ``mmssl`` scope.

    mmcv reports a 0-byte image with OpenCV's ``!buf.empty()`` assertion, which names no file; a truncated or
    otherwise undecodable image here raises ``ValueError`` naming its path, size and sample index, mid-training as
    well. ``tools/train.py --check-images`` finds every such image before training starts.
    """

    def transform(self, results: dict) -> dict:
        """Load ``results['img_path']``; see mmcv's ``LoadImageFromFile.transform``."""
        try:
            loaded = super().transform(results)
        except FileNotFoundError:
            raise
        except Exception as error:  # cv2.error, AssertionError ('failed to load image'), OSError from PIL ...
            if self.ignore_empty:
                return None
            raise ValueError(f'{describe_image(results)}: cannot be decoded ({type(error).__name__}: '
                             f'{str(error).strip().splitlines()[-1] if str(error).strip() else "no detail"}); '
                             'truncated or not an image? tools/train.py --check-images lists every such file') from None
        return loaded


def describe_image(results: dict) -> str:
    """``image PATH (N bytes, sample I)`` for messages."""
    path = results.get('img_path')
    size = f'{osp.getsize(path)} bytes' if path and osp.isfile(path) else 'missing'
    sample = f', sample {results["sample_idx"]}' if 'sample_idx' in results else ''
    return f'image {path} ({size}{sample})'

from typing import List, Optional, Tuple, Union

import numpy as np
from mmengine.dataset import BaseDataset

from .utils import img_prefix


class BaseImageDataset(BaseDataset):
    """Common base of the mmssl image datasets (not registered; use a subclass).

    Adds to :class:`mmengine.dataset.BaseDataset`: ``data_prefix`` may be a plain string (the image folder),
    the ``check_exists`` switch, and label accessors for evaluation code. Subclasses implement
    ``load_data_list`` and store the class names in ``self._metainfo['classes']``.

    Args:
        ann_file: annotation file, relative to ``data_root`` unless absolute.
        metainfo: extra meta information, e.g. ``dict(classes=(...))``.
        data_root: root folder that ``ann_file`` and ``data_prefix`` are relative to.
        data_prefix: image folder as a str, or mmengine's ``dict(img_path=...)``.
        check_exists: check that every listed image exists when loading (one directory listing per folder, so
            cheap even for ImageNet; switch off for data on slow network file systems).
        **kwargs: passed on to :class:`mmengine.dataset.BaseDataset` (``pipeline``, ``test_mode``,
            ``lazy_init``, ``indices``, ...).
    """

    def __init__(self,
                 ann_file: str = '',
                 metainfo: Optional[dict] = None,
                 data_root: str = '',
                 data_prefix: Union[str, dict] = '',
                 check_exists: bool = True,
                 **kwargs):
        self.check_exists = check_exists
        super().__init__(
            ann_file=ann_file, metainfo=metainfo, data_root=data_root, data_prefix=img_prefix(data_prefix), **kwargs)

    @property
    def img_prefix(self) -> str:
        """The image folder, joined with ``data_root``."""
        return self.data_prefix['img_path']

    def _given_classes(self) -> Optional[Tuple[str, ...]]:
        """Class names from ``metainfo``, or None when none were given."""
        classes = self._metainfo.get('classes')
        if classes is None:
            return None
        if isinstance(classes, str):
            # mmengine turns an existing file into a list and leaves any other string as it is.
            raise FileNotFoundError(f'{type(self).__name__}: classes file {classes!r} does not exist')
        return tuple(classes)

    def get_gt_labels(self) -> np.ndarray:
        """Labels of all samples: (N,) int64 class indices, or (N, C) for multi-label data sets."""
        labels = [self.get_data_info(i).get('gt_label') for i in range(len(self))]
        if any(label is None for label in labels):
            raise ValueError(f'{type(self).__name__}: the data set is unlabelled')
        return np.stack([np.asarray(label) for label in labels]) if labels else np.zeros(0, dtype=np.int64)

    def get_cat_ids(self, idx: int) -> List[int]:
        """Class indices present in sample ``idx`` (none when unlabelled), for class-balanced wrappers."""
        info = self.get_data_info(idx)
        return [int(info['gt_label'])] if 'gt_label' in info else []

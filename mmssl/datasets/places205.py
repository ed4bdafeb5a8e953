import os.path as osp
from typing import Dict, List, Optional, Tuple, Union

from mmssl.registry import DATASETS

from .image_list import ImageList


def places_category(path: str) -> str:
    """Category of a Places205 list path: ``a/abbey/00000001.jpg`` -> ``abbey``,
    ``a/apartment_building/outdoor/00000001.jpg`` -> ``apartment_building/outdoor``.

    The leading one-letter folder only groups categories alphabetically, so it is not part of the name.
    """
    parts = osp.dirname(path).replace('\\', '/').split('/')
    if len(parts) > 1 and len(parts[0]) == 1:
        parts = parts[1:]
    return '/'.join(parts)


@DATASETS.register_module()
class Places205(ImageList):
    """Places205 from the official split lists.

    Layout of the official release (``data_root='data/places205/'``)::

        trainvalsplit_places205/train_places205.csv    'a/abbey/00000000.jpg 0' per line (space separated)
        trainvalsplit_places205/val_places205.csv
        data/vision/torralba/deeplearning/images256/a/abbey/00000000.jpg

    i.e. ``ann_file='trainvalsplit_places205/train_places205.csv'``,
    ``data_prefix='data/vision/torralba/deeplearning/images256'``. Every line must carry a label.

    Class names come from ``metainfo['classes']`` when given; otherwise from the list itself, where each label
    is named after the category folders of its images (:func:`places_category`). That requires a one-to-one
    label <-> category mapping and every label from 0 to the largest one to occur (true for both official
    lists); anything else is an error naming the line.

    Each data info holds ``img_path``, ``gt_label`` (int) and mmengine's ``sample_idx``.

    Args:
        ann_file: the split list (required), relative to ``data_root`` unless absolute.
        metainfo, data_root, data_prefix, check_exists, **kwargs: see :class:`ImageList`.
    """

    def __init__(self,
                 ann_file: str = '',
                 metainfo: Optional[dict] = None,
                 data_root: str = '',
                 data_prefix: Union[str, dict] = '',
                 **kwargs):
        if not ann_file:
            raise ValueError('Places205: ann_file (e.g. trainvalsplit_places205/train_places205.csv) is required')
        super().__init__(
            ann_file=ann_file, metainfo=metainfo, data_root=data_root, data_prefix=data_prefix, with_label=True,
            **kwargs)

    def _derive_classes(self, names: List[str], labels: List[int], line_numbers: List[int]) -> Tuple[str, ...]:
        by_label: Dict[int, Tuple[str, int]] = {}  # label -> (category, line first seen)
        by_category: Dict[str, Tuple[int, int]] = {}
        for name, label, line_number in zip(names, labels, line_numbers):
            category = places_category(name)
            where = f'{self.ann_file}, line {line_number}'
            seen = by_label.setdefault(label, (category, line_number))
            if seen[0] != category:
                raise ValueError(f'{where}: label {label} is used for category {category!r} here but for '
                                 f'{seen[0]!r} at line {seen[1]}')
            other = by_category.setdefault(category, (label, line_number))
            if other[0] != label:
                raise ValueError(f'{where}: category {category!r} has label {label} here but {other[0]} at line '
                                 f'{other[1]}')
        missing = [label for label in range(max(by_label) + 1) if label not in by_label]
        if missing:
            raise ValueError(f'{self.ann_file}: label {missing[0]} never occurs, so the classes cannot be named '
                             "from the list; pass metainfo=dict(classes=[...])")
        return tuple(by_label[label][0] for label in range(len(by_label)))

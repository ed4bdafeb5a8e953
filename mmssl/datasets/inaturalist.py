import json
import os.path as osp
from typing import Dict, List, Optional, Tuple, Union

from mmssl.registry import DATASETS

from .base_dataset import BaseImageDataset
from .utils import check_images_exist, require_file


@DATASETS.register_module()
class INaturalist2018(BaseImageDataset):
    """iNaturalist 2018 (8,142 species) from the official COCO-like JSON files.

    Layout of the official release (``data_root='data/inat2018/'``)::

        train2018.json / val2018.json
        train_val2018/Plantae/7477/3b60c9486db1d2ee875f11a669fbde4a.jpg

    The JSON holds ``images`` (``[{id, file_name, ...}]``, ``file_name`` relative to ``data_prefix``),
    ``annotations`` (``[{image_id, category_id, ...}]``, exactly one per image) and ``categories``
    (``[{id, name, ...}]``).

    Label mapping: ``gt_label`` is the rank of the image's ``category_id`` among the sorted category ids, and
    ``metainfo['classes'][gt_label]`` is that category's ``name``. The 2018 release numbers its categories
    0..8141, so there ``gt_label == category_id``; the raw id is kept as ``category_id`` either way.

    A file without ``annotations`` (like ``test2018.json``) gives an unlabelled data set, unless ``with_label=True``
    (training and evaluating a classifier), which refuses it naming the file and the key. Errors name the file
    and entry: a missing file or ``images`` / ``categories`` key, duplicate ids, an annotation for an unknown
    image or category, an image with no or several annotations, and (``check_exists=True``) a missing image.

    Each data info holds:

    - ``img_path`` (str): full path of the image.
    - ``img_id`` (int): the image's id in the JSON.
    - ``gt_label`` (int), ``category_id`` (int): labelled files only, see above.
    - ``sample_idx`` (int): added by mmengine.

    Args:
        ann_file: the JSON file, relative to ``data_root`` unless absolute.
        metainfo: extra meta information; ``classes`` given here must have one name per JSON category.
        data_root: root folder that ``ann_file`` and ``data_prefix`` are relative to.
        data_prefix: image folder (str or ``dict(img_path=...)``) that ``file_name`` is relative to.
        check_exists: check that every image exists (see :class:`BaseImageDataset`).
        with_label: ``'auto'`` (labelled when the file has ``annotations``), ``True`` (``annotations`` required) or
            ``False`` (labels ignored).
        **kwargs: passed on to :class:`mmengine.dataset.BaseDataset`.
    """

    def __init__(self,
                 ann_file: str = '',
                 metainfo: Optional[dict] = None,
                 data_root: str = '',
                 data_prefix: Union[str, dict] = '',
                 check_exists: bool = True,
                 with_label: Union[str, bool] = 'auto',
                 **kwargs):
        if not ann_file:
            raise ValueError('INaturalist2018: ann_file (e.g. train2018.json) is required')
        if not (with_label == 'auto' or isinstance(with_label, bool)):
            raise ValueError(f"INaturalist2018: with_label must be 'auto', True or False, got {with_label!r}")
        self.with_label = with_label
        super().__init__(ann_file=ann_file, metainfo=metainfo, data_root=data_root, data_prefix=data_prefix,
                         check_exists=check_exists, **kwargs)

    def load_data_list(self) -> List[dict]:
        owner = type(self).__name__
        require_file(self.ann_file, 'annotation file', owner)
        with open(self.ann_file, encoding='utf-8') as f:
            try:
                content = json.load(f)
            except json.JSONDecodeError as error:
                raise ValueError(f'{self.ann_file}: not valid JSON ({error})') from None
        if not isinstance(content, dict) or not isinstance(content.get('images'), list):
            raise ValueError(f"{self.ann_file}: no 'images' list (expected the iNaturalist COCO-like format)")
        labelled = 'annotations' in content and self.with_label is not False
        if self.with_label is True and not labelled:
            raise ValueError(f"{self.ann_file}: no 'annotations' list, but with_label=True (a classifier trains and is "
                             "evaluated on labels; test2018.json has none, use train2018.json / val2018.json)")
        if labelled and 'categories' not in content:
            raise ValueError(f"{self.ann_file}: has 'annotations' but no 'categories' list, so labels cannot be "
                             'mapped to classes')

        infos, info_of = [], {}
        for i, image in enumerate(content['images']):
            if not isinstance(image, dict) or 'id' not in image or 'file_name' not in image:
                raise ValueError(f"{self.ann_file}: images[{i}] lacks 'id' or 'file_name'")
            if image['id'] in info_of:
                raise ValueError(f"{self.ann_file}: images[{i}] repeats image id {image['id']!r}")
            info = dict(img_path=osp.join(self.img_prefix, image['file_name']), img_id=image['id'])
            infos.append(info)
            info_of[image['id']] = info
        if not infos:
            raise ValueError(f'{self.ann_file}: the images list is empty')

        category_ids, names = self._read_categories(content.get('categories', []))
        given = self._given_classes()
        if given is not None and len(given) != len(names):
            raise ValueError(f'{owner}: metainfo gives {len(given)} classes but {self.ann_file} has {len(names)} '
                             'categories')
        self._metainfo['classes'] = given if given is not None else names
        if labelled:
            self._add_labels(info_of, content['annotations'], {cid: label for label, cid in enumerate(category_ids)})

        if self.check_exists:
            check_images_exist([info['img_path'] for info in infos],
                               lambda i: f"{self.ann_file}, image id {infos[i]['img_id']!r}", owner)
        return infos

    def _read_categories(self, categories: list) -> Tuple[List[int], Tuple[str, ...]]:
        """Category ids (sorted) and the matching names."""
        by_id = {}
        for i, category in enumerate(categories):
            if not isinstance(category, dict) or 'id' not in category or 'name' not in category:
                raise ValueError(f"{self.ann_file}: categories[{i}] lacks 'id' or 'name'")
            if category['id'] in by_id:
                raise ValueError(f"{self.ann_file}: categories[{i}] repeats category id {category['id']!r}")
            by_id[category['id']] = category['name']
        category_ids = sorted(by_id)
        return category_ids, tuple(by_id[category_id] for category_id in category_ids)

    def _add_labels(self, info_of: Dict[object, dict], annotations: list, label_of: Dict[object, int]) -> None:
        for i, annotation in enumerate(annotations):
            image_id = annotation.get('image_id') if isinstance(annotation, dict) else None
            where = f'{self.ann_file}, annotations[{i}] (image_id {image_id!r})'
            info = info_of.get(image_id)
            if info is None:
                raise ValueError(f'{where}: no image with this id')
            if 'gt_label' in info:
                raise ValueError(f'{where}: the image already has an annotation (one per image expected)')
            category_id = annotation.get('category_id')
            if category_id not in label_of:
                raise ValueError(f'{where}: category_id {category_id!r} is not in categories')
            info['gt_label'] = label_of[category_id]
            info['category_id'] = category_id
        for image_id, info in info_of.items():
            if 'gt_label' not in info:
                raise ValueError(f"{self.ann_file}: image id {image_id!r} ({info['img_path']}) has no annotation")

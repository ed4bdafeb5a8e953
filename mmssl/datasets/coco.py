"""COCO2014 as a multi-label classification set for the linear-SVM benchmark.

:func:`convert_coco_svm_labels` turns an ``instances_{train,val}2014.json`` into image-level labels
in the feature folder's encoding (``{split}_labels.npy``, ``{split}_ids.txt``) plus ``classes.txt``;
:class:`COCO2014Classification` reads them, so feature extraction handles COCO exactly like VOC07.

Label rule (``extra_scripts/create_coco_data_files.py`` of facebookresearch/fair_self_supervision_benchmark,
``get_valid_objs``): an image is positive for a category when it has a *valid* object of it - not
flagged ``ignore``, segmentation ``area > 0`` and a box that is more than one pixel wide and high
after converting ``[x, y, w, h]`` to ``x2 = x + max(0, w - 1)`` (same for y) and clipping to
``[0, width - 1] × [0, height - 1]``. Crowd objects (``iscrowd = 1``) are not excluded by that rule,
so they count. Every other (image, category) is negative (-1); there is no difficult label.
Images are sorted by file name, categories keep the order of the file's ``categories`` list.
"""
import contextlib
import io
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from mmssl.registry import DATASETS

from .base_dataset import BaseImageDataset
from .utils import ExistenceChecker, check_images_exist, require_dir, require_file

POSITIVE, NEGATIVE = 1, -1
CLASSES_FILE = 'classes.txt'
_REQUIRED = dict(images=('id', 'file_name', 'width', 'height'),
                 annotations=('image_id', 'category_id', 'bbox', 'area'),
                 categories=('id', 'name'))


def is_valid_object(obj: dict, width: float, height: float) -> bool:
    """FAIR's ``get_valid_objs`` test for one annotation of an image of the given size."""
    if obj.get('ignore', 0) == 1:
        return False
    x, y, w, h = (float(v) for v in obj['bbox'])
    x1, y1 = x, y
    x2, y2 = x1 + max(0.0, w - 1.0), y1 + max(0.0, h - 1.0)
    x1, x2 = (min(width - 1.0, max(0.0, v)) for v in (x1, x2))
    y1, y2 = (min(height - 1.0, max(0.0, v)) for v in (y1, y2))
    return obj['area'] > 0 and x2 > x1 and y2 > y1


def _check_instances(data, ann_file: str) -> None:
    """Raise ``ValueError`` naming the file and key for anything the label rule cannot work with."""
    if not isinstance(data, dict):
        raise ValueError(f'{ann_file}: expected a COCO instances object, got {type(data).__name__}')
    for key, fields in _REQUIRED.items():
        if key not in data:
            raise ValueError(f"{ann_file}: no '{key}' key (a COCO instances file has 'images', 'annotations' "
                             "and 'categories')")
        if not isinstance(data[key], list):
            raise ValueError(f"{ann_file}: '{key}' must be a list, got {type(data[key]).__name__}")
        for i, entry in enumerate(data[key]):
            missing = [f for f in fields if not isinstance(entry, dict) or f not in entry]
            if missing:
                raise ValueError(f"{ann_file}: {key}[{i}] has no '{missing[0]}'")
    if not data['categories']:
        raise ValueError(f"{ann_file}: 'categories' is empty")
    category_ids = [c['id'] for c in data['categories']]
    if len(set(category_ids)) != len(category_ids):
        raise ValueError(f"{ann_file}: 'categories' repeats an id")
    image_ids = {image['id'] for image in data['images']}
    if len(image_ids) != len(data['images']):
        raise ValueError(f"{ann_file}: 'images' repeats an id")
    names = [image['file_name'] for image in data['images']]
    if len(set(names)) != len(names):
        seen = set()
        duplicate = next(name for name in names if name in seen or seen.add(name))
        raise ValueError(f"{ann_file}: file_name {duplicate!r} is listed by two images")
    known = set(category_ids)
    for i, ann in enumerate(data['annotations']):
        where = f"{ann_file}: annotations[{i}] (id {ann.get('id')})"
        if ann['image_id'] not in image_ids:
            raise ValueError(f"{where}: image_id {ann['image_id']} is not in 'images'")
        if ann['category_id'] not in known:
            raise ValueError(f"{where}: category_id {ann['category_id']} is not in 'categories'")
        if not isinstance(ann['bbox'], (list, tuple)) or len(ann['bbox']) != 4:
            raise ValueError(f"{where}: bbox must be [x, y, width, height], got {ann['bbox']!r}")


def coco_image_labels(ann_file: str) -> Tuple[List[str], np.ndarray, List[str]]:
    """Image-level SVM labels of a COCO instances file (rule in the module docstring).

    Args:
        ann_file: e.g. ``annotations/instances_train2014.json``.

    Returns:
        tuple: file names sorted (N), labels (N, P) int8 in {1, -1}, category names (P) in file order.
    """
    try:
        from pycocotools.coco import COCO
    except ImportError:
        raise ImportError('the COCO SVM labels need pycocotools: pip install pycocotools') from None
    require_file(ann_file, 'COCO instances file', 'coco_image_labels')
    with open(ann_file) as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as error:
            raise ValueError(f'{ann_file}: not valid JSON ({error})') from None
    _check_instances(data, ann_file)
    coco = COCO()
    coco.dataset = data
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress
        coco.createIndex()
    column = {category['id']: c for c, category in enumerate(data['categories'])}
    images = sorted(data['images'], key=lambda image: image['file_name'])
    labels = np.full((len(images), len(column)), NEGATIVE, dtype=np.int8)
    for row, image in enumerate(images):
        for obj in coco.loadAnns(coco.getAnnIds(imgIds=image['id'])):
            if is_valid_object(obj, image['width'], image['height']):
                labels[row, column[obj['category_id']]] = POSITIVE
    return [image['file_name'] for image in images], labels, [str(c['name']) for c in data['categories']]


def image_id_of(file_name: str) -> str:
    """The id under which an image appears in the feature folder: its file name without extension."""
    return osp.splitext(file_name)[0]


def convert_coco_svm_labels(ann_file: str, out_dir: str, split: str, img_dir: Optional[str] = None) -> Dict[str, str]:
    """Write ``{split}_labels.npy`` (int8 N × P, 1 / -1), ``{split}_ids.txt`` and ``classes.txt`` to ``out_dir``.

    Args:
        ann_file: the COCO instances file of the split.
        out_dir: label folder (created); ``classes.txt`` must agree with one already there.
        split: e.g. ``'train2014'`` or ``'val2014'``.
        img_dir: when given, every listed image must exist there (checked before anything is written).

    Returns:
        dict: ``labels``, ``ids`` and ``classes`` paths.
    """
    names, labels, classes = coco_image_labels(ann_file)
    if img_dir is not None:
        require_dir(img_dir, 'image folder', 'convert_coco_svm_labels')
        checker = ExistenceChecker()
        missing = [name for name in names if not checker.exists(osp.join(img_dir, name))]
        if missing:
            raise FileNotFoundError(f'{ann_file}: image {missing[0]!r} is not in {img_dir} ({len(missing)} of '
                                    f'{len(names)} listed images are missing)')
    ids = [image_id_of(name) for name in names]
    if len(set(ids)) != len(ids):
        raise ValueError(f'{ann_file}: two file names share a name without extension')
    os.makedirs(out_dir, exist_ok=True)
    classes_path = osp.join(out_dir, CLASSES_FILE)
    if osp.isfile(classes_path):
        existing = read_classes(classes_path)
        if existing != classes:
            raise ValueError(f'{ann_file}: categories {classes[:3]}... differ from {classes_path} '
                             f'({existing[:3]}...), written for another split')
    paths = dict(labels=osp.join(out_dir, f'{split}_labels.npy'), ids=osp.join(out_dir, f'{split}_ids.txt'),
                 classes=classes_path)
    np.save(paths['labels'], labels)
    with open(paths['ids'], 'w') as f:
        f.write(''.join(f'{i}\n' for i in ids))
    with open(classes_path, 'w') as f:
        f.write(''.join(f'{name}\n' for name in classes))
    return paths


def read_classes(path: str) -> List[str]:
    with open(path, encoding='utf-8') as f:
        return [line.rstrip('\n') for line in f if line.strip()]


@DATASETS.register_module()
class COCO2014Classification(BaseImageDataset):
    """COCO2014 image-level labels (80 categories) for the linear-SVM benchmark.

    Layout (``data_root='data/coco/'``)::

        train2014/COCO_train2014_000000000009.jpg ...    images (val2014/ likewise)
        svm_labels/classes.txt                           category names, one per line
        svm_labels/{split}_labels.npy                    int8 (N, 80): 1 positive, -1 negative
        svm_labels/{split}_ids.txt                       file names without extension, sorted

    ``svm_labels`` is written by :func:`convert_coco_svm_labels` (the repository's ``coco2014_svm_labels.py``
    converter calls it). Each data info holds ``img_path``, ``img_id``,
    ``gt_label`` (int8 vector) and ``positive_labels``, like :class:`VOC07Classification`.

    Args:
        data_root: the COCO folder.
        split: ``'train2014'`` or ``'val2014'`` (any split the converter wrote).
        label_dir: the converter's output folder, relative to ``data_root``.
        data_prefix: image folder relative to ``data_root``; default the split name.
        metainfo: ``dict(classes=...)`` must match ``classes.txt`` when given.
        img_suffix: suffix of the image files.
        check_exists: check that every image exists.
        **kwargs: passed on to :class:`mmengine.dataset.BaseDataset`.
    """

    def __init__(self,
                 data_root: str,
                 split: str = 'train2014',
                 label_dir: str = 'svm_labels',
                 data_prefix: Union[str, dict, None] = None,
                 metainfo: Optional[dict] = None,
                 img_suffix: str = '.jpg',
                 check_exists: bool = True,
                 **kwargs):
        if not data_root:
            raise ValueError('COCO2014Classification: data_root (the COCO folder) is required')
        self.split = split
        self.label_dir = osp.join(data_root, label_dir)
        self.img_suffix = img_suffix
        super().__init__(ann_file=osp.join(label_dir, f'{split}_ids.txt'), metainfo=metainfo, data_root=data_root,
                         data_prefix=split if data_prefix is None else data_prefix, check_exists=check_exists,
                         **kwargs)

    def load_data_list(self) -> List[dict]:
        owner = type(self).__name__
        require_dir(self.data_root, 'data root', owner)
        classes_path = osp.join(self.label_dir, CLASSES_FILE)
        require_file(classes_path, 'classes file (write it with mmssl.datasets.coco.convert_coco_svm_labels or the '
                     'coco2014_svm_labels.py converter)', owner)
        classes = tuple(read_classes(classes_path))
        given = self._given_classes()
        if given is not None and tuple(given) != classes:
            raise ValueError(f'{owner}: metainfo classes differ from {classes_path}')
        self._metainfo['classes'] = classes
        require_file(self.ann_file, 'image id list', owner)
        ids = read_classes(self.ann_file)
        labels_path = osp.join(self.label_dir, f'{self.split}_labels.npy')
        require_file(labels_path, 'label file', owner)
        labels = np.load(labels_path)
        if labels.shape != (len(ids), len(classes)):
            raise ValueError(f'{labels_path}: expected shape ({len(ids)}, {len(classes)}) from {self.ann_file} and '
                             f'{classes_path}, got {labels.shape}')
        if not np.isin(labels, (POSITIVE, NEGATIVE)).all():
            raise ValueError(f'{labels_path}: labels must be 1 or -1 (COCO has no difficult label)')
        if len(set(ids)) != len(ids):
            raise ValueError(f'{self.ann_file}: image ids are not unique')
        paths = [osp.join(self.img_prefix, img_id + self.img_suffix) for img_id in ids]
        if self.check_exists:
            check_images_exist(paths, lambda i: f'{self.ann_file}, line {i + 1}', owner)
        return [dict(img_path=path, img_id=img_id, gt_label=label.astype(np.int8),
                     positive_labels=np.flatnonzero(label == POSITIVE).tolist())
                for path, img_id, label in zip(paths, ids, labels)]

    def get_cat_ids(self, idx: int) -> Sequence[int]:
        """Positive class indices of sample ``idx``."""
        return self.get_data_info(idx)['positive_labels']

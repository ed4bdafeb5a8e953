"""Writers of tiny data sets in the real on-disk formats, for tests that need data (``pythonpath = tests``, so
``from data_utils import make_imagenet``).

Every ``make_*`` function writes into the folder it is given (created if needed) and returns a dict with
``data_root`` plus, per split, the keyword arguments that point the matching mmssl data set at it (a
``train`` / ``val`` / ``trainval`` / ``test`` entry that can be passed as ``Dataset(**info['train'])`` or merged
into a config's ``dataset`` dict), the ``classes`` and whatever the tests check against. The layouts follow the
official releases, so shipped configs usually need nothing but ``data_root`` changed:

===========================  ==========================================================================
:func:`make_imagenet`        ``train/<wnid>/<wnid>_<i>.JPEG``, flat ``val/``, ``meta/{train,val,classes}.txt``,
                             ``meta/{1,10}percent.txt`` (subset lists)
:func:`make_places205`       ``trainvalsplit_places205/{train,val}_places205.csv`` and
                             ``data/vision/torralba/deeplearning/images256/<letter>/<category>/<n>.jpg``
:func:`make_inaturalist2018`  ``{train,val}2018.json`` and ``train_val2018/<kingdom>/<id>/<name>.jpg``
:func:`make_voc07`           ``VOCdevkit/VOC2007/{JPEGImages,Annotations,ImageSets/Main}``
:func:`make_coco2014_svm`    ``annotations/instances_{train,val}2014.json``, ``{train,val}2014/`` and the converted
                             SVM labels ``svm_labels/`` (objects that exercise the label rule)
:func:`make_fashion_mnist`   the output of ``tools/dataset_converters/prepare_fashion_mnist.py`` (run on
                             synthetic idx files written by :func:`write_fashion_mnist_idx`)
:func:`make_coco_instances`  ``annotations/instances_{train,val}2017.json`` (polygons) and ``{train,val}2017/``
:func:`make_voc0712`         ``VOCdevkit/VOC{2007,2012}/{JPEGImages,Annotations,ImageSets/Main}`` (detection)
:func:`make_voc12aug`        ``VOCdevkit/VOC2012/{JPEGImages,SegmentationClass,SegmentationClassAug}``, lists in
                             ``ImageSets/Segmentation/{trainaug,train,val}.txt``
:func:`make_cityscapes`      ``leftImg8bit/<split>/<city>/*_leftImg8bit.png``,
                             ``gtFine/<split>/<city>/*_gtFine_labelTrainIds.png``
:func:`make_all_datasets`    the classification sets above (ImageNet ... Fashion-MNIST) under one root
===========================  ==========================================================================

Images are small random-noise pictures (deterministic per call), so a data set of a few dozen images takes
well under a second to write.
"""
import contextlib
import gzip
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys
import zlib
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
from PIL import Image

from mmssl.datasets.voc import VOC_CLASSES

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONVERTER_PATH = osp.join(REPO_ROOT, 'tools', 'dataset_converters', 'prepare_fashion_mnist.py')
FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist/'
IMAGENET_WNIDS = ('n01440764', 'n01443537', 'n01484850')
PLACES_CATEGORIES = ('a/abbey', 'a/airport_terminal', 'b/bakery/shop')
PLACES_PREFIX = 'data/vision/torralba/deeplearning/images256'

Size = Union[int, Tuple[int, int]]


def save_resnet_checkpoint(path, depth: int, full: bool = True) -> dict:
    """A randomly initialised ResNet saved as tools/train.py would (``full``: ``backbone.`` keys) or backbone-only.

    Returns the backbone's state dict.
    """
    import torch

    from mmssl.models import ResNet
    backbone = ResNet(depth=depth)
    backbone.init_weights()
    state = {('backbone.' if full else '') + k: v for k, v in backbone.state_dict().items()}
    torch.save({'state_dict': state, 'meta': {'iter': 1}}, path)
    return backbone.state_dict()


def write_image(path: str, size: Size = 16, seed: int = 0, grey: bool = False) -> str:
    """Write a random-noise image (format from the suffix) of ``size`` = side or (height, width)."""
    height, width = (size, size) if isinstance(size, int) else size
    shape = (height, width) if grey else (height, width, 3)
    pixels = np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


def write_lines(path: str, lines: Sequence[str]) -> str:
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    with open(path, 'w') as f:
        f.writelines(line + '\n' for line in lines)
    return path


def make_image_folder(root: str, classes: Sequence[str] = ('cat', 'dog'), per_class: int = 2, size: Size = 16,
                      ext: str = '.jpg') -> str:
    """``root/<class>/<i><ext>`` for every class (a labelled folder tree); returns ``root``."""
    for label, name in enumerate(classes):
        for i in range(per_class):
            write_image(osp.join(root, name, f'{i}{ext}'), size, seed=label * 1000 + i)
    return root


def make_flat_folder(root: str, num: int = 3, size: Size = 16, ext: str = '.jpg') -> str:
    """``root/<i><ext>`` (an unlabelled folder); returns ``root``."""
    for i in range(num):
        write_image(osp.join(root, f'{i}{ext}'), size, seed=i)
    return root


def make_imagenet(root: str, classes: Sequence[str] = IMAGENET_WNIDS, train_per_class: int = 3,
                  val_per_class: int = 2, subset_per_class: int = 1, size: Size = 16) -> dict:
    """An ImageNet-like tree (mmpretrain layout).

    Writes ``train/<wnid>/<wnid>_<i>.JPEG``, ``val/ILSVRC2012_val_<8 digits>.JPEG`` (flat, as released),
    ``meta/train.txt`` (``<wnid>/<file> <label>``, relative to ``train/``), ``meta/val.txt`` (``<file> <label>``,
    relative to ``val/``), ``meta/classes.txt`` and ``meta/1percent.txt`` / ``meta/10percent.txt`` (the same list,
    so the shipped 1% and 10% configs both find their file), a subset list with the first
    ``subset_per_class`` training file names of every class.

    Returns:
        dict(data_root, classes, train=dict(data_root, ann_file, data_prefix), val=dict(...),
        train_folder=dict(data_root, data_prefix) (folder-tree mode), subset_file (relative to data_root),
        subset (the listed names), train_labels / val_labels (lists of int)).
    """
    train_lines, subset, train_labels = [], [], []
    for label, wnid in enumerate(classes):
        for i in range(train_per_class):
            name = f'{wnid}_{i}.JPEG'
            write_image(osp.join(root, 'train', wnid, name), size, seed=label * 1000 + i)
            train_lines.append(f'{wnid}/{name} {label}')
            train_labels.append(label)
            if i < subset_per_class:
                subset.append(name)
    val_lines, val_labels = [], []
    for i in range(val_per_class * len(classes)):
        name = f'ILSVRC2012_val_{i + 1:08d}.JPEG'
        label = i % len(classes)
        write_image(osp.join(root, 'val', name), size, seed=100000 + i)
        val_lines.append(f'{name} {label}')
        val_labels.append(label)
    write_lines(osp.join(root, 'meta', 'train.txt'), train_lines)
    write_lines(osp.join(root, 'meta', 'val.txt'), val_lines)
    write_lines(osp.join(root, 'meta', 'classes.txt'), list(classes))
    for subset_name in ('1percent.txt', '10percent.txt'):
        write_lines(osp.join(root, 'meta', subset_name), subset)
    return dict(
        data_root=root,
        classes=tuple(classes),
        train=dict(data_root=root, ann_file='meta/train.txt', data_prefix=dict(img_path='train')),
        val=dict(data_root=root, ann_file='meta/val.txt', data_prefix=dict(img_path='val')),
        train_folder=dict(data_root=root, data_prefix=dict(img_path='train')),
        subset_file='meta/1percent.txt',
        subset=subset,
        train_labels=train_labels,
        val_labels=val_labels)


def make_places205(root: str, categories: Sequence[str] = PLACES_CATEGORIES, train_per_class: int = 2,
                   val_per_class: int = 1, size: Size = 16) -> dict:
    """A Places205-like tree in the official layout: ``trainvalsplit_places205/{train,val}_places205.csv``
    (``<letter>/<category>/<8 digits>.jpg <label>``) and the images under
    ``data/vision/torralba/deeplearning/images256``.

    Returns:
        dict(data_root, classes (category names without the letter folder), train=dict(data_root, ann_file,
        data_prefix), val=dict(...), train_labels, val_labels).
    """
    result = dict(data_root=root, classes=tuple(c.split('/', 1)[1] for c in categories))
    offset = 0
    for split, per_class in (('train', train_per_class), ('val', val_per_class)):
        lines, labels = [], []
        for label, category in enumerate(categories):
            for i in range(per_class):
                rel = f'{category}/{offset + i:08d}.jpg'
                write_image(osp.join(root, PLACES_PREFIX, rel), size, seed=offset + label * 1000 + i)
                lines.append(f'{rel} {label}')
                labels.append(label)
        offset += 100
        ann_file = f'trainvalsplit_places205/{split}_places205.csv'
        write_lines(osp.join(root, ann_file), lines)
        result[split] = dict(data_root=root, ann_file=ann_file, data_prefix=dict(img_path=PLACES_PREFIX))
        result[f'{split}_labels'] = labels
    return result


def make_inaturalist2018(root: str, num_categories: int = 3, train_per_class: int = 2, val_per_class: int = 1,
                         size: Size = 16, category_ids: Optional[Sequence[int]] = None) -> dict:
    """iNaturalist-2018-like ``train2018.json`` / ``val2018.json`` (COCO-like: images, annotations,
    categories) with images under ``train_val2018/<kingdom>/<category id>/``.

    Args:
        category_ids: ids of the categories (default 0..num_categories-1, as in the real release); pass
            non-contiguous ids to exercise the id -> label mapping.

    Returns:
        dict(data_root, classes, category_ids, train=dict(data_root, ann_file, data_prefix), val=dict(...),
        train_labels, val_labels (labels = rank of the category id)).
    """
    category_ids = list(range(num_categories)) if category_ids is None else list(category_ids)
    categories = [dict(id=cid, name=f'Species {cid}', supercategory='Plantae', kingdom='Plantae')
                  for cid in category_ids]
    result = dict(data_root=root, classes=tuple(c['name'] for c in categories), category_ids=category_ids)
    image_id = 0
    for split, per_class in (('train', train_per_class), ('val', val_per_class)):
        images, annotations, labels = [], [], []
        for label, cid in enumerate(category_ids):
            for i in range(per_class):
                file_name = f'train_val2018/Plantae/{cid}/{split}{i:04d}.jpg'
                write_image(osp.join(root, file_name), size, seed=image_id)
                images.append(dict(id=image_id, file_name=file_name, width=16, height=16))
                annotations.append(dict(id=image_id, image_id=image_id, category_id=cid))
                labels.append(label)
                image_id += 1
        ann_file = f'{split}2018.json'
        with open(osp.join(root, ann_file), 'w') as f:
            json.dump(dict(info={}, images=images, annotations=annotations, categories=categories), f)
        result[split] = dict(data_root=root, ann_file=ann_file, data_prefix=dict(img_path=''))
        result[f'{split}_labels'] = labels
    return result


def voc_xml(objects: Sequence[Tuple[str, bool]], filename: str = '', size: Tuple[int, int] = (16, 16)) -> str:
    """A minimal standard VOC annotation with one ``<object>`` per (class name, difficult) pair."""
    body = ''.join(
        f'  <object>\n    <name>{name}</name>\n    <pose>Unspecified</pose>\n    <truncated>0</truncated>\n'
        f'    <difficult>{int(difficult)}</difficult>\n'
        f'    <bndbox><xmin>1</xmin><ymin>1</ymin><xmax>{size[1]}</xmax><ymax>{size[0]}</ymax></bndbox>\n'
        '  </object>\n' for name, difficult in objects)
    return (f'<annotation>\n  <folder>VOC2007</folder>\n  <filename>{filename}</filename>\n'
            f'  <size><width>{size[1]}</width><height>{size[0]}</height><depth>3</depth></size>\n'
            f'  <segmented>0</segmented>\n{body}</annotation>\n')


def make_voc07(root: str, classes: Sequence[str] = VOC_CLASSES, trainval: int = 8, test: int = 6,
               positives: Optional[Dict[str, int]] = None, with_class_files: bool = True, with_xml: bool = True,
               size: Size = 16, seed: int = 0) -> dict:
    """A VOC2007-like tree under ``root/VOCdevkit/VOC2007``.

    For every split and class, ``positives[split]`` random images (default 3 in trainval, so 3-fold CV works,
    and 2 in test) hold a non-difficult object of the class, and one more image holds only a difficult one
    (image-level label 0). The first positive image of each class also gets an extra difficult object, which must
    not turn its label into 0. Image ids are 6 digits, trainval first, then test.

    Returns:
        dict(data_root (the VOC2007 folder), classes, trainval=dict(data_root, split='trainval',
        metainfo=dict(classes)), test=dict(...), ids={split: [id, ...]}, labels={split: (N, C) int8 matrix in
        VOC encoding}, objects={id: [(name, difficult), ...]}).
    """
    positives = dict(dict(trainval=3, test=2), **(positives or {}))
    voc_root = osp.join(root, 'VOCdevkit', 'VOC2007')
    sets_dir = osp.join(voc_root, 'ImageSets', 'Main')
    rng = np.random.default_rng(seed)
    result = dict(data_root=voc_root, classes=tuple(classes), ids={}, labels={}, objects={})
    next_id = 1
    for split, num in (('trainval', trainval), ('test', test)):
        if num < positives[split] + 1:
            raise ValueError(f'make_voc07: {split} needs at least {positives[split] + 1} images')
        ids = [f'{next_id + i:06d}' for i in range(num)]
        next_id += num
        labels = np.full((num, len(classes)), -1, dtype=np.int8)
        objects: List[List[Tuple[str, bool]]] = [[] for _ in ids]
        for column, name in enumerate(classes):
            chosen = rng.choice(num, positives[split] + 1, replace=False)
            for row in chosen[:-1]:
                objects[row].append((name, False))
                labels[row, column] = 1
            objects[chosen[0]].append((name, True))
            objects[chosen[-1]].append((name, True))
            labels[chosen[-1], column] = 0
        for row, img_id in enumerate(ids):
            write_image(osp.join(voc_root, 'JPEGImages', f'{img_id}.jpg'), size, seed=int(img_id))
            if with_xml:
                write_lines(osp.join(voc_root, 'Annotations', f'{img_id}.xml'),
                            [voc_xml(objects[row], f'{img_id}.jpg', (size, size) if isinstance(size, int) else size)])
            result['objects'][img_id] = objects[row]
        write_lines(osp.join(sets_dir, f'{split}.txt'), ids)
        if with_class_files:
            for column, name in enumerate(classes):
                write_lines(osp.join(sets_dir, f'{name}_{split}.txt'),
                            [f'{img_id} {value:2d}' for img_id, value in zip(ids, labels[:, column])])
        result['ids'][split] = ids
        result['labels'][split] = labels
        result[split] = dict(data_root=voc_root, split=split, metainfo=dict(classes=list(classes)))
    return result


def write_fashion_mnist_idx(idx_dir: str, train_per_class: int = 4, test_per_class: int = 2,
                            compress: bool = True, seed: int = 0) -> str:
    """Write the four Fashion-MNIST idx files (random 28x28 pixels, labels cycling through the 10 classes)."""
    os.makedirs(idx_dir, exist_ok=True)
    rng = np.random.default_rng(seed)
    for prefix, per_class in (('train', train_per_class), ('t10k', test_per_class)):
        labels = np.tile(np.arange(10, dtype=np.uint8), per_class)
        images = rng.integers(0, 256, (len(labels), 28, 28), dtype=np.uint8)
        for kind, array in (('images-idx3', images), ('labels-idx1', labels)):
            header = bytes([0, 0, 8, array.ndim]) + b''.join(d.to_bytes(4, 'big') for d in array.shape)
            path = osp.join(idx_dir, f'{prefix}-{kind}-ubyte')
            opener = gzip.open if compress else open
            with opener(path + ('.gz' if compress else ''), 'wb') as f:
                f.write(header + array.tobytes())
    return idx_dir


def load_converter():
    """The ``prepare_fashion_mnist`` tool as a module (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location('prepare_fashion_mnist', CONVERTER_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_fashion_mnist(root: str, per_class: int = 2, voc07: bool = True, idx_dir: Optional[str] = None) -> dict:
    """The converter's output tree for ``per_class`` train and val images per class.

    Uses the real idx files from ``idx_dir`` when given, else synthetic ones written to ``root/idx``.

    Returns:
        dict(data_root, classes, train=dict(data_root, ann_file='meta/train.txt', data_prefix), val=dict(...),
        voc07=dict(data_root (VOC2007 folder), classes, trainval=dict(...), test=dict(...)) when ``voc07``).
    """
    converter = load_converter()
    if idx_dir is None:
        idx_dir = write_fashion_mnist_idx(osp.join(root, 'idx'), per_class, per_class)
    out = osp.join(root, 'fashion_mnist')
    argv = ['--idx-dir', idx_dir, '--out', out, '--train-per-class', str(per_class), '--val-per-class',
            str(per_class)] + (['--voc07'] if voc07 else [])
    converter.main(argv)
    classes = tuple(converter.CLASSES)
    result = dict(data_root=out, classes=classes,
                  train=dict(data_root=out, ann_file='meta/train.txt', data_prefix=dict(img_path='')),
                  val=dict(data_root=out, ann_file='meta/val.txt', data_prefix=dict(img_path='')))
    if voc07:
        voc_root = osp.join(out, 'VOCdevkit', 'VOC2007')
        result['voc07'] = dict(
            data_root=voc_root, classes=classes,
            **{split: dict(data_root=voc_root, split=split, metainfo=dict(classes=list(classes)))
               for split in ('trainval', 'test')})
    return result


# (category id, name) of the tiny COCO2014 SVM set: non-contiguous ids as in the real files.
COCO2014_SVM_CATEGORIES = ((1, 'person'), (3, 'car'), (18, 'dog'))


def make_coco2014_svm(root: str, convert: bool = True) -> dict:
    """COCO2014 in the official layout, ``annotations/instances_{train,val}2014.json`` and ``{train,val}2014/``,
    with objects that exercise FAIR's label rule, then (``convert``) the SVM labels in ``svm_labels/``.

    Images are 32 wide and 24 high, listed out of file-name order. train2014 (sorted):

    - ``..._000000000001``: a dog of area 0, a car box 1 px wide (degenerate), a person box entirely right of the
      image (degenerate after clipping) - all invalid: negative for every class.
    - ``..._000000000002``: a dog, and a car box reaching past the image border (valid after clipping).
    - ``..._000000000003``: a person, a *crowd* car (valid: the rule does not exclude crowds), a dog flagged
      ``ignore`` (invalid).

    val2014: ``..._000000000004`` a person; ``..._000000000005`` a car and a dog.

    Returns:
        dict(data_root, classes, labels={split: expected (N, 3) labels}, ids={split: sorted ids}).
    """
    def obj(image_id, category_id, bbox, area=50.0, **extra):
        return dict(image_id=image_id, category_id=category_id, bbox=list(bbox), area=area, iscrowd=0,
                    segmentation=[], **extra)

    splits = {
        'train2014': ([3, 1, 2], [
            obj(1, 18, (2, 2, 10, 10), area=0.0), obj(1, 3, (4, 4, 1, 8)), obj(1, 1, (40, 2, 5, 5)),
            obj(2, 18, (1, 1, 12, 12)), obj(2, 3, (25, 10, 20, 20)),
            obj(3, 1, (0, 0, 8, 16)), dict(obj(3, 3, (5, 5, 10, 10)), iscrowd=1), obj(3, 18, (3, 3, 9, 9), ignore=1),
        ]),
        'val2014': ([5, 4], [obj(4, 1, (2, 2, 10, 12)), obj(5, 3, (1, 1, 9, 9)), obj(5, 18, (12, 4, 10, 10))]),
    }
    expected = {'train2014': [[-1, -1, -1], [-1, 1, 1], [1, 1, -1]], 'val2014': [[1, -1, -1], [-1, 1, 1]]}
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    ids = {}
    for split, (image_ids, annotations) in splits.items():
        images = []
        for image_id in image_ids:
            file_name = f'COCO_{split}_{image_id:012d}.jpg'
            write_image(osp.join(root, split, file_name), size=(24, 32), seed=image_id)
            images.append(dict(id=image_id, file_name=file_name, width=32, height=24))
        for i, ann in enumerate(annotations):
            ann['id'] = 100 * image_ids[0] + i
        with open(osp.join(root, 'annotations', f'instances_{split}.json'), 'w') as f:
            json.dump(dict(images=images, annotations=annotations,
                           categories=[dict(id=cid, name=name) for cid, name in COCO2014_SVM_CATEGORIES]), f)
        ids[split] = sorted(f'COCO_{split}_{i:012d}' for i in image_ids)
    if convert:
        from mmssl.datasets.coco import convert_coco_svm_labels
        for split in splits:
            convert_coco_svm_labels(osp.join(root, 'annotations', f'instances_{split}.json'),
                                    osp.join(root, 'svm_labels'), split, osp.join(root, split))
    return dict(data_root=root, classes=[name for _, name in COCO2014_SVM_CATEGORIES],
                labels={k: np.array(v, dtype=np.int8) for k, v in expected.items()}, ids=ids)


def make_all_datasets(root: str) -> dict:
    """Every format above under ``root/<name>``; returns ``{'imagenet': ..., 'places205': ...,
    'inaturalist2018': ..., 'voc07': ..., 'coco2014': ..., 'fashion_mnist': ...}`` with each maker's result."""
    return dict(
        imagenet=make_imagenet(osp.join(root, 'imagenet')),
        places205=make_places205(osp.join(root, 'places205')),
        inaturalist2018=make_inaturalist2018(osp.join(root, 'inat2018')),
        voc07=make_voc07(osp.join(root, 'voc')),
        coco2014=make_coco2014_svm(osp.join(root, 'coco2014')),
        fashion_mnist=make_fashion_mnist(osp.join(root, 'fmnist')))


# Dense-prediction data sets (detection / segmentation benchmarks run by mmdet and mmseg). Their images are
# larger (filters in the shipped configs drop images under 32 px) and hold painted objects that match the labels.
# The 80 COCO 2017 categories with their real (non-contiguous) ids: the annotation files list all of them and
# mmdet maps its 80 labels through them.
COCO_CATEGORIES = (
    (1, 'person'), (2, 'bicycle'), (3, 'car'), (4, 'motorcycle'), (5, 'airplane'), (6, 'bus'), (7, 'train'),
    (8, 'truck'), (9, 'boat'), (10, 'traffic light'), (11, 'fire hydrant'), (13, 'stop sign'), (14, 'parking meter'),
    (15, 'bench'), (16, 'bird'), (17, 'cat'), (18, 'dog'), (19, 'horse'), (20, 'sheep'), (21, 'cow'),
    (22, 'elephant'), (23, 'bear'), (24, 'zebra'), (25, 'giraffe'), (27, 'backpack'), (28, 'umbrella'),
    (31, 'handbag'), (32, 'tie'), (33, 'suitcase'), (34, 'frisbee'), (35, 'skis'), (36, 'snowboard'),
    (37, 'sports ball'), (38, 'kite'), (39, 'baseball bat'), (40, 'baseball glove'), (41, 'skateboard'),
    (42, 'surfboard'), (43, 'tennis racket'), (44, 'bottle'), (46, 'wine glass'), (47, 'cup'), (48, 'fork'),
    (49, 'knife'), (50, 'spoon'), (51, 'bowl'), (52, 'banana'), (53, 'apple'), (54, 'sandwich'), (55, 'orange'),
    (56, 'broccoli'), (57, 'carrot'), (58, 'hot dog'), (59, 'pizza'), (60, 'donut'), (61, 'cake'), (62, 'chair'),
    (63, 'couch'), (64, 'potted plant'), (65, 'bed'), (67, 'dining table'), (70, 'toilet'), (72, 'tv'),
    (73, 'laptop'), (74, 'mouse'), (75, 'remote'), (76, 'keyboard'), (77, 'cell phone'), (78, 'microwave'),
    (79, 'oven'), (80, 'toaster'), (81, 'sink'), (82, 'refrigerator'), (84, 'book'), (85, 'clock'), (86, 'vase'),
    (87, 'scissors'), (88, 'teddy bear'), (89, 'hair drier'), (90, 'toothbrush'),
)
COCO_OBJECT_IDS = (1, 3, 18)  # person, car, dog: the categories that objects are drawn from
VOC_PALETTE_SIZE = 256


def _random_boxes(rng: np.random.Generator, height: int, width: int, num: int, min_side: int = 32) -> List[Tuple]:
    """``num`` boxes (x1, y1, x2, y2), integer pixels, each side at least ``min_side`` (mmdet filters tiny ones)."""
    boxes = []
    for _ in range(num):
        w = int(rng.integers(min_side, width // 2 + min_side // 2 + 1))
        h = int(rng.integers(min_side, height // 2 + min_side // 2 + 1))
        x1 = int(rng.integers(0, width - w + 1))
        y1 = int(rng.integers(0, height - h + 1))
        boxes.append((x1, y1, x1 + w, y1 + h))
    return boxes


def _octagon(box: Tuple[int, int, int, int]) -> List[float]:
    """A polygon inside ``box`` touching all four sides (its bounding box is ``box``), COCO's flat [x, y, ...]."""
    x1, y1, x2, y2 = box
    dx, dy = (x2 - x1) / 4, (y2 - y1) / 4
    points = [(x1 + dx, y1), (x2 - dx, y1), (x2, y1 + dy), (x2, y2 - dy), (x2 - dx, y2), (x1 + dx, y2), (x1, y2 - dy),
              (x1, y1 + dy)]
    return [float(c) for point in points for c in point]


def _polygon_area(flat: Sequence[float]) -> float:
    xs, ys = np.asarray(flat[0::2]), np.asarray(flat[1::2])
    return float(abs(np.dot(xs, np.roll(ys, 1)) - np.dot(ys, np.roll(xs, 1))) / 2)


def _noise_with_shapes(path: str, size: Tuple[int, int], shapes: Sequence[Tuple[Sequence[float], int]],
                       seed: int) -> str:
    """Random-noise image with each (flat polygon, label) painted in a label-dependent flat colour."""
    from PIL import ImageDraw
    height, width = size
    image = Image.fromarray(np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8))
    draw = ImageDraw.Draw(image)
    for polygon, label in shapes:
        colour = tuple(int(c) for c in np.random.default_rng(1000 + label).integers(0, 256, 3))
        draw.polygon([(polygon[i], polygon[i + 1]) for i in range(0, len(polygon), 2)], fill=colour)
    os.makedirs(osp.dirname(path), exist_ok=True)
    image.save(path)
    return path


def make_coco_instances(root: str, num_train: int = 2, num_val: int = 2, size: Tuple[int, int] = (96, 128),
                        categories: Sequence[Tuple[int, str]] = COCO_CATEGORIES,
                        object_ids: Sequence[int] = COCO_OBJECT_IDS, seed: int = 0) -> dict:
    """COCO 2017 instance segmentation: ``annotations/instances_{train,val}2017.json`` and ``{train,val}2017/``.

    Every image (``<12-digit id>.jpg``, ``size`` = (height, width)) holds two objects, each an 8-point polygon
    (``segmentation``, pycocotools' polygon format) with its bounding box, polygon area and ``iscrowd=0``, of a
    category from ``object_ids``. ``categories`` lists every category, as the real files do (default: the 80
    COCO ones with their ids), so configs with the 80 COCO classes map labels to ids correctly.

    Returns:
        dict(data_root, categories, train=dict(ann_file, data_prefix), val=dict(...), num_images={split: n}).
    """
    rng = np.random.default_rng(seed)
    result = dict(data_root=root, categories=list(categories), num_images={})
    image_id = ann_id = 1
    for split, num in (('train', num_train), ('val', num_val)):
        images, annotations = [], []
        for _ in range(num):
            file_name = f'{image_id:012d}.jpg'
            shapes = []
            for box in _random_boxes(rng, size[0], size[1], 2):
                category_id = int(object_ids[rng.integers(len(object_ids))])
                polygon = _octagon(box)
                annotations.append(dict(
                    id=ann_id, image_id=image_id, category_id=category_id, segmentation=[polygon],
                    area=_polygon_area(polygon), bbox=[box[0], box[1], box[2] - box[0], box[3] - box[1]], iscrowd=0))
                shapes.append((polygon, category_id))
                ann_id += 1
            _noise_with_shapes(osp.join(root, f'{split}2017', file_name), size, shapes, seed=image_id)
            images.append(dict(id=image_id, file_name=file_name, height=size[0], width=size[1], license=1))
            image_id += 1
        ann_file = f'annotations/instances_{split}2017.json'
        os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
        with open(osp.join(root, ann_file), 'w') as f:
            json.dump(dict(info=dict(description='mmssl test data', version='1.0', year=2017),
                           licenses=[dict(id=1, name='test', url='')], images=images, annotations=annotations,
                           categories=[dict(id=cid, name=name, supercategory='thing') for cid, name in categories]),
                      f)
        result[split] = dict(ann_file=ann_file, data_prefix=dict(img=f'{split}2017/'))
        result['num_images'][split] = num
    return result


def voc_detection_xml(filename: str, size: Tuple[int, int], objects: Sequence[Tuple[str, Tuple, bool]],
                      folder: str = 'VOC2007') -> str:
    """A standard VOC annotation with one ``<object>`` per (class name, (xmin, ymin, xmax, ymax), difficult)."""
    body = ''.join(
        f'  <object>\n    <name>{name}</name>\n    <pose>Unspecified</pose>\n    <truncated>0</truncated>\n'
        f'    <difficult>{int(difficult)}</difficult>\n    <bndbox><xmin>{box[0] + 1}</xmin><ymin>{box[1] + 1}</ymin>'
        f'<xmax>{box[2]}</xmax><ymax>{box[3]}</ymax></bndbox>\n  </object>\n' for name, box, difficult in objects)
    return (f'<annotation>\n  <folder>{folder}</folder>\n  <filename>{filename}</filename>\n'
            f'  <size><width>{size[1]}</width><height>{size[0]}</height><depth>3</depth></size>\n'
            f'  <segmented>0</segmented>\n{body}</annotation>\n')


def make_voc0712(root: str, trainval07: int = 2, test07: int = 2, trainval12: int = 2,
                 size: Tuple[int, int] = (96, 128), classes: Sequence[str] = ('dog', 'person', 'car'),
                 seed: int = 0) -> dict:
    """VOC2007 + VOC2012 detection under ``root/VOCdevkit`` (the layout mmdet's ``VOCDataset`` reads).

    ``VOC2007/{JPEGImages,Annotations,ImageSets/Main/{trainval,test}.txt}`` (ids ``000001`` ...) and
    ``VOC2012/{JPEGImages,Annotations,ImageSets/Main/trainval.txt}`` (ids ``2008_000001`` ...). Every image has
    two objects of ``classes`` (VOC class names) with boxes of at least 32 px; the second object of the first
    image of each split is marked difficult.

    Returns:
        dict(data_root (the VOCdevkit folder, with trailing slash), ids={'VOC2007/trainval': [...], ...}).
    """
    rng = np.random.default_rng(seed)
    devkit = osp.join(root, 'VOCdevkit') + os.sep
    result = dict(data_root=devkit, ids={})
    for year, split, num in (('VOC2007', 'trainval', trainval07), ('VOC2007', 'test', test07),
                             ('VOC2012', 'trainval', trainval12)):
        base = osp.join(devkit, year)
        offset = sum(len(ids) for key, ids in result['ids'].items() if key.startswith(year))
        ids = [f'{offset + i + 1:06d}' if year == 'VOC2007' else f'2008_{offset + i + 1:06d}' for i in range(num)]
        for index, img_id in enumerate(ids):
            objects = [(classes[int(rng.integers(len(classes)))], box, index == 0 and k == 1)
                       for k, box in enumerate(_random_boxes(rng, size[0], size[1], 2))]
            shapes = [([b[0], b[1], b[2], b[1], b[2], b[3], b[0], b[3]], classes.index(name))
                      for name, b, _ in objects]
            _noise_with_shapes(osp.join(base, 'JPEGImages', f'{img_id}.jpg'), size, shapes,
                               seed=zlib.crc32(img_id.encode()))
            write_lines(osp.join(base, 'Annotations', f'{img_id}.xml'),
                        [voc_detection_xml(f'{img_id}.jpg', size, objects, folder=year)])
        write_lines(osp.join(base, 'ImageSets', 'Main', f'{split}.txt'), ids)
        result['ids'][f'{year}/{split}'] = ids
    return result


def _label_map(rng: np.random.Generator, size: Tuple[int, int], num_classes: int, ignore_border: bool) -> np.ndarray:
    """Background 0 with two rectangles of random classes 1..num_classes-1, optionally 255 around each."""
    height, width = size
    labels = np.zeros((height, width), dtype=np.uint8)
    for x1, y1, x2, y2 in _random_boxes(rng, height, width, 2, min_side=min(height, width) // 4):
        if ignore_border:
            labels[max(y1 - 2, 0):y2 + 2, max(x1 - 2, 0):x2 + 2] = 255
        labels[y1:y2, x1:x2] = rng.integers(1, num_classes)
    return labels


def _voc_palette() -> List[int]:
    """VOC's colour map (bit-interleaved label index), as in its SegmentationClass PNGs."""
    palette = []
    for index in range(VOC_PALETTE_SIZE):
        r = g = b = 0
        c = index
        for shift in range(7, -1, -1):
            r |= (c & 1) << shift
            g |= ((c >> 1) & 1) << shift
            b |= ((c >> 2) & 1) << shift
            c >>= 3
        palette += [r, g, b]
    return palette


def make_voc12aug(root: str, train_aug: int = 3, val: int = 2, size: Tuple[int, int] = (96, 128),
                  seed: int = 0) -> dict:
    """VOC 2012 segmentation with the SBD "aug" labels under ``root/VOCdevkit/VOC2012``.

    ``JPEGImages/<id>.jpg``; ``SegmentationClassAug/<id>.png`` (grey label maps, 0-20 and 255) for every image;
    ``SegmentationClass/<id>.png`` (palette PNGs, as VOC ships them) for the VOC-annotated ones, i.e. the val
    images and the first training image; ``ImageSets/Segmentation/{trainaug,train,val}.txt``.

    Returns:
        dict(data_root (the VOC2012 folder), ids={'train_aug': [...], 'val': [...]}, num_classes=21).
    """
    rng = np.random.default_rng(seed)
    voc_root = osp.join(root, 'VOCdevkit', 'VOC2012')
    ids = dict(train_aug=[f'2008_{i + 1:06d}' for i in range(train_aug)],
               val=[f'2007_{i + 1:06d}' for i in range(val)])
    voc_annotated = set(ids['val']) | set(ids['train_aug'][:1])
    for img_id in ids['train_aug'] + ids['val']:
        labels = _label_map(rng, size, 21, ignore_border=True)
        write_image(osp.join(voc_root, 'JPEGImages', f'{img_id}.jpg'), size, seed=zlib.crc32(img_id.encode()))
        os.makedirs(osp.join(voc_root, 'SegmentationClassAug'), exist_ok=True)
        Image.fromarray(labels).save(osp.join(voc_root, 'SegmentationClassAug', f'{img_id}.png'))
        if img_id in voc_annotated:
            os.makedirs(osp.join(voc_root, 'SegmentationClass'), exist_ok=True)
            image = Image.fromarray(labels)
            image.putpalette(_voc_palette())  # turns the grey label map into a palette ('P') image
            image.save(osp.join(voc_root, 'SegmentationClass', f'{img_id}.png'))
    sets = osp.join(voc_root, 'ImageSets', 'Segmentation')
    write_lines(osp.join(sets, 'trainaug.txt'), ids['train_aug'])
    write_lines(osp.join(sets, 'train.txt'), ids['train_aug'][:1])
    write_lines(osp.join(sets, 'val.txt'), ids['val'])
    return dict(data_root=voc_root, ids=ids, num_classes=21)


def make_cityscapes(root: str, train: int = 2, val: int = 2, size: Tuple[int, int] = (64, 128),
                    cities: Optional[Dict[str, str]] = None, seed: int = 0) -> dict:
    """Cityscapes fine annotations in the official layout (what mmseg's ``CityscapesDataset`` reads).

    ``leftImg8bit/<split>/<city>/<city>_<seq>_<frame>_leftImg8bit.png`` and
    ``gtFine/<split>/<city>/<city>_<seq>_<frame>_gtFine_labelTrainIds.png`` (train ids 0-18, 255 ignored),
    ``size`` = (height, width); the real images are 1024x2048, keep the 1:2 aspect.

    Returns:
        dict(data_root, names={split: [<city>_<seq>_<frame>, ...]}, num_classes=19).
    """
    rng = np.random.default_rng(seed)
    cities = cities or dict(train='aachen', val='frankfurt')
    result = dict(data_root=root, names={}, num_classes=19)
    for split, num in (('train', train), ('val', val)):
        city = cities[split]
        names = [f'{city}_{i:06d}_000019' for i in range(num)]
        for name in names:
            write_image(osp.join(root, 'leftImg8bit', split, city, f'{name}_leftImg8bit.png'), size,
                        seed=zlib.crc32(name.encode()))
            labels = _label_map(rng, size, 19, ignore_border=True)
            label_path = osp.join(root, 'gtFine', split, city, f'{name}_gtFine_labelTrainIds.png')
            os.makedirs(osp.dirname(label_path), exist_ok=True)
            Image.fromarray(labels).save(label_path)
        result['names'][split] = names
    return result


# ----------------------------------------------------------------------------------------------- checkpoint layouts
# Each layout as its own code writes it:
# - MoCo v1 / v2: ``main_moco.py`` saves ``{'epoch', 'arch', 'state_dict': model.state_dict(), 'optimizer'}`` of a
#   DistributedDataParallel-wrapped ``MoCo`` (``encoder_q``, ``encoder_k``, buffers ``queue`` / ``queue_ptr``; the
#   v2 MLP head is ``fc.0`` / ``fc.2``). MoCo v3: the same with ``base_encoder`` / ``momentum_encoder`` /
#   ``predictor``.
# - VISSL: ``classy_state_dict.base_model.model`` with ``trunk`` (the ResNeXt trunk keeps its layers in
#   ``_feature_blocks``) and ``heads``.
# - detectron2: ``convert-pretrain-to-detectron2.py`` pickles ``{'model': {name: numpy array}, '__author__',
#   'matching_heuristics'}`` with ``stem.conv1``, ``resN.B.convK.norm`` and ``shortcut`` names.
# - timm: ``timm.create_model('resnet50').state_dict()`` names ResNet-50 exactly as torchvision does.
# - old torchvision files and VISSL's torchvision conversion have no ``num_batches_tracked``.
def torchvision_resnet50(seed: int = 0):
    """A torchvision ResNet-50 with random weights and random BN statistics (so nothing passes by default)."""
    import torch
    import torchvision
    torch.manual_seed(seed)
    model = torchvision.models.resnet50()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0, 0.1)
                module.running_mean.normal_(0, 0.1)
                module.running_var.uniform_(0.5, 1.5)
                module.num_batches_tracked.fill_(7)
    return model.eval()


def without_counters(state):
    return {k: v for k, v in state.items() if not k.endswith('num_batches_tracked')}


def write_layout(layout: str, state: dict, root) -> str:
    """``state`` (a torchvision ResNet-50 state dict, with fc) written as ``layout``'s own code writes it."""
    import pickle

    import torch

    from mmssl.models.utils.resnet_converters import resnet_to_detectron2
    backbone = {k: v for k, v in state.items() if not k.startswith('fc.')}
    mlp = {'fc.0.weight': torch.zeros(2048, 2048), 'fc.0.bias': torch.zeros(2048),
           'fc.2.weight': torch.zeros(128, 2048), 'fc.2.bias': torch.zeros(128)}
    path = osp.join(root, f'{layout}.pth')
    if layout == 'mmssl':
        content = {'meta': {'epoch': 70},
                   'state_dict': {**{f'backbone.{k}': v for k, v in backbone.items()},
                                  'neck.fc.weight': torch.zeros(4096, 4096 * 2),
                                  'head.fc_cls.weight': torch.zeros(8, 4096)}}
    elif layout == 'backbone':
        content = {'state_dict': backbone}
    elif layout in ('torchvision', 'timm'):
        content = state
    elif layout == 'torchvision-old':
        content = without_counters(state)
    elif layout == 'vissl-torchvision':
        content = without_counters(backbone)
    elif layout == 'moco':
        path = osp.join(root, 'moco_v2_800ep_pretrain.pth.tar')
        encoder = {**backbone, **mlp}
        content = {'epoch': 800, 'arch': 'resnet50', 'optimizer': {'state': {}, 'param_groups': []},
                   'state_dict': {**{f'module.encoder_q.{k}': v for k, v in encoder.items()},
                                  **{f'module.encoder_k.{k}': v.clone() + 1 for k, v in encoder.items()},
                                  'module.queue': torch.zeros(128, 16), 'module.queue_ptr': torch.zeros(1)}}
    elif layout == 'mocov3':
        path = osp.join(root, 'r-50-300ep.pth.tar')
        encoder = {**backbone, **mlp}
        content = {'epoch': 300, 'arch': 'resnet50', 'optimizer': {'state': {}, 'param_groups': []},
                   'state_dict': {**{f'module.base_encoder.{k}': v for k, v in encoder.items()},
                                  **{f'module.momentum_encoder.{k}': v.clone() - 1 for k, v in encoder.items()},
                                  'module.predictor.0.weight': torch.zeros(4096, 256)}}
    elif layout == 'ddp':
        content = {'state_dict': {f'module.{k}': v for k, v in state.items()}}
    elif layout == 'vissl':
        path = osp.join(root, 'model_final_checkpoint_phase199.torch')
        content = {'phase_idx': 199, 'iteration': 1000, 'type': 'checkpoint',
                   'classy_state_dict': {'base_model': {'model': {
                       'trunk': {f'_feature_blocks.{k}': v for k, v in backbone.items()},
                       'heads': {'0.clf.0.weight': torch.zeros(128, 2048)}}}}}
    elif layout == 'detectron2':
        path = osp.join(root, 'moco_v2_800ep.pkl')
        with open(path, 'wb') as f:
            pickle.dump({'model': resnet_to_detectron2(backbone), '__author__': 'MOCO',
                         'matching_heuristics': True}, f)
        return path
    else:
        raise KeyError(layout)
    torch.save(content, path)
    return path


LAYOUTS = {'mmssl': 'mmssl', 'backbone': 'backbone', 'torchvision': 'torchvision', 'timm': 'torchvision',
           'torchvision-old': 'torchvision', 'vissl-torchvision': 'backbone', 'moco': 'moco', 'mocov3': 'mocov3',
           'ddp': 'ddp', 'vissl': 'vissl', 'detectron2': 'detectron2'}


@contextlib.contextmanager
def hold_work_dir_lock(work_dir) -> Iterator[subprocess.Popen]:
    """Another process (``python -c ... HOLDER-MARK``) holding the lock of ``work_dir`` for the ``with`` block."""
    code = ('import sys; from mmssl.utils.work_dir_lock import work_dir_lock\n'
            'with work_dir_lock(sys.argv[1]):\n    print("locked", flush=True); sys.stdin.read()')
    env = dict(os.environ, PYTHONPATH=REPO_ROOT)
    holder = subprocess.Popen([sys.executable, '-c', code, str(work_dir), 'HOLDER-MARK'], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert holder.stdout.readline().strip() == 'locked', 'the lock holder did not start'
        yield holder
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)


def tiny_train_config(data: dict, work_dir, max_iters: int = 4, interval: int = 2, **overrides):
    """An mmengine config that fine-tunes a ResNet-18 classifier on ``data`` (a :func:`make_imagenet` result) for
    ``max_iters`` iterations of 2 images, saving ``iter_N.pth`` every ``interval``; no validation. Trains in
    about a second per iteration on one core."""
    from mmengine.config import Config
    cfg = dict(
        default_scope='mmssl',
        work_dir=str(work_dir),
        model=dict(type='ImageClassifier', frozen_backbone=False,
                   backbone=dict(type='ResNet', depth=18, norm_cfg=dict(type='BN')),
                   head=dict(type='ClsHead', in_channels=512, num_classes=len(data['classes']), with_avg_pool=True)),
        train_dataloader=dict(
            batch_size=2, num_workers=0, sampler=dict(type='InfiniteSampler', shuffle=False),
            dataset=dict(type='ImageList', **data['train'], with_label=True,
                         pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')])),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters),
        optim_wrapper=dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=interval,
                                           max_keep_ckpts=10),
                           logger=dict(type='LoggerHook', interval=1)),
        log_processor=dict(by_epoch=False),
        randomness=dict(seed=0),
        env_cfg=dict(dist_cfg=dict(backend='gloo')),
        launcher='none',
        load_from=None,
        resume=False)
    cfg.update(overrides)
    return Config(cfg)

"""Tiny classification data sets in their official on-disk layouts.

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
:func:`make_all_datasets`    the sets above and Fashion-MNIST (:mod:`builders.fashion_mnist`) under one root
===========================  ==========================================================================
"""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from builders.fashion_mnist import make_fashion_mnist
from builders.files import Size, write_image, write_lines

from mmssl.datasets.voc import VOC_CLASSES

IMAGENET_WNIDS = ('n01440764', 'n01443537', 'n01484850')
PLACES_CATEGORIES = ('a/abbey', 'a/airport_terminal', 'b/bakery/shop')
PLACES_PREFIX = 'data/vision/torralba/deeplearning/images256'


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

"""Dense-prediction data sets (the detection / segmentation benchmarks run by mmdet and mmseg) in their official
layouts.

===========================  ==========================================================================
:func:`make_coco_instances`  ``annotations/instances_{train,val}2017.json`` (polygons) and ``{train,val}2017/``
:func:`make_voc0712`         ``VOCdevkit/VOC{2007,2012}/{JPEGImages,Annotations,ImageSets/Main}`` (detection)
:func:`make_voc12aug`        ``VOCdevkit/VOC2012/{JPEGImages,SegmentationClass,SegmentationClassAug}``, lists in
                             ``ImageSets/Segmentation/{trainaug,train,val}.txt``
:func:`make_cityscapes`      ``leftImg8bit/<split>/<city>/*_leftImg8bit.png``,
                             ``gtFine/<split>/<city>/*_gtFine_labelTrainIds.png``
:func:`make_ade20k`          ``ADEChallengeData2016/{images,annotations}/{training,validation}/ADE_*.{jpg,png}``
===========================  ==========================================================================

Their images are larger than the classification ones (filters in the shipped configs drop images under 32 px) and
hold painted objects that match the labels.
"""
import json
import os
import os.path as osp
import zlib
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from builders.files import write_image, write_lines
from PIL import Image

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


def make_ade20k(root: str, train: int = 2, val: int = 2, size: Tuple[int, int] = (64, 96), seed: int = 0) -> dict:
    """ADE20K (SceneParsing, as mmseg's ``ADE20KDataset`` reads it) under ``root/ADEChallengeData2016``.

    ``images/{training,validation}/ADE_{train,val}_<8 digits>.jpg`` and ``annotations/.../<same name>.png``: grey
    label maps holding 0 ("other", ignored after ``reduce_zero_label``) and two rectangles of classes 1-150.

    Returns:
        dict(data_root (the ADEChallengeData2016 folder), names={'training': [...], 'validation': [...]},
        num_classes=150).
    """
    rng = np.random.default_rng(seed)
    ade_root = osp.join(root, 'ADEChallengeData2016')
    result = dict(data_root=ade_root, names={}, num_classes=150)
    for split, prefix, num in (('training', 'ADE_train', train), ('validation', 'ADE_val', val)):
        names = [f'{prefix}_{i + 1:08d}' for i in range(num)]
        for name in names:
            write_image(osp.join(ade_root, 'images', split, f'{name}.jpg'), size, seed=zlib.crc32(name.encode()))
            label_path = osp.join(ade_root, 'annotations', split, f'{name}.png')
            os.makedirs(osp.dirname(label_path), exist_ok=True)
            Image.fromarray(_label_map(rng, size, 151, ignore_border=False)).save(label_path)
        result['names'][split] = names
    return result

import os.path as osp
import xml.etree.ElementTree as ET
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from mmssl.constants import VOC_CLASSES
from mmssl.registry import DATASETS

from .base_dataset import BaseImageDataset
from .utils import check_images_exist, read_lines, require_dir, require_file

# VOC encoding of an image-level label, as in the devkit's <class>_<split>.txt files.
POSITIVE, NEGATIVE, DIFFICULT = 1, -1, 0


def parse_voc_xml(path: str) -> List[Tuple[str, bool]]:
    """The ``(class name, difficult)`` pair of every ``<object>`` in a VOC annotation file."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as error:
        raise ValueError(f'{path}: not a valid VOC XML annotation ({error})') from None
    objects = []
    for i, obj in enumerate(root.iter('object')):
        name = obj.findtext('name')
        if not name or not name.strip():
            raise ValueError(f'{path}: <object> number {i + 1} has no <name>')
        difficult = (obj.findtext('difficult') or '0').strip()
        if difficult not in ('0', '1'):
            raise ValueError(f'{path}: <object> {name.strip()!r} has <difficult>{difficult}</difficult>, '
                             'expected 0 or 1')
        objects.append((name.strip(), difficult == '1'))
    return objects


def voc_encode(objects: Sequence[Tuple[str, bool]], classes: Sequence[str], where: str) -> np.ndarray:
    """Image-level VOC label from object annotations: 1 where a class has a non-difficult object, 0 where all
    its objects are difficult, -1 where it is absent (the rule behind the devkit's class files)."""
    label = np.full(len(classes), NEGATIVE, dtype=np.int8)
    for name, difficult in objects:
        if name not in classes:
            raise ValueError(f'{where}: object class {name!r} is not one of the {len(classes)} classes '
                             '(set metainfo=dict(classes=...))')
        index = classes.index(name)
        if not difficult:
            label[index] = POSITIVE
        elif label[index] == NEGATIVE:
            label[index] = DIFFICULT
    return label


@DATASETS.register_module()
class VOC07Classification(BaseImageDataset):
    """PASCAL VOC 2007 as a multi-label classification data set (the VOC07 SVM benchmark), keeping the
    difficult flag.

    Layout (``data_root='data/VOCdevkit/VOC2007/'``)::

        ImageSets/Main/<split>.txt            image ids, one per line ('000005')
        ImageSets/Main/<class>_<split>.txt    '<id> <1|-1|0>' per line (0 = only difficult instances)
        JPEGImages/<id>.jpg
        Annotations/<id>.xml                  standard VOC XML (<object><name>, <difficult>)

    Label source (``label_source``): ``'class_files'`` reads the per-class lists, the files the benchmark
    protocol is defined on; ``'xml'`` derives the same encoding from the XML objects (see :func:`voc_encode`),
    for trees that ship only annotations; ``'auto'`` takes the class files when there are any (all of them
    must then exist) and the XML when there are none. With class files as the source, ``xml_check=True`` and
    an ``Annotations`` folder present, every image's labels are also derived from its XML (ignoring objects of
    classes outside the configured list) and any disagreement is an error, which catches class files from
    another release or split.

    Class names default to the 20 VOC classes (:data:`VOC_CLASSES`); ``metainfo=dict(classes=[...])`` selects
    another list in the same layout (e.g. the 10-class Fashion-MNIST demo), and with class files only those
    classes' files are read.

    Each data info holds:

    - ``img_path`` (str): full path of the image; ``img_id`` (str): its VOC id.
    - ``gt_label`` (np.int8 array of length num_classes): VOC encoding, 1 positive, -1 negative, 0 difficult.
    - ``positive_labels`` / ``difficult_labels`` (list of int): the class indices encoded 1 / 0.
    - ``sample_idx`` (int): added by mmengine.

    Errors name the file and line or id: missing data root, split list, class file or XML file; malformed lines;
    duplicate ids; a class file whose ids differ from the split list; an XML object of an unknown class; a
    class-file / XML disagreement; and (``check_exists=True``) a missing image.

    Args:
        data_root: the ``VOC2007`` folder.
        split: image set name, e.g. ``'trainval'``, ``'test'``, ``'train'``, ``'val'``.
        metainfo: extra meta information, e.g. ``dict(classes=(...))``.
        data_prefix: image folder relative to ``data_root`` (str or ``dict(img_path=...)``).
        image_set_dir: folder of the split and class lists, relative to ``data_root``.
        ann_subdir: folder of the XML annotations, relative to ``data_root``.
        label_source: ``'auto'``, ``'class_files'`` or ``'xml'``, see above.
        xml_check: cross-check class files against the XML annotations when both exist.
        img_suffix: file suffix of the images.
        check_exists: check that every image exists (see :class:`BaseImageDataset`).
        **kwargs: passed on to :class:`mmengine.dataset.BaseDataset`.
    """

    METAINFO = dict(classes=VOC_CLASSES)

    def __init__(self,
                 data_root: str,
                 split: str = 'trainval',
                 metainfo: Optional[dict] = None,
                 data_prefix: Union[str, dict] = 'JPEGImages',
                 image_set_dir: str = 'ImageSets/Main',
                 ann_subdir: str = 'Annotations',
                 label_source: str = 'auto',
                 xml_check: bool = True,
                 img_suffix: str = '.jpg',
                 check_exists: bool = True,
                 **kwargs):
        if label_source not in ('auto', 'class_files', 'xml'):
            raise ValueError(f"VOC07Classification: label_source must be 'auto', 'class_files' or 'xml', "
                             f'got {label_source!r}')
        if not data_root:
            raise ValueError('VOC07Classification: data_root (the VOC2007 folder) is required')
        self.split = split
        self.image_set_dir = osp.join(data_root, image_set_dir)
        self.ann_dir = osp.join(data_root, ann_subdir)
        self.label_source = label_source
        self.xml_check = xml_check
        self.img_suffix = img_suffix
        super().__init__(ann_file=osp.join(image_set_dir, f'{split}.txt'), metainfo=metainfo, data_root=data_root,
                         data_prefix=data_prefix, check_exists=check_exists, **kwargs)

    def load_data_list(self) -> List[dict]:
        owner = type(self).__name__
        require_dir(self.data_root, 'data root', owner)
        classes = self._given_classes()
        self._metainfo['classes'] = classes
        line_of = self._read_ids()
        ids = list(line_of)
        class_files = [osp.join(self.image_set_dir, f'{name}_{self.split}.txt') for name in classes]
        use_class_files = self.label_source == 'class_files' or (
            self.label_source == 'auto' and any(osp.isfile(path) for path in class_files))

        if use_class_files:
            labels, class_lines = self._read_class_files(class_files, line_of)
            if self.xml_check and osp.isdir(self.ann_dir):
                self._check_against_xml(ids, labels, class_files, class_lines)
        else:
            require_dir(self.ann_dir, 'annotation folder (needed when there are no class files)', owner)
            labels = np.stack([voc_encode(parse_voc_xml(self._xml_path(img_id)), classes, self._xml_path(img_id))
                               for img_id in ids])

        paths = [osp.join(self.img_prefix, img_id + self.img_suffix) for img_id in ids]
        if self.check_exists:
            check_images_exist(paths, lambda i: f'{self.ann_file}, line {line_of[ids[i]]}', owner)
        return [
            dict(img_path=path, img_id=img_id, gt_label=label,
                 positive_labels=np.flatnonzero(label == POSITIVE).tolist(),
                 difficult_labels=np.flatnonzero(label == DIFFICULT).tolist())
            for path, img_id, label in zip(paths, ids, labels)
        ]

    def _xml_path(self, img_id: str) -> str:
        path = osp.join(self.ann_dir, f'{img_id}.xml')
        require_file(path, 'annotation', type(self).__name__)
        return path

    def _read_ids(self) -> Dict[str, int]:
        """Image ids of the split, in file order, mapped to their line numbers."""
        line_of: Dict[str, int] = {}
        for line_number, tokens in read_lines(self.ann_file, 'image set file', type(self).__name__):
            where = f'{self.ann_file}, line {line_number}'
            if len(tokens) != 1:
                raise ValueError(f"{where}: malformed line {' '.join(tokens)!r}, expected one image id")
            if tokens[0] in line_of:
                raise ValueError(f'{where}: image id {tokens[0]!r} repeats line {line_of[tokens[0]]}')
            line_of[tokens[0]] = line_number
        if not line_of:
            raise ValueError(f'{self.ann_file}: lists no images')
        return line_of

    def _read_class_files(self, class_files: List[str],
                          line_of: Dict[str, int]) -> Tuple[np.ndarray, List[Dict[str, int]]]:
        """The (N, C) label matrix from the per-class lists, and each list's id -> line number map."""
        row_of = {img_id: row for row, img_id in enumerate(line_of)}
        labels = np.zeros((len(row_of), len(class_files)), dtype=np.int8)
        class_lines = []
        for column, path in enumerate(class_files):
            lines: Dict[str, int] = {}
            for line_number, tokens in read_lines(path, 'class file', type(self).__name__):
                where = f'{path}, line {line_number}'
                if len(tokens) != 2 or tokens[1] not in ('1', '-1', '0'):
                    raise ValueError(f"{where}: malformed line {' '.join(tokens)!r}, expected '<id> <1|-1|0>'")
                img_id = tokens[0]
                if img_id not in row_of:
                    raise ValueError(f'{where}: image id {img_id!r} is not in the image set file {self.ann_file}')
                if img_id in lines:
                    raise ValueError(f'{where}: image id {img_id!r} repeats line {lines[img_id]}')
                lines[img_id] = line_number
                labels[row_of[img_id], column] = int(tokens[1])
            if len(lines) != len(row_of):
                missing = next(img_id for img_id in row_of if img_id not in lines)
                raise ValueError(f'{path}: image id {missing!r} (line {line_of[missing]} of {self.ann_file}) is '
                                 f'missing; the class file lists {len(lines)} of {len(row_of)} images')
            class_lines.append(lines)
        return labels, class_lines

    def _check_against_xml(self, ids: List[str], labels: np.ndarray, class_files: List[str],
                           class_lines: List[Dict[str, int]]) -> None:
        classes = self._metainfo['classes']
        for img_id, label in zip(ids, labels):
            xml_path = self._xml_path(img_id)
            # Objects of classes outside the configured list are irrelevant to the check.
            objects = [obj for obj in parse_voc_xml(xml_path) if obj[0] in classes]
            expected = voc_encode(objects, classes, xml_path)
            mismatches = np.flatnonzero(expected != label)
            if mismatches.size:
                column = mismatches[0]
                raise ValueError(
                    f'{class_files[column]}, line {class_lines[column][img_id]}: image {img_id} is {label[column]} '
                    f'for {classes[column]!r} but {xml_path} gives {expected[column]} (pass xml_check=False to '
                    'trust the class files)')

    def get_cat_ids(self, idx: int) -> List[int]:
        """Positive class indices of sample ``idx``, for class-balanced wrappers."""
        return self.get_data_info(idx)['positive_labels']

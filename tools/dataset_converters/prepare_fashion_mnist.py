"""Turn the Fashion-MNIST idx files into the on-disk formats mmssl's benchmarks read: a small real-image demo.

Fashion-MNIST (Debian package ``dataset-fashion-mnist``) has 70,000 real 28x28 greyscale product photos in 10
classes. This script writes:

(a) an ImageNet-style tree, readable by ``ImageNet`` / ``ImageList`` as a folder or through the lists::

        OUT/train/<class>/<n>.png     n = the image's index in the Fashion-MNIST training file (5 digits)
        OUT/val/<class>/<n>.png       n = index in the t10k (test) file
        OUT/meta/train.txt            'train/<class>/<n>.png <label>' per line (paths relative to OUT)
        OUT/meta/val.txt              'val/<class>/<n>.png <label>'
        OUT/meta/classes.txt          the 10 class names in label order

(b) with ``--voc07``, a VOC2007-style multi-label tree for the SVM demo (``VOC07Classification`` with
    ``metainfo=dict(classes=<the 10 names>)``)::

        OUT/VOCdevkit/VOC2007/JPEGImages/<id>.jpg
        OUT/VOCdevkit/VOC2007/Annotations/<id>.xml                  standard VOC XML, one <object> per item
        OUT/VOCdevkit/VOC2007/ImageSets/Main/{trainval,test}.txt
        OUT/VOCdevkit/VOC2007/ImageSets/Main/<class>_{trainval,test}.txt   '<id> <1|-1|0>'

    Every VOC image is a 2x2 mosaic (2*size pixels square) holding 1 to 4 Fashion-MNIST items in random cells
    (empty cells stay black), so an image can show several classes. The items are exactly those selected for
    (a): trainval mosaics use the train selection, test mosaics the val selection, each item once. Each item is
    marked difficult with probability ``--difficult-fraction``; a difficult item is drawn at 30 % brightness, so
    the flag means what it means in VOC (hard to recognise). Image-level labels follow the devkit rule: 1 if a
    class has a non-difficult item, 0 if all its items are difficult, -1 if absent. Bounding boxes are the
    item's cell. (The rule is ``mmssl.datasets.voc.voc_encode``, which the data set uses to check the files.)

Folder-tree mode sorts class folders alphabetically; pass ``metainfo=dict(classes='OUT/meta/classes.txt')`` to
keep the label order of the lists.

Selection is seeded: for each class a fixed random permutation of its images (independent streams for train
and val) is cut at ``--*-per-class``, so a larger count gives a superset. ``all`` converts everything.

Re-running is cheap and idempotent: files whose bytes would not change are not rewritten, and images this
script wrote earlier that are no longer selected are removed, so the folder tree always matches the lists.
"""
import argparse
import gzip
import io
import os
import os.path as osp
import re
import sys
import xml.etree.ElementTree as ET
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.utils import ProgressBar
from PIL import Image

from mmssl.datasets.voc import voc_encode
from mmssl.utils.cli_errors import run_cli

DEFAULT_IDX_DIR = '/usr/share/datasets/fashion-mnist/'
# Official names: T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot;
# written here as single tokens so they work as folder names and in VOC '<class>_<split>.txt' file names.
CLASSES = ('tshirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankleboot')
SPLITS = {'train': 'train', 'val': 't10k'}  # output split -> idx file prefix
DIFFICULT_BRIGHTNESS = 0.3
OWN_IMAGE = re.compile(r'^\d{5}\.png$')
OWN_VOC_FILE = re.compile(r'^\d{6}\.(jpg|xml)$')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--idx-dir', default=DEFAULT_IDX_DIR,
                        help='folder with {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] (default %(default)s)')
    parser.add_argument('--out', default='data/fashion_mnist', help='output folder (default %(default)s)')
    parser.add_argument('--train-per-class', type=per_class_count, default=100,
                        help="training images per class, or 'all' (6000) (default %(default)s)")
    parser.add_argument('--val-per-class', type=per_class_count, default=50,
                        help="validation images per class from the test file, or 'all' (1000) "
                        '(default %(default)s)')
    parser.add_argument('--size', type=int, default=28,
                        help='side of the written images in pixels; 28 keeps the originals, larger values '
                        'upscale bicubically (default %(default)s)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the selection and the mosaics')
    parser.add_argument('--voc07', action='store_true', help='also write the VOC2007-style multi-label tree')
    parser.add_argument('--difficult-fraction', type=float, default=0.15,
                        help='probability that a VOC mosaic item is marked difficult (default %(default)s)')
    args = parser.parse_args(argv)
    if args.size < 1:
        parser.error('--size must be positive')
    if not 0 <= args.difficult_fraction <= 1:
        parser.error('--difficult-fraction must be in [0, 1]')
    return args


def per_class_count(text: str) -> Optional[int]:
    """argparse type: a positive int, or 'all' (None)."""
    if text == 'all':
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer or 'all', got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer or 'all', got {text!r}")
    return value


def find_idx_file(idx_dir: str, stem: str) -> str:
    for name in (stem + '.gz', stem):
        if osp.isfile(osp.join(idx_dir, name)):
            return osp.join(idx_dir, name)
    raise FileNotFoundError(
        f'Fashion-MNIST file {stem}[.gz] not found in {idx_dir!r}. Install the data with '
        "'apt-get install dataset-fashion-mnist' (files under /usr/share/datasets/fashion-mnist/) or pass "
        '--idx-dir to a folder holding the four idx files.')


def read_idx(path: str) -> np.ndarray:
    """An unsigned-byte idx array (the MNIST container format) from a plain or gzipped file."""
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as f:
        data = f.read()
    if len(data) < 4 or data[:3] != b'\x00\x00\x08':
        raise ValueError(f'{path}: not an unsigned-byte idx file (header {data[:4].hex()})')
    ndim = data[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim))
    if len(data) != header + int(np.prod(shape)):
        raise ValueError(f'{path}: header says shape {shape} but the file holds {len(data) - header} bytes')
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def load_split(idx_dir: str, prefix: str) -> Tuple[np.ndarray, np.ndarray]:
    """(N, 28, 28) images and (N,) labels of the idx files starting with ``prefix``."""
    images = read_idx(find_idx_file(idx_dir, f'{prefix}-images-idx3-ubyte'))
    labels_path = find_idx_file(idx_dir, f'{prefix}-labels-idx1-ubyte')
    labels = read_idx(labels_path)
    if images.ndim != 3 or labels.shape != images.shape[:1] or labels.max() >= len(CLASSES):
        raise ValueError(f'{labels_path}: {labels.shape} labels (max {labels.max()}) do not fit '
                         f'{images.shape} images of {len(CLASSES)} classes')
    return images, labels


def select_per_class(labels: np.ndarray, per_class: Optional[int], rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of ``per_class`` random images of every class (all with None)."""
    chosen = []
    for label in range(len(CLASSES)):
        candidates = rng.permutation(np.flatnonzero(labels == label))
        if per_class is not None and per_class > len(candidates):
            raise ValueError(f'asked for {per_class} images of class {CLASSES[label]!r}, only {len(candidates)} '
                             'exist')
        chosen.append(candidates[:per_class])
    return np.sort(np.concatenate(chosen))


def to_pil(pixels: np.ndarray, size: int) -> Image.Image:
    img = Image.fromarray(pixels)
    return img if size == pixels.shape[0] else img.resize((size, size), Image.Resampling.BICUBIC)


def encode(img: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=fmt, **({'quality': 95} if fmt == 'JPEG' else {}))
    return buffer.getvalue()


def write_if_changed(path: str, data: bytes) -> bool:
    """Write ``data`` atomically unless ``path`` already holds exactly these bytes; True when written."""
    if osp.isfile(path) and osp.getsize(path) == len(data):
        with open(path, 'rb') as f:
            if f.read() == data:
                return False
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'wb') as f:
        f.write(data)
    os.replace(tmp, path)
    return True


def remove_stale(folder: str, keep: set, pattern: re.Pattern) -> int:
    """Delete files this script wrote earlier (names matching ``pattern``) that are not in ``keep``."""
    removed = 0
    for name in os.listdir(folder):
        if pattern.match(name) and name not in keep:
            os.remove(osp.join(folder, name))
            removed += 1
    return removed


def write_text(path: str, lines: List[str]) -> None:
    write_if_changed(path, ''.join(line + '\n' for line in lines).encode())


def write_classification_split(out: str, split: str, images: np.ndarray, labels: np.ndarray, indices: np.ndarray,
                               size: int) -> int:
    """Write OUT/<split>/<class>/<n>.png and OUT/meta/<split>.txt; returns the number of files (re)written."""
    print(f'{split}: {len(indices)} images')
    names: Dict[str, set] = {name: set() for name in CLASSES}
    lines, written = [], 0
    for name in CLASSES:
        os.makedirs(osp.join(out, split, name), exist_ok=True)
    progress = ProgressBar(len(indices))
    for index in indices:
        class_name = CLASSES[labels[index]]
        file_name = f'{index:05d}.png'
        names[class_name].add(file_name)
        written += write_if_changed(osp.join(out, split, class_name, file_name),
                                    encode(to_pil(images[index], size), 'PNG'))
        lines.append((labels[index], f'{split}/{class_name}/{file_name} {labels[index]}'))
        progress.update()
    print()
    for class_name, keep in names.items():
        remove_stale(osp.join(out, split, class_name), keep, OWN_IMAGE)
    write_text(osp.join(out, 'meta', f'{split}.txt'), [line for _, line in sorted(lines)])
    return written


def plan_mosaics(indices: np.ndarray, rng: np.random.Generator,
                 difficult_fraction: float) -> List[List[Tuple[int, int, bool]]]:
    """Group the items into mosaics: a list of [(item index, cell 0..3, difficult)] per image."""
    order = rng.permutation(indices)
    mosaics, start = [], 0
    while start < len(order):
        count = int(rng.integers(1, 5))
        items = order[start:start + count]
        cells = rng.permutation(4)[:len(items)]
        difficult = rng.random(len(items)) < difficult_fraction
        mosaics.append([(int(item), int(cell), bool(flag)) for item, cell, flag in zip(items, cells, difficult)])
        start += count
    return mosaics


def render_mosaic(images: np.ndarray, mosaic: List[Tuple[int, int, bool]], size: int) -> Image.Image:
    canvas = np.zeros((2 * size, 2 * size), dtype=np.uint8)
    for item, cell, difficult in mosaic:
        pixels = np.asarray(to_pil(images[item], size), dtype=np.float32)
        if difficult:
            pixels *= DIFFICULT_BRIGHTNESS
        row, col = divmod(cell, 2)
        canvas[row * size:(row + 1) * size, col * size:(col + 1) * size] = np.round(pixels).astype(np.uint8)
    # VOC images are 3-channel; readers that assume depth 3 then work unchanged.
    return Image.fromarray(canvas).convert('RGB')


def voc_xml(img_id: str, objects: List[Tuple[str, int, bool]], size: int) -> bytes:
    """A standard VOC annotation; ``objects`` are (class name, cell, difficult)."""
    root = ET.Element('annotation')
    ET.SubElement(root, 'folder').text = 'VOC2007'
    ET.SubElement(root, 'filename').text = f'{img_id}.jpg'
    source = ET.SubElement(root, 'source')
    ET.SubElement(source, 'database').text = 'Fashion-MNIST mosaics (mmssl demo)'
    image_size = ET.SubElement(root, 'size')
    for tag, value in (('width', 2 * size), ('height', 2 * size), ('depth', 3)):
        ET.SubElement(image_size, tag).text = str(value)
    ET.SubElement(root, 'segmented').text = '0'
    for name, cell, difficult in objects:
        row, col = divmod(cell, 2)
        obj = ET.SubElement(root, 'object')
        ET.SubElement(obj, 'name').text = name
        ET.SubElement(obj, 'pose').text = 'Unspecified'
        ET.SubElement(obj, 'truncated').text = '0'
        ET.SubElement(obj, 'difficult').text = str(int(difficult))
        box = ET.SubElement(obj, 'bndbox')
        # VOC boxes are 1-based and inclusive.
        for tag, value in (('xmin', col * size + 1), ('ymin', row * size + 1), ('xmax', (col + 1) * size),
                           ('ymax', (row + 1) * size)):
            ET.SubElement(box, tag).text = str(value)
    ET.indent(root)
    return ET.tostring(root, encoding='utf-8') + b'\n'


def write_voc07(out: str, splits: Dict[str, Tuple[np.ndarray, np.ndarray, np.ndarray]], size: int, seed: int,
                difficult_fraction: float) -> str:
    """Write the VOC2007-style tree; ``splits`` maps 'trainval' / 'test' to (images, labels, selected indices)."""
    root = osp.join(out, 'VOCdevkit', 'VOC2007')
    dirs = {name: osp.join(root, sub) for name, sub in
            (('img', 'JPEGImages'), ('ann', 'Annotations'), ('sets', osp.join('ImageSets', 'Main')))}
    for folder in dirs.values():
        os.makedirs(folder, exist_ok=True)
    next_id, kept = 1, set()
    for stream, (split, (images, labels, indices)) in enumerate(splits.items()):
        mosaics = plan_mosaics(indices, np.random.default_rng([seed, 2 + stream]), difficult_fraction)
        print(f'VOC07 {split}: {len(mosaics)} mosaics of {len(indices)} items')
        ids, rows = [], []
        progress = ProgressBar(len(mosaics))
        for mosaic in mosaics:
            img_id = f'{next_id:06d}'
            next_id += 1
            objects = [(CLASSES[labels[item]], cell, difficult) for item, cell, difficult in mosaic]
            jpeg = encode(render_mosaic(images, mosaic, size), 'JPEG')
            write_if_changed(osp.join(dirs['img'], f'{img_id}.jpg'), jpeg)
            write_if_changed(osp.join(dirs['ann'], f'{img_id}.xml'), voc_xml(img_id, objects, size))
            kept.update((f'{img_id}.jpg', f'{img_id}.xml'))
            ids.append(img_id)
            rows.append(voc_encode([(name, difficult) for name, _, difficult in objects], CLASSES, img_id))
            progress.update()
        print()
        write_text(osp.join(dirs['sets'], f'{split}.txt'), ids)
        matrix = np.stack(rows)
        for column, name in enumerate(CLASSES):
            write_text(osp.join(dirs['sets'], f'{name}_{split}.txt'),
                       [f'{img_id} {value:2d}' for img_id, value in zip(ids, matrix[:, column])])
        print(f'  positives per class {(matrix == 1).sum(0).tolist()}, difficult-only {(matrix == 0).sum(0).tolist()}')
    remove_stale(dirs['img'], kept, OWN_VOC_FILE)
    remove_stale(dirs['ann'], kept, OWN_VOC_FILE)
    return root


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    os.makedirs(osp.join(args.out, 'meta'), exist_ok=True)
    write_text(osp.join(args.out, 'meta', 'classes.txt'), list(CLASSES))
    selected = {}
    for stream, (split, prefix) in enumerate(SPLITS.items()):
        images, labels = load_split(args.idx_dir, prefix)
        per_class = args.train_per_class if split == 'train' else args.val_per_class
        # One random stream per split, so the val selection does not depend on --train-per-class.
        indices = select_per_class(labels, per_class, np.random.default_rng([args.seed, stream]))
        write_classification_split(args.out, split, images, labels, indices, args.size)
        selected[split] = (images, labels, indices)
    print(f'ImageNet-style data in {args.out}: train/, val/, meta/{{train,val,classes}}.txt')
    if args.voc07:
        root = write_voc07(args.out, {'trainval': selected['train'], 'test': selected['val']}, args.size,
                           args.seed, args.difficult_fraction)
        print(f'VOC07-style data in {root}')


if __name__ == '__main__':
    sys.exit(run_cli(main))

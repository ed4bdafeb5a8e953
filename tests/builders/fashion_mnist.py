"""Fashion-MNIST as its converter writes it: synthetic (or real) idx files through
``tools/dataset_converters/prepare_fashion_mnist.py``."""
import gzip
import importlib.util
import os
import os.path as osp
from typing import Optional

import numpy as np
from builders import REPO_ROOT

CONVERTER_PATH = osp.join(REPO_ROOT, 'tools', 'dataset_converters', 'prepare_fashion_mnist.py')
FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist/'


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

import glob
import gzip
import os
import os.path as osp

import numpy as np
import pytest
from builders.fashion_mnist import FASHION_MNIST_DIR, load_converter, write_fashion_mnist_idx
from PIL import Image

from mmssl.datasets import ImageNet, VOC07Classification

converter = load_converter()
CLASSES = converter.CLASSES


def convert(idx_dir, out, *options):
    converter.main(['--idx-dir', str(idx_dir), '--out', str(out), *map(str, options)])


def read_list(path):
    with open(path) as f:
        return [line.split() for line in f]


def check_classification_split(out, split, images, labels, per_class):
    """Lists, folders and pixels of one split agree with the idx arrays."""
    rows = read_list(osp.join(out, 'meta', f'{split}.txt'))
    assert len(rows) == per_class * len(CLASSES)
    for path, label in rows:
        top, class_name, file_name = path.split('/')
        index = int(file_name[:-4])
        assert top == split and CLASSES.index(class_name) == int(label) == labels[index]
        np.testing.assert_array_equal(np.asarray(Image.open(osp.join(out, path))), images[index])
    on_disk = sorted(glob.glob(osp.join(out, split, '*', '*.png')))
    assert on_disk == sorted(osp.join(out, path) for path, _ in rows)
    return rows


def samples(dataset):
    """The (img_path, gt_label) pairs of a data set, sorted."""
    return sorted((info['img_path'], info['gt_label']) for info in map(dataset.get_data_info, range(len(dataset))))


def test_imagenet_style_tree(tmp_path):
    idx_dir = write_fashion_mnist_idx(str(tmp_path / 'idx'), train_per_class=4, test_per_class=2, compress=False)
    out = tmp_path / 'out'
    convert(idx_dir, out, '--train-per-class', 3, '--val-per-class', 'all')
    with open(out / 'meta' / 'classes.txt') as f:
        assert f.read().split() == list(CLASSES)
    for split, prefix, per_class in (('train', 'train', 3), ('val', 't10k', 2)):
        images, labels = converter.load_split(idx_dir, prefix)
        check_classification_split(str(out), split, images, labels, per_class)

    # The lists and the folder tree give the same data set (folder labels need the class order of classes.txt).
    classes_file = str(out / 'meta' / 'classes.txt')
    listed = ImageNet(data_root=str(out), ann_file='meta/train.txt', metainfo=dict(classes=classes_file))
    folder = ImageNet(data_root=str(out), data_prefix='train', metainfo=dict(classes=classes_file))
    assert listed.metainfo['classes'] == CLASSES
    np.testing.assert_array_equal(listed.get_gt_labels(), np.repeat(np.arange(10), 3))
    assert samples(folder) == samples(listed)


def test_rerun_is_idempotent_and_selection_nested(tmp_path):
    idx_dir = write_fashion_mnist_idx(str(tmp_path / 'idx'), train_per_class=5, test_per_class=2)
    out = tmp_path / 'out'
    convert(idx_dir, out, '--train-per-class', 3, '--val-per-class', 1, '--voc07')
    files = sorted(glob.glob(str(out / '**' / '*.*'), recursive=True))
    stamps = {path: os.stat(path).st_mtime_ns for path in files}
    convert(idx_dir, out, '--train-per-class', 3, '--val-per-class', 1, '--voc07')
    assert sorted(glob.glob(str(out / '**' / '*.*'), recursive=True)) == files
    assert {path: os.stat(path).st_mtime_ns for path in files} == stamps

    three = {path for path, _ in read_list(out / 'meta' / 'train.txt')}
    convert(idx_dir, out, '--train-per-class', 2, '--val-per-class', 1)
    two = {path for path, _ in read_list(out / 'meta' / 'train.txt')}
    assert len(two) == 20 and two < three  # a smaller count keeps a subset of the same images
    assert len(glob.glob(str(out / 'train' / '*' / '*.png'))) == 20  # stale images were removed


def test_voc07_mosaics(tmp_path):
    idx_dir = write_fashion_mnist_idx(str(tmp_path / 'idx'), train_per_class=6, test_per_class=4)
    out = tmp_path / 'out'
    convert(idx_dir, out, '--train-per-class', 6, '--val-per-class', 4, '--voc07', '--size', 20,
            '--difficult-fraction', 0.5)
    voc_root = str(out / 'VOCdevkit' / 'VOC2007')
    ids = {}
    for split, per_class in (('trainval', 6), ('test', 4)):
        # Class files and XML are consistent (the data set cross-checks them) and give the same labels.
        dataset = VOC07Classification(data_root=voc_root, split=split, metainfo=dict(classes=CLASSES))
        from_xml = VOC07Classification(data_root=voc_root, split=split, metainfo=dict(classes=CLASSES),
                                       label_source='xml')
        labels = dataset.get_gt_labels()
        np.testing.assert_array_equal(labels, from_xml.get_gt_labels())
        assert (labels == 0).any() and (labels == 1).any()
        assert ((labels == 1).sum(1) >= 1).mean() > 0.5  # most images show a recognisable item
        ids[split] = [dataset.get_data_info(i)['img_id'] for i in range(len(dataset))]
        # Every selected item appears in exactly one mosaic.
        num_objects = 0
        for img_id in ids[split]:
            with open(osp.join(voc_root, 'Annotations', f'{img_id}.xml')) as f:
                num_objects += f.read().count('<object>')
        assert num_objects == per_class * len(CLASSES)
        image = Image.open(dataset.get_data_info(0)['img_path'])
        assert image.size == (40, 40) and image.mode == 'RGB'
    assert not set(ids['trainval']) & set(ids['test'])


def test_errors(tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match=r"train-images-idx3-ubyte\[\.gz\] not found in '.*nothing'.*"
                                                'apt-get install dataset-fashion-mnist'):
        convert(tmp_path / 'nothing', tmp_path / 'out')
    idx_dir = write_fashion_mnist_idx(str(tmp_path / 'idx'), train_per_class=2, test_per_class=1)
    with pytest.raises(ValueError, match=r"asked for 3 images of class 'tshirt', only 2 exist"):
        convert(idx_dir, tmp_path / 'out', '--train-per-class', 3)
    with pytest.raises(SystemExit):
        convert(idx_dir, tmp_path / 'out', '--val-per-class', 'many')
    assert "expected a positive integer or 'all'" in capsys.readouterr().err
    labels_file = osp.join(idx_dir, 't10k-labels-idx1-ubyte.gz')
    with gzip.open(labels_file, 'wb') as f:
        f.write(bytes([0, 0, 8, 1, 0, 0, 0, 99, 1, 2]))
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte\.gz: header says shape \(99,\)"):
        convert(idx_dir, tmp_path / 'out', '--train-per-class', 2, '--val-per-class', 1)


@pytest.mark.skipif(not glob.glob(osp.join(FASHION_MNIST_DIR, 'train-images-idx3-ubyte*')),
                    reason=f'real Fashion-MNIST idx files not found in {FASHION_MNIST_DIR} '
                    '(apt-get install dataset-fashion-mnist)')
def test_real_fashion_mnist_slice(tmp_path):
    out = tmp_path / 'out'
    convert(FASHION_MNIST_DIR, out, '--train-per-class', 3, '--val-per-class', 3, '--voc07')
    for split, prefix in (('train', 'train'), ('val', 't10k')):
        images, labels = converter.load_split(FASHION_MNIST_DIR, prefix)
        assert images.shape[1:] == (28, 28) and len(images) == {'train': 60000, 'val': 10000}[split]
        check_classification_split(str(out), split, images, labels, 3)
    voc = VOC07Classification(data_root=str(out / 'VOCdevkit' / 'VOC2007'), split='test',
                              metainfo=dict(classes=CLASSES))
    assert voc.get_gt_labels().shape == (len(voc), 10)

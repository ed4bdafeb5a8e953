import os.path as osp

import numpy as np
import pytest
from builders.datasets import make_imagenet
from builders.files import write_image, write_lines

from mmssl.datasets import ImageNet


@pytest.fixture
def imagenet(tmp_path):
    return make_imagenet(str(tmp_path / 'imagenet'))


def names(dataset):
    return [osp.basename(dataset.get_data_info(i)['img_path']) for i in range(len(dataset))]


def test_list_files(imagenet):
    train = ImageNet(**imagenet['train'], metainfo=dict(classes=osp.join(imagenet['data_root'], 'meta/classes.txt')))
    assert train.metainfo['classes'] == imagenet['classes']
    np.testing.assert_array_equal(train.get_gt_labels(), imagenet['train_labels'])
    assert train.get_data_info(0)['img_path'] == osp.join(imagenet['data_root'], 'train',
                                                          'n01440764/n01440764_0.JPEG')
    val = ImageNet(**imagenet['val'])
    np.testing.assert_array_equal(val.get_gt_labels(), imagenet['val_labels'])


def test_folder_tree_matches_list(imagenet):
    folder = ImageNet(**imagenet['train_folder'])
    listed = ImageNet(**imagenet['train'])
    assert folder.metainfo['classes'] == imagenet['classes']  # the wnid folders
    assert names(folder) == names(listed)
    np.testing.assert_array_equal(folder.get_gt_labels(), listed.get_gt_labels())


def test_subset_file(imagenet):
    subset = ImageNet(**imagenet['train'], subset_file=imagenet['subset_file'])
    assert names(subset) == imagenet['subset']
    np.testing.assert_array_equal(subset.get_gt_labels(), [0, 1, 2])
    assert [subset.get_data_info(i)['sample_idx'] for i in range(len(subset))] == [0, 1, 2]
    # Works on the folder tree too, and with lazy init.
    lazy = ImageNet(**imagenet['train_folder'], subset_file=imagenet['subset_file'], lazy_init=True)
    lazy.full_init()
    assert names(lazy) == imagenet['subset']


def test_subset_errors(imagenet, tmp_path):
    root = imagenet['data_root']
    write_lines(osp.join(root, 'meta', 'bad.txt'), ['n01440764_0.JPEG', 'n09999999_7.JPEG'])
    with pytest.raises(ValueError, match=r"bad\.txt, line 2: 'n09999999_7\.JPEG' is not in the data set "
                                         r".*train\.txt' \(1 of 2"):
        ImageNet(**imagenet['train'], subset_file='meta/bad.txt')

    write_lines(osp.join(root, 'meta', 'twice.txt'), ['n01440764_0.JPEG', 'n01440764_1.JPEG', 'n01440764_0.JPEG'])
    with pytest.raises(ValueError, match=r"twice\.txt, line 3: 'n01440764_0\.JPEG' is listed twice \(first at "
                                         'line 1'):
        ImageNet(**imagenet['train'], subset_file='meta/twice.txt')

    write_lines(osp.join(root, 'meta', 'two_columns.txt'), ['n01440764_0.JPEG 0'])
    with pytest.raises(ValueError, match=r'two_columns\.txt, line 1: malformed line'):
        ImageNet(**imagenet['train'], subset_file='meta/two_columns.txt')

    with pytest.raises(FileNotFoundError, match=r"subset file '.*absent\.txt' does not exist"):
        ImageNet(**imagenet['train'], subset_file='meta/absent.txt')

    # The same base name in two class folders cannot be selected by name.
    write_image(osp.join(root, 'train', 'n01443537', 'n01440764_0.JPEG'))
    with pytest.raises(ValueError, match=r"1percent\.txt, line 1: 'n01440764_0\.JPEG' is ambiguous"):
        ImageNet(**imagenet['train_folder'], subset_file=imagenet['subset_file'])

import os.path as osp

import numpy as np
import pytest
from builders.files import make_flat_folder, make_image_folder, write_image, write_lines

from mmssl.datasets import ImageList
from mmssl.registry import DATASETS


def img_paths(dataset):
    return [dataset.get_data_info(i)['img_path'] for i in range(len(dataset))]


def write_list(root, lines, name='list.txt', images=True):
    """A list file in ``root`` plus (optionally) the images it names."""
    if images:
        for i, line in enumerate(lines):
            write_image(osp.join(root, 'images', line.split()[0]), seed=i)
    return write_lines(osp.join(root, name), lines)


def test_labelled_list_file(tmp_path):
    write_list(tmp_path, ['a/0.jpg 1', 'a/1.jpg 0', 'b/2.jpg 2'])
    dataset = ImageList(ann_file='list.txt', data_root=str(tmp_path), data_prefix='images')
    assert len(dataset) == 3
    assert dataset.metainfo['classes'] == ('0', '1', '2')
    info = dataset.get_data_info(1)
    assert info == dict(img_path=osp.join(str(tmp_path), 'images', 'a/1.jpg'), gt_label=0, sample_idx=1)
    np.testing.assert_array_equal(dataset.get_gt_labels(), [1, 0, 2])
    assert dataset.get_cat_ids(2) == [2]


def test_unlabelled_list_and_with_label_false(tmp_path):
    write_list(tmp_path, ['x.png', 'y.png'])
    dataset = ImageList(ann_file='list.txt', data_root=str(tmp_path), data_prefix=dict(img_path='images'))
    assert 'gt_label' not in dataset.get_data_info(0)
    assert dataset.metainfo['classes'] == ()
    assert dataset.get_cat_ids(0) == []
    with pytest.raises(ValueError, match='unlabelled'):
        dataset.get_gt_labels()

    write_list(tmp_path, ['x.png 3', 'y.png 4'], name='labelled.txt', images=False)
    dropped = ImageList(ann_file='labelled.txt', data_root=str(tmp_path), data_prefix='images', with_label=False)
    assert [sorted(dropped.get_data_info(i)) for i in range(2)] == [['img_path', 'sample_idx']] * 2


def test_given_classes_bound_labels(tmp_path):
    write_list(tmp_path, ['a.jpg 0', 'b.jpg 1'])
    dataset = ImageList('list.txt', metainfo=dict(classes=['cat', 'dog']), data_root=str(tmp_path),
                        data_prefix='images')
    assert dataset.metainfo['classes'] == ('cat', 'dog')

    classes_file = write_lines(osp.join(tmp_path, 'classes.txt'), ['cat', 'dog', 'bird'])
    from_file = ImageList('list.txt', metainfo=dict(classes=classes_file), data_root=str(tmp_path),
                          data_prefix='images')
    assert from_file.metainfo['classes'] == ('cat', 'dog', 'bird')

    with pytest.raises(ValueError, match=r'list\.txt, line 2: label 1 is outside the class range 0\.\.0'):
        ImageList('list.txt', metainfo=dict(classes=['cat']), data_root=str(tmp_path), data_prefix='images')


@pytest.mark.parametrize('lines, with_label, message', [
    (['a.jpg 0', 'b.jpg'], 'auto', r"line 2: malformed line 'b.jpg'.*first line has a label"),
    (['a.jpg', 'b.jpg 0'], 'auto', r"line 2: malformed line 'b.jpg 0'.*first line has none"),
    (['a.jpg 0 1'], 'auto', r"line 1: malformed line 'a.jpg 0 1'"),
    (['a.jpg'], True, r"line 1: malformed line 'a.jpg'.*with_label=True"),
    (['a.jpg 0', '', 'b.jpg x'], 'auto', r"line 3: label 'x' is not an integer"),
    (['a.jpg -1'], True, r'line 1: label -1 is outside the class range'),
])
def test_malformed_list_lines(tmp_path, lines, with_label, message):
    ann_file = write_list(tmp_path, lines, images=False)
    with pytest.raises(ValueError, match=message) as error:
        ImageList(ann_file, with_label=with_label, check_exists=False)
    assert ann_file in str(error.value)


def test_missing_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"annotation file '.*nope\.txt' does not exist"):
        ImageList('nope.txt', data_root=str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"image folder '.*nowhere' does not exist"):
        ImageList(data_root=str(tmp_path), data_prefix='nowhere')

    ann_file = write_list(tmp_path, ['a.jpg 0', 'gone.jpg 1'])
    (tmp_path / 'images' / 'gone.jpg').unlink()
    with pytest.raises(FileNotFoundError, match=r"list\.txt, line 2: image '.*gone\.jpg' does not exist "
                                                r'\(1 of 2'):
        ImageList(ann_file, data_prefix=str(tmp_path / 'images'))
    # The check is switchable for huge data sets on slow storage.
    assert len(ImageList(ann_file, data_prefix=str(tmp_path / 'images'), check_exists=False)) == 2


def test_lazy_init_reads_nothing_until_full_init(tmp_path):
    dataset = ImageList('missing.txt', data_root=str(tmp_path), lazy_init=True)
    with pytest.raises(FileNotFoundError, match='missing.txt'):
        dataset.full_init()


def test_labelled_folder_tree(tmp_path):
    make_image_folder(str(tmp_path / 'tree'), classes=('dog', 'cat'), per_class=2, ext='.png')
    write_lines(str(tmp_path / 'tree' / 'cat' / 'notes.txt'), ['not an image'])
    dataset = ImageList(data_root=str(tmp_path), data_prefix='tree')
    assert dataset.metainfo['classes'] == ('cat', 'dog')  # sorted folder names
    assert [osp.relpath(p, tmp_path / 'tree') for p in img_paths(dataset)] == [
        'cat/0.png', 'cat/1.png', 'dog/0.png', 'dog/1.png']
    np.testing.assert_array_equal(dataset.get_gt_labels(), [0, 0, 1, 1])

    # Given classes fix the label order; folders must be among them.
    given = ImageList(data_prefix=str(tmp_path / 'tree'), metainfo=dict(classes=('dog', 'bird', 'cat')))
    np.testing.assert_array_equal(given.get_gt_labels(), [2, 2, 0, 0])
    with pytest.raises(ValueError, match=r"class folder '.*tree/dog' is not one of the 1 classes"):
        ImageList(data_prefix=str(tmp_path / 'tree'), metainfo=dict(classes=('cat', )))

    # with_label=False: the whole tree, unlabelled.
    unlabelled = ImageList(data_prefix=str(tmp_path / 'tree'), with_label=False)
    assert len(unlabelled) == 4 and 'gt_label' not in unlabelled.get_data_info(0)


def test_flat_folder_is_unlabelled(tmp_path):
    make_flat_folder(str(tmp_path / 'flat'), num=3)
    dataset = ImageList(data_prefix=str(tmp_path / 'flat'))
    assert len(dataset) == 3 and 'gt_label' not in dataset.get_data_info(0)
    with pytest.raises(ValueError, match=r"'.*flat' has no class sub-folders \(with_label=True\)"):
        ImageList(data_prefix=str(tmp_path / 'flat'), with_label=True)


def test_folder_errors(tmp_path):
    make_image_folder(str(tmp_path / 'mixed'), classes=('a', ), per_class=1)
    write_image(str(tmp_path / 'mixed' / 'loose.jpg'))
    with pytest.raises(ValueError, match=r"'.*mixed' mixes images \(e\.g\. 'loose\.jpg'\) and sub-folders"):
        ImageList(data_prefix=str(tmp_path / 'mixed'))

    make_image_folder(str(tmp_path / 'holes'), classes=('a', ), per_class=1)
    (tmp_path / 'holes' / 'b').mkdir()
    with pytest.raises(ValueError, match=r"class folder '.*holes/b' holds no images"):
        ImageList(data_prefix=str(tmp_path / 'holes'))

    (tmp_path / 'empty').mkdir()
    with pytest.raises(ValueError, match=r"no images found in '.*empty'"):
        ImageList(data_prefix=str(tmp_path / 'empty'))
    with pytest.raises(ValueError, match='give an ann_file'):
        ImageList()
    with pytest.raises(ValueError, match="with_label must be 'auto', True or False"):
        ImageList(data_prefix=str(tmp_path / 'empty'), with_label='yes')


def test_build_from_registry(tmp_path):
    make_flat_folder(str(tmp_path), num=2)
    dataset = DATASETS.build(dict(type='ImageList', data_root=str(tmp_path)))
    assert isinstance(dataset, ImageList) and len(dataset) == 2


def test_an_image_listed_twice_is_refused_naming_the_file_entry_and_lines(tmp_path):
    list_file = write_list(tmp_path, ['a/0.jpg 1', 'a/1.jpg 0', 'b/2.jpg 2', './a/0.jpg 1', 'a/1.jpg 0'])
    with pytest.raises(ValueError, match=rf"{list_file}: image 'a/0.jpg' is listed twice, on lines 1, 4 \(1 more entries repeat "
                       r'too\).*pass allow_duplicates=True'):
        ImageList(ann_file='list.txt', data_root=str(tmp_path), data_prefix='images')
    # Meant repeats: every line is a sample.
    dataset = DATASETS.build(dict(type='ImageList', ann_file='list.txt', data_root=str(tmp_path),
                                  data_prefix='images', allow_duplicates=True))
    assert len(dataset) == 5 and dataset.get_gt_labels().tolist() == [1, 0, 2, 1, 0]
    # The subclasses read their lists the same way.
    from mmssl.datasets import ImageNet
    with pytest.raises(ValueError, match="image 'a/0.jpg' is listed twice, on lines 1, 4"):
        ImageNet(ann_file='list.txt', data_root=str(tmp_path), data_prefix='images')

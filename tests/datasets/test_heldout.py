"""The held-out part of a training set as a data set: only training images, the same rows for the same seed."""
import numpy as np
import pytest

from mmssl.datasets import HeldoutSubset, ImageList
from mmssl.registry import DATASETS
from mmssl.utils import register_all_modules


def image_list(split: dict) -> dict:
    return dict(type='ImageList', data_root=split['data_root'], ann_file=split['ann_file'], with_label=True)


def paths(dataset) -> list:
    return [dataset.get_data_info(i)['img_path'] for i in range(len(dataset))]


def test_the_heldout_part_holds_training_images_only_and_is_the_same_for_the_same_seed(fmnist_three):
    register_all_modules()
    train, val = image_list(fmnist_three['train']), image_list(fmnist_three['val'])
    heldout = DATASETS.build(dict(type='HeldoutSubset', dataset=train, size=0.34, seed=0, part='heldout'))
    fit = HeldoutSubset(train, size=0.34, seed=0, part='fit')
    train_paths, val_paths = paths(DATASETS.build(train)), set(paths(DATASETS.build(val)))
    assert len(heldout) == 10 and len(fit) == 20
    assert not set(paths(heldout)) & val_paths  # never a validation image
    assert sorted(paths(heldout) + paths(fit)) == sorted(train_paths) and not set(paths(heldout)) & set(paths(fit))
    # Class-balanced: one held-out image of each of the ten classes; its labels are those of its rows.
    assert sorted(heldout.get_gt_labels().tolist()) == list(range(10))
    assert [heldout.get_data_info(i)['gt_label'] for i in range(len(heldout))] == heldout.get_gt_labels().tolist()
    assert heldout.metainfo['classes'] == DATASETS.build(train).metainfo['classes']
    assert set(heldout[0]) >= {'img_path', 'gt_label'} or heldout[0]  # the wrapped pipeline runs
    again = HeldoutSubset(train, size=10, seed=0, part='heldout')
    assert paths(again) == paths(heldout)
    other = [paths(HeldoutSubset(train, size=10, seed=seed, part='heldout')) for seed in (1, 2, 3)]
    assert any(p != paths(heldout) for p in other)
    np.testing.assert_array_equal(heldout.source_indices(), again.source_indices())


@pytest.mark.parametrize('size, expected', [(30, 'at most 29'), (1.0, 'a fraction'), (5, 'at least 10'),
                                            (0, 'at least 10'), ('10', 'a count')])
def test_bad_sizes_are_refused_naming_the_value(fmnist_three, size, expected):
    with pytest.raises(ValueError, match=expected) as error:
        HeldoutSubset(image_list(fmnist_three['train']), size=size, seed=0, where='cfg: linear_selection.heldout')
    assert repr(size) in str(error.value) and 'cfg: linear_selection.heldout.size' in str(error.value)


def test_a_class_with_one_training_image_cannot_be_held_out(fmnist_three, tmp_path):
    """Class 0 keeps one of its three images: it has none to hold out (one must stay to fit on). The list has no
    classes file beside it, so the classes are named by their indices."""
    root = fmnist_three['data_root']
    with open(f'{root}/meta/train.txt') as f:
        lines = f.read().splitlines()
    dropped = [line for line in lines if line.split()[-1] == '0'][1:]
    (tmp_path / 'train.txt').write_text('\n'.join(line for line in lines if line not in dropped) + '\n')
    train = dict(type='ImageList', data_root=root, ann_file=str(tmp_path / 'train.txt'), with_label=True)
    for size in range(10, 28):  # held out with the others, or left out of the held-out split: refused either way
        with pytest.raises(ValueError, match=r"class '0' \(index 0\) has (no row in the held-out|1 "
                           r'training row\(s\), all in the held-out)'):
            HeldoutSubset(train, size=size, seed=0, part='heldout')


def test_an_unknown_part_is_refused(fmnist_three):
    dataset = ImageList(data_root=fmnist_three['data_root'], ann_file='meta/train.txt', with_label=True)
    with pytest.raises(ValueError, match="part must be one of \\('fit', 'heldout'\\), got 'val'"):
        HeldoutSubset(dataset, size=10, seed=0, part='val')

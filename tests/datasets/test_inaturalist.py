import json
import os
import os.path as osp

import numpy as np
import pytest
from builders.datasets import make_inaturalist2018

from mmssl.datasets import INaturalist2018


@pytest.fixture
def inat(tmp_path):
    return make_inaturalist2018(str(tmp_path / 'inat'))


def edit_json(inat, edit, split='train'):
    """Apply ``edit`` to the split's JSON content in place."""
    path = osp.join(inat['data_root'], inat[split]['ann_file'])
    with open(path) as f:
        content = json.load(f)
    edit(content)
    with open(path, 'w') as f:
        json.dump(content, f)


def test_official_json(inat):
    train = INaturalist2018(**inat['train'])
    assert train.metainfo['classes'] == inat['classes']
    np.testing.assert_array_equal(train.get_gt_labels(), inat['train_labels'])
    info = train.get_data_info(0)
    assert info['img_path'] == osp.join(inat['data_root'], 'train_val2018/Plantae/0/train0000.jpg')
    assert (info['img_id'], info['category_id'], info['gt_label']) == (0, 0, 0)
    assert len(INaturalist2018(**inat['val'])) == 3


def test_labels_are_ranks_of_category_ids(tmp_path):
    inat = make_inaturalist2018(str(tmp_path), category_ids=[30, 10, 20], train_per_class=1)
    train = INaturalist2018(**inat['train'])
    assert train.metainfo['classes'] == ('Species 10', 'Species 20', 'Species 30')
    infos = [train.get_data_info(i) for i in range(len(train))]
    assert [(info['category_id'], info['gt_label']) for info in infos] == [(30, 2), (10, 0), (20, 1)]


def test_unlabelled_json(inat):
    edit_json(inat, lambda content: content.pop('annotations'))
    dataset = INaturalist2018(**inat['train'])
    assert 'gt_label' not in dataset.get_data_info(0)
    assert dataset.metainfo['classes'] == inat['classes']
    assert 'gt_label' not in INaturalist2018(**inat['val'], with_label=False).get_data_info(0)


def test_a_json_without_annotations_is_refused_where_labels_are_needed(inat):
    edit_json(inat, lambda content: content.pop('annotations'))
    with pytest.raises(ValueError, match=r"train2018\.json: no 'annotations' list, but with_label=True"):
        INaturalist2018(**inat['train'], with_label=True)
    assert len(INaturalist2018(**inat['val'], with_label=True).get_gt_labels()) == 3


@pytest.mark.parametrize('edit, message', [
    (lambda c: c.pop('categories'), r"train2018\.json: has 'annotations' but no 'categories'"),
    (lambda c: c.pop('images'), r"train2018\.json: no 'images' list"),
    (lambda c: c['annotations'][1].update(category_id=99),
     r"train2018\.json, annotations\[1\] \(image_id 1\): category_id 99 is not in categories"),
    (lambda c: c['annotations'][2].update(image_id=1234),
     r'train2018\.json, annotations\[2\] \(image_id 1234\): no image with this id'),
    (lambda c: c['annotations'].append(dict(image_id=0, category_id=1)),
     r'annotations\[6\] \(image_id 0\): the image already has an annotation'),
    (lambda c: c['annotations'].pop(3), r'train2018\.json: image id 3 \(.*train0001\.jpg\) has no annotation'),
    (lambda c: c['images'].append(dict(c['images'][0])), r'train2018\.json: images\[6\] repeats image id 0'),
    (lambda c: c['categories'].append(dict(c['categories'][0])),
     r'train2018\.json: categories\[3\] repeats category id 0'),
])
def test_bad_json(inat, edit, message):
    edit_json(inat, edit)
    with pytest.raises(ValueError, match=message):
        INaturalist2018(**inat['train'])


def test_missing_files(inat):
    with pytest.raises(FileNotFoundError, match=r"annotation file '.*test2018\.json' does not exist"):
        INaturalist2018(ann_file='test2018.json', data_root=inat['data_root'])
    os.remove(osp.join(inat['data_root'], 'train_val2018/Plantae/1/train0000.jpg'))
    with pytest.raises(FileNotFoundError, match=r"train2018\.json, image id 2: image '.*1/train0000\.jpg' does "
                                                'not exist'):
        INaturalist2018(**inat['train'])
    assert len(INaturalist2018(**inat['train'], check_exists=False)) == 6
    with pytest.raises(ValueError, match='metainfo gives 2 classes but .*train2018.json has 3 categories'):
        INaturalist2018(**inat['train'], metainfo=dict(classes=['x', 'y']), check_exists=False)

import os
import os.path as osp
import shutil

import numpy as np
import pytest
from builders.datasets import make_voc07, voc_xml
from builders.files import write_lines

from mmssl.datasets import VOC_CLASSES, VOC07Classification
from mmssl.datasets.voc import parse_voc_xml, voc_encode


@pytest.fixture
def voc(tmp_path):
    return make_voc07(str(tmp_path))


def class_file(voc, name, split='trainval'):
    return osp.join(voc['data_root'], 'ImageSets', 'Main', f'{name}_{split}.txt')


@pytest.mark.parametrize('label_source', ['auto', 'class_files', 'xml'])
def test_labels_from_class_files_and_xml(voc, label_source):
    for split in ('trainval', 'test'):
        dataset = VOC07Classification(**voc[split], label_source=label_source)
        assert dataset.metainfo['classes'] == VOC_CLASSES
        labels = dataset.get_gt_labels()
        assert labels.dtype == np.int8
        np.testing.assert_array_equal(labels, voc['labels'][split])
        # Every class has difficult-only images, and positives that also hold a difficult object stay 1.
        positives = 3 if split == 'trainval' else 2
        assert ((labels == 0).sum(0) == 1).all() and ((labels == 1).sum(0) == positives).all()


def test_data_info(voc):
    dataset = VOC07Classification(**voc['trainval'])
    info = dataset.get_data_info(2)
    img_id = voc['ids']['trainval'][2]
    label = voc['labels']['trainval'][2]
    assert info['img_id'] == img_id and info['sample_idx'] == 2
    assert info['img_path'] == osp.join(voc['data_root'], 'JPEGImages', f'{img_id}.jpg')
    assert info['positive_labels'] == np.flatnonzero(label == 1).tolist()
    assert info['difficult_labels'] == np.flatnonzero(label == 0).tolist()
    assert dataset.get_cat_ids(2) == info['positive_labels']


def test_ten_class_layout_without_class_files(tmp_path):
    classes = [f'item{i}' for i in range(10)]
    voc = make_voc07(str(tmp_path), classes=classes, with_class_files=False)
    dataset = VOC07Classification(**voc['test'])
    assert dataset.metainfo['classes'] == tuple(classes)
    np.testing.assert_array_equal(dataset.get_gt_labels(), voc['labels']['test'])
    with pytest.raises(FileNotFoundError, match=r"class file '.*item0_test\.txt' does not exist"):
        VOC07Classification(**voc['test'], label_source='class_files')
    shutil.rmtree(osp.join(voc['data_root'], 'Annotations'))
    with pytest.raises(FileNotFoundError, match=r"annotation folder \(needed when there are no class files\) "
                                                r"'.*VOC2007/Annotations' does not exist"):
        VOC07Classification(**voc['test'])


def test_voc_encode_rule(tmp_path):
    path = write_lines(str(tmp_path / 'a.xml'), [voc_xml([('cat', True), ('dog', True), ('dog', False)])])
    objects = parse_voc_xml(path)
    assert objects == [('cat', True), ('dog', True), ('dog', False)]
    np.testing.assert_array_equal(voc_encode(objects, ['bird', 'cat', 'dog'], path), [-1, 0, 1])
    with pytest.raises(ValueError, match=r"a\.xml: object class 'cat' is not one of the 1 classes"):
        voc_encode(objects, ['dog'], path)


def test_missing_paths(voc, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"data root '.*nowhere' does not exist"):
        VOC07Classification(data_root=str(tmp_path / 'nowhere'))
    with pytest.raises(FileNotFoundError, match=r"image set file '.*ImageSets/Main/val\.txt' does not exist"):
        VOC07Classification(**dict(voc['trainval'], split='val'))
    os.remove(class_file(voc, 'dog'))
    with pytest.raises(FileNotFoundError, match=r"class file '.*dog_trainval\.txt' does not exist"):
        VOC07Classification(**voc['trainval'])
    img_id = voc['ids']['test'][1]
    os.remove(osp.join(voc['data_root'], 'JPEGImages', f'{img_id}.jpg'))
    with pytest.raises(FileNotFoundError, match=rf"test\.txt, line 2: image '.*{img_id}\.jpg' does not exist"):
        VOC07Classification(**voc['test'])
    os.remove(osp.join(voc['data_root'], 'Annotations', f'{img_id}.xml'))
    with pytest.raises(FileNotFoundError, match=rf"annotation '.*{img_id}\.xml' does not exist"):
        VOC07Classification(**voc['test'], label_source='xml', check_exists=False)


def test_class_file_disagreeing_with_id_list(voc):
    ids = voc['ids']['trainval']
    lines = [f"{img_id} {value:2d}" for img_id, value in zip(ids, voc['labels']['trainval'][:, 7])]
    write_lines(class_file(voc, 'cat'), lines[:-1])
    with pytest.raises(ValueError, match=rf"cat_trainval\.txt: image id '{ids[-1]}' \(line {len(ids)} of "
                                         r".*trainval\.txt\) is missing"):
        VOC07Classification(**voc['trainval'])
    write_lines(class_file(voc, 'cat'), lines + ['009999  1'])
    with pytest.raises(ValueError, match=rf"cat_trainval\.txt, line {len(ids) + 1}: image id '009999' is not in "
                                         r"the image set file"):
        VOC07Classification(**voc['trainval'])
    write_lines(class_file(voc, 'cat'), lines[:1] + lines)
    with pytest.raises(ValueError, match=rf"cat_trainval\.txt, line 2: image id '{ids[0]}' repeats line 1"):
        VOC07Classification(**voc['trainval'])
    write_lines(class_file(voc, 'cat'), [f'{ids[0]} 2'] + lines[1:])
    with pytest.raises(ValueError, match=r"cat_trainval\.txt, line 1: malformed line .* expected '<id> <1\|-1\|0>'"):
        VOC07Classification(**voc['trainval'])


def test_class_file_disagreeing_with_xml(voc):
    labels = voc['labels']['trainval'][:, 7].copy()
    row = int(np.flatnonzero(labels == -1)[0])
    labels[row] = 1
    write_lines(class_file(voc, 'cat'), [f'{i} {v:2d}' for i, v in zip(voc['ids']['trainval'], labels)])
    img_id = voc['ids']['trainval'][row]
    with pytest.raises(ValueError, match=rf"cat_trainval\.txt, line {row + 1}: image {img_id} is 1 for 'cat' but "
                                         rf".*{img_id}\.xml gives -1"):
        VOC07Classification(**voc['trainval'])
    # The class files are the protocol's source of truth when the check is off.
    trusted = VOC07Classification(**voc['trainval'], xml_check=False)
    assert trusted.get_gt_labels()[row, 7] == 1


def test_malformed_split_and_xml(voc):
    sets = osp.join(voc['data_root'], 'ImageSets', 'Main')
    ids = voc['ids']['test']
    write_lines(osp.join(sets, 'test.txt'), ids + [ids[0]])
    with pytest.raises(ValueError, match=rf"test\.txt, line {len(ids) + 1}: image id '{ids[0]}' repeats line 1"):
        VOC07Classification(**voc['test'])
    write_lines(osp.join(sets, 'test.txt'), [f'{ids[0]} 1'])
    with pytest.raises(ValueError, match=r"test\.txt, line 1: malformed line .* expected one image id"):
        VOC07Classification(**voc['test'])

    write_lines(osp.join(sets, 'test.txt'), ids)
    xml_path = osp.join(voc['data_root'], 'Annotations', f'{ids[0]}.xml')
    write_lines(xml_path, [voc_xml([('unicorn', False)])])
    with pytest.raises(ValueError, match=rf"{ids[0]}\.xml: object class 'unicorn' is not one of the 20 classes"):
        VOC07Classification(**voc['test'], label_source='xml')
    write_lines(xml_path, ['<annotation><object>'])
    with pytest.raises(ValueError, match=rf"{ids[0]}\.xml: not a valid VOC XML annotation"):
        VOC07Classification(**voc['test'], label_source='xml')
    with pytest.raises(ValueError, match="label_source must be"):
        VOC07Classification(**voc['test'], label_source='json')


def test_pipeline_packs_voc_encoded_label(voc):
    from mmcv.transforms import LoadImageFromFile

    from mmssl.datasets.transforms import PackInputs
    dataset = VOC07Classification(**voc['test'], pipeline=[LoadImageFromFile(), PackInputs()])
    sample = dataset[0]
    assert tuple(sample['inputs'].shape) == (3, 16, 16)
    assert sample['data_samples'].gt_label.tolist() == voc['labels']['test'][0].tolist()
    assert sample['data_samples'].sample_idx == 0

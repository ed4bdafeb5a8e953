import importlib.util
import json
import os
import os.path as osp
import sys

import numpy as np
import pytest
from builders.datasets import make_coco2014_svm

from mmssl.datasets.coco import coco_image_labels, convert_coco_svm_labels, is_valid_object
from mmssl.registry import DATASETS
from mmssl.utils import register_all_modules


def test_fair_label_rule_on_single_objects():
    # 32 x 24 image; FAIR: x2 = x + max(0, w - 1), clipped to [0, 31]; valid iff area > 0 and x2 > x1, y2 > y1.
    assert is_valid_object(dict(bbox=[0, 0, 2, 2], area=1.0), 32, 24)
    assert not is_valid_object(dict(bbox=[0, 0, 1, 5], area=5.0), 32, 24)  # one pixel wide
    assert not is_valid_object(dict(bbox=[0, 0, 5, 5], area=0.0), 32, 24)
    assert not is_valid_object(dict(bbox=[0, 0, 5, 5], area=9.0, ignore=1), 32, 24)
    assert not is_valid_object(dict(bbox=[-10, 3, 5, 5], area=9.0), 32, 24)  # left of the image
    assert is_valid_object(dict(bbox=[0, 0, 5, 5], area=9.0, ignore=0, iscrowd=1), 32, 24)


def test_converter_labels_sorting_and_dataset(tmp_path):
    coco = make_coco2014_svm(str(tmp_path))
    label_dir = tmp_path / 'svm_labels'
    assert (label_dir / 'classes.txt').read_text().split('\n')[:3] == ['person', 'car', 'dog']
    for split in ('train2014', 'val2014'):
        labels = np.load(label_dir / f'{split}_labels.npy')
        assert labels.dtype == np.int8
        np.testing.assert_array_equal(labels, coco['labels'][split])
        assert (label_dir / f'{split}_ids.txt').read_text().split() == coco['ids'][split]
    register_all_modules()
    dataset = DATASETS.build(dict(type='COCO2014Classification', data_root=str(tmp_path), split='train2014'))
    assert dataset.metainfo['classes'] == ('person', 'car', 'dog') and len(dataset) == 3
    info = dataset.get_data_info(2)
    assert info['img_id'] == 'COCO_train2014_000000000003'
    assert info['img_path'] == osp.join(str(tmp_path), 'train2014', 'COCO_train2014_000000000003.jpg')
    np.testing.assert_array_equal(info['gt_label'], [1, 1, -1])
    assert info['positive_labels'] == [0, 1] and dataset.get_cat_ids(0) == []


def test_converter_refuses_bad_input(tmp_path):
    coco = make_coco2014_svm(str(tmp_path), convert=False)
    ann_file = osp.join(coco['data_root'], 'annotations', 'instances_train2014.json')
    with open(ann_file) as f:
        content = json.load(f)
    broken = tmp_path / 'no_categories.json'
    broken.write_text(json.dumps({k: v for k, v in content.items() if k != 'categories'}))
    with pytest.raises(ValueError, match=r"no_categories.json: no 'categories' key"):
        coco_image_labels(str(broken))
    unknown = dict(content, annotations=content['annotations'] + [dict(content['annotations'][0], category_id=7)])
    broken.write_text(json.dumps(unknown))
    with pytest.raises(ValueError, match=r'annotations\[8\] \(id 300\): category_id 7 is not in'):
        coco_image_labels(str(broken))
    no_box = dict(content, annotations=[{k: v for k, v in content['annotations'][0].items() if k != 'bbox'}])
    broken.write_text(json.dumps(no_box))
    with pytest.raises(ValueError, match=r"annotations\[0\] has no 'bbox'"):
        coco_image_labels(str(broken))

    os.remove(osp.join(coco['data_root'], 'train2014', 'COCO_train2014_000000000002.jpg'))
    out = tmp_path / 'labels'
    with pytest.raises(FileNotFoundError, match=r"instances_train2014.json: image 'COCO_train2014_000000000002.jpg' "
                                                r'is not in .*train2014 \(1 of 3'):
        convert_coco_svm_labels(ann_file, str(out), 'train2014', osp.join(coco['data_root'], 'train2014'))
    assert not out.exists()  # nothing written before the check
    # Without the image check the labels are written, and the data set then names the missing image.
    convert_coco_svm_labels(ann_file, str(tmp_path / 'svm_labels'), 'train2014')
    register_all_modules()
    with pytest.raises(FileNotFoundError, match=r'train2014_ids.txt, line 2: image .*000000000002.jpg'):
        DATASETS.build(dict(type='COCO2014Classification', data_root=coco['data_root'], split='train2014'))


def test_converter_cli(tmp_path, monkeypatch, capsys, repo_root):
    make_coco2014_svm(str(tmp_path), convert=False)
    spec = importlib.util.spec_from_file_location(
        'coco2014_svm_labels', str(repo_root / 'tools' / 'dataset_converters' / 'coco2014_svm_labels.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(sys, 'argv', ['coco2014_svm_labels.py', str(tmp_path)])
    module.main()
    assert 'val2014: wrote' in capsys.readouterr().out
    assert np.load(tmp_path / 'svm_labels' / 'val2014_labels.npy').shape == (2, 3)

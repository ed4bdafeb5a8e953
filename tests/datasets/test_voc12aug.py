import os.path as osp
import re

import pytest
from builders.dense_datasets import make_voc12aug
from builders.files import write_lines

pytest.importorskip('mmseg')
from mmssl.datasets.voc12aug import VOC12AugDataset  # noqa: E402


def build(data_root, ann_file):
    return VOC12AugDataset(data_root=data_root, ann_file=ann_file,
                           data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClassAug'),
                           pipeline=[])


def test_trainaug_list_loads(tmp_path):
    data = make_voc12aug(str(tmp_path))
    dataset = build(data['data_root'], 'ImageSets/Segmentation/trainaug.txt')
    assert len(dataset) == 3
    assert dataset[0]['seg_map_path'].endswith(osp.join('SegmentationClassAug', '2008_000001.png'))
    many = write_lines(osp.join(data['data_root'], 'ImageSets/Segmentation/full.txt'),
                       [f'2008_{i:06d}' for i in range(10582)])
    assert len(build(data['data_root'], many)) == 10582


def test_sbd_only_aug_list_is_refused_naming_the_file(tmp_path):
    """mmseg's voc_aug.py writes aug.txt with 9,118 images (SBD minus VOC12 train and val)."""
    data = make_voc12aug(str(tmp_path))
    aug = write_lines(osp.join(data['data_root'], 'ImageSets/Segmentation/aug.txt'),
                      [f'2008_{i:06d}' for i in range(9118)])
    with pytest.raises(ValueError, match=re.escape(aug) + r' lists 9,118 images: that is mmseg\'s aug\.txt.*'
                       r'ImageSets/Segmentation/trainaug\.txt \(10,582 images\)'):
        build(data['data_root'], 'ImageSets/Segmentation/aug.txt')


def test_voc12aug_config_trains_on_trainaug_through_the_checked_dataset():
    from mmengine.config import Config
    config = osp.join(osp.dirname(__file__), '..', '..', 'configs', 'benchmarks', 'mmsegmentation', 'voc12aug',
                      'fcn_r50-d8_4xb4-20k_voc12aug-512x512.py')
    cfg = Config.fromfile(config)
    assert cfg.train_dataloader.dataset.type == 'mmssl.VOC12AugDataset'
    assert cfg.train_dataloader.dataset.ann_file == 'ImageSets/Segmentation/trainaug.txt'
    assert 'mmssl.datasets.voc12aug' in cfg.custom_imports.imports

"""A backbone of another shape than ResNet (three taps, one without specified pooling) goes through feature
extraction and a multi-head linear classifier by declaring its taps; the benchmark modules know nothing of it."""
import json

import numpy as np
import pytest
import torch
from data_utils import make_voc07
from mmengine.config import Config
from mmengine.model import BaseModule
from mmengine.optim import build_optim_wrapper
from torch import nn

from mmssl.benchmarks.feature_extraction import FeatureExtractor, extract_svm_features
from mmssl.models.utils import Tap, TapsMixin
from mmssl.registry import MODELS
from mmssl.structures import DataSample
from mmssl.utils import register_all_modules

FMNIST_SVM = 'configs/benchmarks/classification/fashion_mnist/resnet18_svm_voc07_fmnist-demo.py'
CLASSES = ('tshirt', 'trouser', 'pullover')


@MODELS.register_module(name='ThreeTapTestNet', force=True)
class ThreeTapTestNet(TapsMixin, BaseModule):
    """Three stride-2 conv stages of 8, 16 and 32 channels; the last declares no specified pooling."""

    def __init__(self, out_indices=(2, ), init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        # At 224 px: 112, 56 and 28 px maps; the specified pooling turns the first two into 4x4 and 2x2.
        self.taps = (Tap('stage1', channels=8, stride=2, adaptive_size=4, specified_pooling=(28, 28, 0)),
                     Tap('stage2', channels=16, stride=4, adaptive_size=2, specified_pooling=(28, 28, 0)),
                     Tap('stage3', channels=32, stride=8, adaptive_size=1))
        self.out_indices = tuple(out_indices)
        widths = [3] + [tap.channels for tap in self.taps]
        self.stages = nn.ModuleList(nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), nn.ReLU())
                                    for c_in, c_out in zip(widths, widths[1:]))

    def forward(self, x):
        outs = []
        for stage in self.stages:
            x = stage(x)
            outs.append(x)
        return tuple(outs[i] for i in self.out_indices)


@pytest.fixture
def svm_config(tmp_path, repo_root):
    """The demo SVM config on a tiny VOC07 tree (6 test images), with the three-tap backbone."""
    root = make_voc07(str(tmp_path / 'voc'), classes=CLASSES, trainval=4, test=6,
                      positives=dict(trainval=1))['data_root']
    register_all_modules()
    cfg = Config.fromfile(str(repo_root / FMNIST_SVM))
    cfg.model.backbone = dict(type='ThreeTapTestNet')
    cfg.test_dataloader.dataset.update(data_root=root, metainfo=dict(classes=CLASSES))
    cfg.test_dataloader.num_workers = 0
    return cfg


def test_extraction_writes_a_feature_folder_of_the_declared_taps(tmp_path, svm_config):
    out = tmp_path / 'features'
    extract_svm_features(svm_config, None, str(out), ['stage2', 'stage1'], splits=('test', ))
    assert json.loads((out / 'meta.json').read_text())['layers'] == ['stage2', 'stage1']
    for layer, dim in (('stage1', 8 * 4 * 4), ('stage2', 16 * 2 * 2)):
        features = np.load(out / f'test_{layer}.npy')
        assert features.shape == (6, dim)
        np.testing.assert_allclose(np.linalg.norm(features, axis=1), 1, rtol=1e-4)


def test_extraction_resolves_names_and_pools_through_the_taps(svm_config):
    backbone = svm_config.model.backbone
    with pytest.raises(ValueError, match=r"unknown layer\(s\) \['feature5'\]; choose from stage1, stage2, stage3"):
        FeatureExtractor(backbone, ['stage1', 'feature5'])
    with pytest.raises(ValueError, match="tap stage3 declares no specified pooling; use pool_type='adaptive'"):
        FeatureExtractor(backbone, ['stage3'])
    extractor = FeatureExtractor(backbone, ['stage3', 'stage1'], pooling='global').eval()
    data = dict(inputs=[torch.randint(0, 255, (3, 32, 32), dtype=torch.uint8) for _ in range(2)])
    features = extractor(data)
    assert list(features) == ['stage3', 'stage1']
    assert features['stage3'].shape == (2, 32) and features['stage1'].shape == (2, 8)


def test_a_linear_multi_head_trains_on_the_declared_taps():
    register_all_modules()
    model = MODELS.build(dict(type='ImageClassifier', frozen_backbone=True,
                              backbone=dict(type='ThreeTapTestNet', out_indices=[0, 1, 2]),
                              head=dict(type='MultiClsHead', num_classes=3, pool_type='adaptive')))
    fc_dims = {name: list(head.modules())[-1].in_features for name, head in model.head.heads.items()}
    assert fc_dims == dict(stage1=8 * 16, stage2=16 * 4, stage3=32, avgpool=32)
    data = dict(inputs=[torch.randint(0, 255, (3, 32, 32), dtype=torch.uint8) for _ in range(4)],
                data_samples=[DataSample().set_gt_label(i % 3) for i in range(4)])
    optim = build_optim_wrapper(model, dict(optimizer=dict(type='SGD', lr=0.1)))
    backbone_before = {key: value.clone() for key, value in model.backbone.state_dict().items()}
    head_before = model.head.heads['stage3'].fc.weight.clone()
    log = model.train_step(data, optim)
    assert {'loss_stage1', 'loss_stage2', 'loss_stage3', 'loss_avgpool'} <= set(log)
    assert not torch.equal(model.head.heads['stage3'].fc.weight, head_before)
    assert all(torch.equal(value, backbone_before[key]) for key, value in model.backbone.state_dict().items())
    with pytest.raises(ValueError, match='tap stage3 declares no specified pooling'):
        MODELS.build(dict(type='ImageClassifier', backbone=dict(type='ThreeTapTestNet', out_indices=[0, 2]),
                          head=dict(type='MultiClsHead', num_classes=3)))

"""A backbone of another shape than ResNet (three taps, one without specified pooling) goes through feature
extraction, a multi-head linear classifier and the model-zoo tables by declaring its taps; the benchmark modules know
nothing of it."""
import json

import numpy as np
import pytest
import torch
from builders.datasets import make_voc07
from mmengine.config import Config
from mmengine.model import BaseModule
from mmengine.optim import build_optim_wrapper
from torch import nn

from mmssl.benchmarks.feature_extraction import FeatureExtractor, extract_svm_features
from mmssl.benchmarks.records import read_result, write_result
from mmssl.benchmarks.tables import run_tables
from mmssl.models.utils import Tap, TapsMixin
from mmssl.registry import MODELS
from mmssl.structures import DataSample
from mmssl.utils import register_all_modules

FMNIST_SVM = 'configs/benchmarks/classification/fashion_mnist/resnet18_svm_voc07_fmnist-demo.py'
FMNIST_MHEAD = 'configs/benchmarks/classification/fashion_mnist/resnet18_mhead_1xb64-steplr-4e_fmnist-demo.py'
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


def written(tmp_path, benchmark, metrics, config, **extra):
    """A record as the benchmark writes it (a random backbone, the demo data set) and reads back."""
    path = tmp_path / f'result_{benchmark}_{len(list(tmp_path.iterdir()))}.json'
    write_result(str(path), benchmark, metrics, benchmark_config=config, seeds=dict(random_init=0),
                 dataset='Fashion-MNIST', extra=extra)
    return read_result(str(path))


def table_of(tables, title):
    """The header and rows of the Markdown table under the heading ``title``."""
    lines = tables.splitlines() + ['']
    start = lines.index(f'#### {title}') + 2
    end = lines.index('', start)
    return [[cell.strip() for cell in line.strip('|').split('|')] for line in lines[start:end] if '---' not in line]


def test_the_tables_show_the_declared_taps_of_the_records(tmp_path, repo_root):
    svm_config, mhead_config = str(repo_root / FMNIST_SVM), str(repo_root / FMNIST_MHEAD)
    # What the SVM, low-shot and multi-head linear benchmarks write for a feature folder / model of the three taps.
    svm = written(tmp_path, 'svm_voc07', dict(stage1=41.0, stage2=52.5, stage3=60.25), svm_config,
                  chosen_costs=dict(stage1={}, stage2={}, stage3={}))
    lowshot = written(tmp_path, 'lowshot_svm_voc07',
                      {f'{layer}_k{k}': value + k for layer, value in (('stage2', 20.0), ('stage3', 30.0))
                       for k in (1, 2, 4, 8, 16, 32, 64, 96)}, svm_config)
    linear = written(tmp_path, 'linear_eval',
                     {f'accuracy/{head}/top{k}': value + k - 1 for head, value in
                      (('stage1', 30.0), ('stage2', 40.0), ('stage3', 50.0), ('avgpool', 55.0)) for k in (1, 5)},
                     mhead_config)
    tables = run_tables({'three taps': {'svm': [svm], 'lowshot': [lowshot], 'linear': [linear]}}, None,
                        str(repo_root))

    config = '[resnet18_svm_voc07_fmnist-demo](configs/benchmarks/classification/fashion_mnist/' \
             'resnet18_svm_voc07_fmnist-demo.py)'
    assert table_of(tables, 'Fashion-MNIST VOC07-style mosaics, linear SVM (mAP %)') == [
        ['Pre-training config', 'Stage1', 'Stage2', 'Stage3', 'Benchmark config'],
        ['three taps (no pre-training)', '41.00', '52.50', '60.25', config]]
    lowshot_rows = table_of(tables, 'Fashion-MNIST VOC07-style mosaics, low-shot SVM (mAP %, mean of the samples)')
    assert lowshot_rows[0][:3] == ['Pre-training config', 'Layer', 'k=1']
    assert [row[1:4] for row in lowshot_rows[1:]] == [['stage2', '21.00', '22.00'], ['stage3', '31.00', '32.00']]
    assert lowshot_rows[2][-2] == '126.00'  # k=96 of stage3
    linear_rows = table_of(tables, 'Fashion-MNIST multi-head linear evaluation (top-1 %, 500 held-out photos)')
    assert linear_rows[0][:-1] == ['Pre-training config', 'Stage1', 'Stage2', 'Stage3', 'AvgPool',
                                   'AvgPool (joint head)']
    assert linear_rows[1][1:-1] == ['30.00', '40.00', '50.00', '–', '55.00']
    assert 'Feature1' not in tables and 'feature5' not in tables

"""Every checkpoint layout researchers bring, through the real tools: extract.py, knn.py, linear_eval.py (one step),
the suite and the det / seg launchers' weight check end up with the torchvision ResNet-50 the file was written from.
"""
import numpy as np
import pytest
import torch
import yaml
from builders.checkpoints import LAYOUTS, torchvision_resnet50, without_counters, write_layout
from builders.datasets import make_imagenet, make_voc07
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope

from mmssl.benchmarks import suite as benchmark_suite
from mmssl.benchmarks.dense import SegmentationBenchmark
from mmssl.benchmarks.records import read_result
from mmssl.registry import DATASETS, MODELS
from mmssl.utils import (BackboneWeights, convert_sync_bn_cfg, register_all_modules, require_prefixed_checkpoint,
                         verify_loaded_weights)

pytestmark = pytest.mark.slow

CLASSIFICATION = 'configs/benchmarks/classification'
KNN_DEMO = f'{CLASSIFICATION}/fashion_mnist/resnet18_knn_fmnist-demo.py'
SVM_CONFIG = f'{CLASSIFICATION}/voc07/resnet50_svm_voc07.py'
LINEAR_CONFIG = f'{CLASSIFICATION}/imagenet/resnet50_linear-8xb32-steplr-100e_in1k.py'
VOC_FCN = 'configs/benchmarks/mmsegmentation/voc12aug/fcn_r50-d8_4xb4-20k_voc12aug-512x512.py'


@pytest.fixture(scope='module')
def layouts(tmp_path_factory):
    model = torchvision_resnet50()
    root = tmp_path_factory.mktemp('layouts')
    return model, {layout: write_layout(layout, model.state_dict(), str(root)) for layout in LAYOUTS}


@pytest.fixture(scope='module')
def data(tmp_path_factory, fmnist_tiny):
    root = tmp_path_factory.mktemp('data')
    return dict(fmnist=fmnist_tiny, voc=make_voc07(str(root / 'voc'), trainval=4, test=4),
                imagenet=make_imagenet(str(root / 'imagenet'), train_per_class=1, val_per_class=1))


def torchvision_taps(model, loader_cfg: dict, data_preprocessor: dict) -> torch.Tensor:
    """layer4 of the torchvision model on a loader's images, preprocessed as mmssl preprocesses them."""
    register_all_modules()
    dataset = DATASETS.build(loader_cfg['dataset'])
    inputs = MODELS.build(data_preprocessor)(pseudo_collate([dataset[i] for i in range(len(dataset))]))['inputs']
    with torch.no_grad():
        x = model.maxpool(model.relu(model.bn1(model.conv1(inputs))))
        return model.layer4(model.layer3(model.layer2(model.layer1(x))))


def normalised(x: torch.Tensor) -> np.ndarray:
    x = torch.flatten(x, 1)
    return (x / (x.norm(dim=1, keepdim=True) + 1e-5)).numpy()


def knn_options(data) -> list:
    root = data['fmnist']['data_root']
    return [f'{split}_dataloader.{key}' for split in ('train', 'val')
            for key in (f'dataset.data_root={root}', 'num_workers=0')] + ['model.backbone.depth=50', 'knn.ks=[1]']


def check_knn(model, path, layout, data, run_tool, work_dir):
    run_tool('benchmarks/classification/knn.py', KNN_DEMO, path, '--work-dir', work_dir, '--cfg-options',
             *knn_options(data))
    record = read_result(str(work_dir / 'result_knn.json'))
    assert record['extra']['checkpoint_format'] == LAYOUTS[layout]
    cfg = Config.fromfile(KNN_DEMO)
    cfg.merge_from_dict(dict(option.split('=', 1) for option in knn_options(data)[:4]))
    expected = normalised(torchvision_taps(model, cfg.train_dataloader, cfg.model.data_preprocessor).mean((2, 3)))
    np.testing.assert_allclose(np.load(work_dir / 'train_feature5.npy'), expected, atol=1e-5, rtol=0)


def check_extract(model, path, data, run_tool, work_dir):
    root = data['voc']['data_root']
    options = [f'{split}_dataloader.{key}' for split in ('trainval', 'test')
               for key in (f'dataset.data_root={root}', 'num_workers=0')]
    run_tool('benchmarks/classification/svm_voc07/extract.py', SVM_CONFIG, path, '--out', work_dir, '--layers',
             'feature5', '--splits', 'trainval', '--cfg-options', *options)
    cfg = Config.fromfile(SVM_CONFIG)
    cfg.merge_from_dict(dict(option.split('=', 1) for option in options))
    taps = torchvision_taps(model, cfg.trainval_dataloader, cfg.model.data_preprocessor)
    expected = normalised(torch.nn.AvgPool2d(6, stride=1)(taps))  # feature5's benchmark pooling
    np.testing.assert_allclose(np.load(work_dir / 'trainval_feature5.npy'), expected, atol=1e-5, rtol=0)


def check_linear(model, path, data, run_tool, work_dir):
    root = data['imagenet']['data_root']
    options = [f'{split}_dataloader.{key}' for split in ('train', 'val') for key in (
        f'dataset.data_root={root}', 'num_workers=0', 'persistent_workers=False', 'batch_size=2')]
    options += ['train_cfg.max_epochs=1', 'default_hooks.checkpoint.interval=1', 'model.head.num_classes=3']
    run_tool('benchmarks/classification/linear_eval.py', LINEAR_CONFIG, path, '--work-dir', work_dir,
             '--cfg-options', *options)
    trained = torch.load(work_dir / 'epoch_1.pth', weights_only=True)['state_dict']
    for key, value in without_counters(model.state_dict()).items():
        if not key.startswith('fc.'):
            assert torch.equal(trained[f'backbone.{key}'], value), key


def check_dense(model, path, work_dir):
    register_all_modules(init_default_scope=False)
    cfg = SegmentationBenchmark().configure(Config.fromfile(VOC_FCN), BackboneWeights.from_checkpoint(path),
                                            str(work_dir))
    convert_sync_bn_cfg(cfg.model)
    import mmseg.registry
    with DefaultScope.overwrite_default_scope('mmseg'):
        segmentor = mmseg.registry.MODELS.build(cfg.model)
    segmentor.init_weights()
    checkpoint = cfg.model.backbone.init_cfg.checkpoint
    result = verify_loaded_weights(segmentor.backbone, require_prefixed_checkpoint(checkpoint), name='backbone',
                                   checkpoint=checkpoint, prefix='backbone.')
    assert result.match_ratio == 1.0
    loaded = segmentor.backbone.state_dict()
    for key, value in without_counters(model.state_dict()).items():
        if not key.startswith('fc.'):
            assert torch.equal(loaded[key], value), key


@pytest.mark.parametrize('layout', list(LAYOUTS))
def test_every_tool_reads_every_layout_as_the_torchvision_model(layout, layouts, data, run_tool, tmp_path):
    model, paths = layouts
    check_knn(model, paths[layout], layout, data, run_tool, tmp_path / 'knn')
    check_extract(model, paths[layout], data, run_tool, tmp_path / 'features')
    check_linear(model, paths[layout], data, run_tool, tmp_path / 'linear')
    check_dense(model, paths[layout], tmp_path / 'seg')


@pytest.mark.parametrize('layout', ['moco', 'vissl', 'detectron2'])
def test_the_suite_takes_every_layout_and_its_overrides(layout, layouts, data, tmp_path, monkeypatch, repo_root):
    model, paths = layouts
    monkeypatch.chdir(repo_root)
    suite_file = tmp_path / 'suite.yml'
    cfg_options = dict(option.split('=', 1) for option in knn_options(data))
    suite_file.write_text(yaml.safe_dump({'knn': {'config': KNN_DEMO, 'cfg_options': cfg_options}}))
    suite = benchmark_suite.load_suite(str(suite_file))
    overrides = dict(moco=dict(prefix='module.encoder_q.'), vissl=dict(checkpoint_format='vissl'),
                     detectron2={})[layout]
    records = benchmark_suite.run_suite(paths[layout], ['knn'], suite, str(tmp_path / 'run'),
                                        checkpoint_options=overrides)
    record = records['knn'][0]
    assert record['checkpoint']['path'] == paths[layout]
    assert record['extra']['checkpoint_format'] == ('backbone' if layout == 'moco' else LAYOUTS[layout])

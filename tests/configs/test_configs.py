"""Every config under configs/ (except _base_) is built and trained for one step on tiny data.

Benchmark configs that train nothing (VOC07 SVM feature extraction, the Places205 low-shot extraction of sampled
images, kNN) run their pipeline instead.

Only ``data_root`` is redirected (tiny data sets follow the official layouts, so each config's own ``ann_file``
and ``data_prefix`` are exercised), loaders are shrunk to a batch of 2, and the loop to one iteration plus one
validation pass. Model, optimizer wrapper, parameter schedulers and hooks are the config's own, with two
exceptions that keep the suite free of multi-GB work: a classification head wider than ``MAX_STEPPED_CLASSES``
(iNaturalist's 8,142 classes make a multi-GB checkpoint) is stepped at the tiny data set's width after its real
width is asserted; and the semi-supervised grid trains one point per grid (the ResNet-50 fine-tuning every point
shares), while every other point is built (model and optimizer wrapper) and shown to differ from it only in the
grid's own settings.

The runs are marked ``slow`` (CI runs them); the fast suite still parses every config (hook arguments, checkpoint
hook) and builds the full-scale schedules (tests/configs/test_schedules.py).
"""
import math
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.runner import Runner

from mmssl.benchmarks.feature_extraction import extract_svm_features
from mmssl.benchmarks.knn import KNN
from mmssl.benchmarks.lowshot_places import extract_places_lowshot_features, read_places_list
from mmssl.benchmarks.probe import Probe, probe_settings
from mmssl.evaluation.svm import generate_places_lowshot_samples, read_meta
from mmssl.registry import MODELS
from mmssl.utils import BackboneWeights, convert_sync_bn_cfg, register_all_modules

DATASET_BY_TYPE = {'ImageNet': 'imagenet', 'ImageList': 'imagenet', 'Places205': 'places205',
                   'INaturalist2018': 'inaturalist2018', 'VOC07Classification': 'voc07',
                   'COCO2014Classification': 'coco2014'}
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader', 'trainval_dataloader')
# mmdet / mmseg benchmark configs need detection / segmentation data and a pre-trained checkpoint; they are built
# and trained (2 iterations, then validated and tested) on tiny data by the test file named here.
DELEGATED = {'benchmarks/mmsegmentation/ade20k/': 'tests/benchmarks/test_dense_vit.py',
             'benchmarks/mmdetection/': 'tests/tools/test_dense_benchmarks.py',
             'benchmarks/mmsegmentation/': 'tests/tools/test_dense_benchmarks.py'}
MAX_STEPPED_CLASSES = 1000
# The semi-supervised grids: the first point of each is trained; the rest differ from it only in GRID_KEYS.
GRIDS = tuple(f'benchmarks/classification/imagenet/imagenet_{pct}percent/' for pct in (1, 10))
GRID_KEYS = ('optim_wrapper.optimizer.lr', 'optim_wrapper.optimizer.weight_decay',
             'optim_wrapper.paramwise_cfg.custom_keys.head.lr_mult')


def grid_of(config: str):
    return next((grid for grid in GRIDS if config.startswith(grid)), None)


def trained_grid_point(grid: str, configs: list) -> str:
    """The first config of ``grid`` among ``configs`` (the shipped ones): the grid point that is trained."""
    return next(config for config in configs if config.startswith(grid))


@pytest.fixture(scope='module')
def tiny_data(tiny_datasets):
    return tiny_datasets


@pytest.fixture(scope='session')
def config_root(repo_root):
    return repo_root / 'configs'


def tiny_root(dataset: dict, tiny: dict) -> str:
    """The tiny data set standing in for ``dataset`` (demo configs use the Fashion-MNIST converter's layout)."""
    if 'fashion_mnist' in str(dataset.get('data_root', '')):
        fmnist = tiny['fashion_mnist']
        return fmnist['voc07']['data_root'] if dataset['type'] == 'VOC07Classification' else fmnist['data_root']
    if dataset['type'] not in DATASET_BY_TYPE:
        raise KeyError(f"no tiny data for dataset type {dataset['type']!r}; add it to DATASET_BY_TYPE")
    return tiny[DATASET_BY_TYPE[dataset['type']]]['data_root']


def shrink_loaders(cfg: Config, tiny: dict) -> Config:
    for key in LOADERS:
        loader = cfg.get(key)
        if not loader:
            continue
        loader.update(batch_size=2, num_workers=0)
        if 'persistent_workers' in loader:
            loader.persistent_workers = False
        loader.dataset.data_root = tiny_root(loader.dataset, tiny)
        loader.dataset.indices = 2
    return cfg


def shrink_for_one_step(cfg: Config, tiny: dict, work_dir: str) -> Config:
    shrink_loaders(cfg, tiny)
    loop = cfg.train_cfg
    if loop.get('type', 'EpochBasedTrainLoop') == 'EpochBasedTrainLoop' and 'max_epochs' in loop:
        loop.max_epochs = 1
    else:
        loop.max_iters = 1
    if 'val_interval' in loop:
        loop.val_interval = 1
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = 1
    cfg.work_dir = work_dir
    convert_sync_bn_cfg(cfg.model)
    if 'memory_bank' in cfg.model:  # one entry per (shrunk) training image
        cfg.model.memory_bank.length = 2
    head = cfg.model.get('head') or {}
    if head.get('num_classes', 0) > MAX_STEPPED_CLASSES:
        head.num_classes = len(tiny[DATASET_BY_TYPE[cfg.train_dataloader.dataset.type]]['classes'])
    return cfg


def check_svm_feature_extraction(cfg: Config, tiny: dict, out_dir: str) -> None:
    """VOC07 SVM configs train nothing themselves: run their feature extraction on two images per split."""
    shrink_loaders(cfg, tiny)
    extract_svm_features(cfg, None, out_dir)
    assert read_meta(out_dir)['layers'] == list(cfg.layers)
    for split in ('trainval', 'test'):
        for layer in cfg.layers:
            features = np.load(osp.join(out_dir, f'{split}_{layer}.npy'))
            assert features.shape[0] == 2 and np.allclose(np.linalg.norm(features, axis=1), 1, atol=1e-3)


def check_places_lowshot_extraction(cfg: Config, tiny: dict, out_dir: str) -> None:
    """The Places205 low-shot config: samples drawn from the whole tiny train list (k=1), then only the sampled
    images and the val images (two) are extracted."""
    shrink_loaders(cfg, tiny)
    cfg.trainval_dataloader.dataset.pop('indices')  # the samples need every class of the list
    train = read_places_list(cfg.trainval_dataloader.dataset)
    samples = generate_places_lowshot_samples(train.labels, train.classes, shots=(1, ), num_samples=1)
    extract_places_lowshot_features(cfg, None, out_dir, train, samples)
    assert read_meta(out_dir)['classes'] == list(tiny['places205']['classes']) and cfg.lowshot_costs == 'voc07_26'
    for split, rows in (('trainval', len(train.classes)), ('test', 2)):
        labels = np.load(osp.join(out_dir, f'{split}_labels.npy'))
        assert labels.shape == (rows, len(train.classes)) and ((labels == 1).sum(1) == 1).all()
        for layer in cfg.layers:
            assert np.load(osp.join(out_dir, f'{split}_{layer}.npy')).shape[0] == rows


def check_probe(cfg: Config, tiny: dict, work_dir: str) -> None:
    """Probe configs train nothing themselves: extract their taps on two images per split and fit one C (chosen on
    val: two training rows cannot spare a held-out split), after checking the config's own settings."""
    settings = probe_settings(cfg)
    assert settings['selection'] == 'heldout' and settings['refit'] and len(settings['costs']) >= 2
    cfg.probe.update(selection='val', costs=[1.0])
    metrics = Probe().run(shrink_loaders(cfg, tiny), BackboneWeights.random(0), work_dir)
    assert metrics and all(name.split('/')[0] in settings['taps'] for name in metrics)
    record = Probe.record_path(work_dir)
    assert osp.isfile(record), record


@pytest.mark.slow  # one end-to-end run per config, ResNet-50s included; the fast suite still parses every config
def test_config_builds_and_trains_one_step(shipped_config, shipped_configs, config_root, tiny_data, tmp_path):
    config = shipped_config  # the name used in every message below
    delegated = next((test for prefix, test in DELEGATED.items() if config.startswith(prefix)), None)
    if delegated:
        pytest.skip(f'built and trained end to end in {delegated}')
    register_all_modules()
    cfg = Config.fromfile(str(config_root / config))
    grid = grid_of(config)
    if grid and config != trained_grid_point(grid, shipped_configs):
        check_grid_point(cfg, config, trained_grid_point(grid, shipped_configs), config_root)
        return
    if 'trainval_dataloader' in cfg and cfg.get('dataset_name') == 'Places205':
        check_places_lowshot_extraction(cfg, tiny_data, str(tmp_path))
        return
    if 'trainval_dataloader' in cfg:
        check_svm_feature_extraction(cfg, tiny_data, str(tmp_path))
        return
    if 'probe' in cfg:
        check_probe(cfg, tiny_data, str(tmp_path))
        return
    if 'knn' in cfg:
        metrics = KNN().evaluate(shrink_loaders(cfg, tiny_data), None, str(tmp_path))
        assert all(0 <= value <= 100 for value in metrics.values()) and 'k10/top1' in metrics
        return
    cfg = shrink_for_one_step(cfg, tiny_data, str(tmp_path))
    runner = Runner.from_cfg(cfg)
    runner.train()
    loss = runner.message_hub.get_scalar('train/loss').current()
    assert math.isfinite(loss), f'{config}: loss {loss}'
    assert osp.exists(osp.join(str(tmp_path), 'last_checkpoint'))
    if cfg.get('val_dataloader'):
        assert any(key.startswith('val/') for key in runner.message_hub.log_scalars), f'{config}: no validation'
    torch.set_grad_enabled(True)


def _flat(node, prefix=''):
    if isinstance(node, dict):
        return {key: value for k, v in node.items() for key, value in _flat(v, f'{prefix}{k}.').items()}
    return {prefix[:-1]: node}


def check_grid_point(cfg: Config, config: str, trained: str, config_root) -> None:
    """A grid point that is not trained: it builds (model and optimizer wrapper, its lr and head multiplier
    applied) and its config equals the trained point's but for the grid's own keys."""
    reference = _flat(Config.fromfile(str(config_root / trained)).to_dict())
    own = _flat(cfg.to_dict())
    differing = {key for key in set(reference) | set(own) if reference.get(key) != own.get(key)}
    assert differing <= set(GRID_KEYS), f'{config} differs from {trained} in {sorted(differing - set(GRID_KEYS))}'
    model = MODELS.build(convert_sync_bn_cfg(cfg.model))
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    groups = {id(param): group for group in optim_wrapper.optimizer.param_groups for param in group['params']}
    lr = cfg.optim_wrapper.optimizer.lr
    head_mult = cfg.optim_wrapper.paramwise_cfg.custom_keys.head.lr_mult
    assert groups[id(model.head.fc.weight)]['lr'] == pytest.approx(lr * head_mult)
    assert groups[id(model.backbone.conv1.weight)]['lr'] == pytest.approx(lr)


def test_wide_heads_are_asserted_before_they_are_shrunk(config_root):
    cfg = Config.fromfile(str(config_root / 'benchmarks/classification/inaturalist2018/'
                                            'resnet50_mhead_8xb32-steplr-84e_inat18.py'))
    assert cfg.model.head.num_classes == 8142


def test_every_config_is_collected(shipped_configs, repo_root):
    assert 'selfsup/relative_loc/relative-loc_resnet50_8xb64-steplr-70e_in1k.py' in shipped_configs
    assert not any('_base_' in config for config in shipped_configs)
    for test in set(DELEGATED.values()):
        assert (repo_root / test).is_file(), test

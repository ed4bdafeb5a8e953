"""Detection / segmentation benchmarks handed to mmdet and mmseg (configs/benchmarks/mm{detection,segmentation}).

The end-to-end tests (``slow``) train every dense benchmark config for two iterations through
``tools/benchmarks/<toolbox>/train.py`` on tiny data in the real formats, from a checkpoint written by an mmssl
model, then evaluate the result with ``test.py``: this is where tests/configs/test_configs.py delegates them.
Overrides only shrink what makes a step slow on a CPU (image scales, proposals, RoIs, crop sizes).
"""
import os.path as osp
import re

import pytest
import torch
from builders import REPO_ROOT as REPO
from builders.dense_datasets import make_cityscapes, make_coco_instances, make_voc12aug, make_voc0712
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmssl.benchmarks.cli import main as run_benchmark
from mmssl.benchmarks.dense import SegmentationBenchmark, find_download_urls, set_dense_pretrained
from mmssl.benchmarks.records import read_result
from mmssl.registry import MODELS as MMSSL_MODELS
from mmssl.utils import BackboneWeights, CheckpointMismatchError, convert_sync_bn_cfg, register_all_modules

CONFIG_ROOT = REPO / 'configs' / 'benchmarks'
TOOLS = REPO / 'tools' / 'benchmarks'
PRETRAIN_CONFIG = 'configs/selfsup/relative_loc/relative-loc_resnet50_8xb64-steplr-70e_in1k.py'
VOC_C4 = 'mmdetection/voc0712/faster-rcnn_r50-c4_ms-24k_voc0712.py'
COCO_MASK = 'mmdetection/coco/mask-rcnn_r50_fpn_ms-1x_coco.py'
COCO_MASK_2X = 'mmdetection/coco/mask-rcnn_r50_fpn_ms-2x_coco.py'
COCO_C4 = 'mmdetection/coco/mask-rcnn_r50-c4_ms-1x_coco.py'
COCO_C4_2X = 'mmdetection/coco/mask-rcnn_r50-c4_ms-2x_coco.py'
COCO_CONFIGS = (COCO_MASK, COCO_MASK_2X, COCO_C4, COCO_C4_2X)
C4_CONFIGS = (VOC_C4, COCO_C4, COCO_C4_2X)
VOC_FCN = 'mmsegmentation/voc12aug/fcn_r50-d8_4xb4-20k_voc12aug-512x512.py'
CITY_FCN = 'mmsegmentation/cityscapes/fcn_r50-d8_4xb2-40k_cityscapes-769x769.py'
# The ViT segmentation configs (ADE20K UperNet) are trained end to end in tests/benchmarks/test_dense_vit.py.
VIT_DENSE_FOLDERS = ('ade20k', )
DENSE_CONFIGS = sorted(str(p.relative_to(CONFIG_ROOT)) for folder in ('mmdetection', 'mmsegmentation')
                       for p in (CONFIG_ROOT / folder).rglob('*.py') if p.parent.name not in VIT_DENSE_FOLDERS)
TOOLBOX = {'mmdetection': 'mmdet', 'mmsegmentation': 'mmseg'}
COCO_METRICS = {f'coco/{kind}_mAP{suffix}' for kind in ('bbox', 'segm') for suffix in ('', '_50', '_75')}
EXPECTED_METRICS = {
    VOC_C4: {'pascal_voc/mAP', 'pascal_voc/AP50'},
    **{config: COCO_METRICS for config in COCO_CONFIGS},
    VOC_FCN: {'mIoU', 'aAcc', 'mAcc'},
    CITY_FCN: {'mIoU', 'aAcc', 'mAcc'},
}


def toolbox_of(config: str) -> str:
    return TOOLBOX[config.split('/')[0]]


@pytest.fixture(scope='module')
def pretrain(tmp_path_factory):
    """A relative-location ResNet-50 model built by mmssl, saved as tools/train.py would save it.

    Its norm layers get non-default affine parameters and running statistics, so a backbone left at the
    detector's own initialisation cannot pass for a loaded one.
    """
    register_all_modules()
    model_cfg = convert_sync_bn_cfg(Config.fromfile(str(REPO / 'configs/_base_/models/relative-loc.py')).model)
    model = MMSSL_MODELS.build(model_cfg)
    model.init_weights()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for module in model.backbone.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5, generator=generator)
                module.bias.normal_(0, 0.1, generator=generator)
                module.running_mean.normal_(0, 0.1, generator=generator)
                module.running_var.uniform_(0.5, 1.5, generator=generator)
    path = tmp_path_factory.mktemp('pretrain') / 'relative-loc_epoch_70.pth'
    torch.save({'meta': {'epoch': 70, 'iter': 70000}, 'state_dict': model.state_dict()}, path)
    backbone = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    assert any(k.startswith('neck.') for k in model.state_dict())
    return str(path), backbone


def cli_value(value) -> str:
    """A value as mmengine's DictAction parses it back (tuples and lists nest, strings stay bare)."""
    if isinstance(value, tuple):
        return '(' + ','.join(cli_value(v) for v in value) + ')'
    if isinstance(value, list):
        return '[' + ','.join(cli_value(v) for v in value) + ']'
    return str(value)


def cfg_options(options: dict) -> list:
    return ['--cfg-options'] + [f'{key}={cli_value(value)}' for key, value in options.items()]


def loader_options(prefix: str, batch_size: int) -> dict:
    return {f'{prefix}.batch_size': batch_size, f'{prefix}.num_workers': 0, f'{prefix}.persistent_workers': False}


def rcnn_options() -> dict:
    # res5 (C4) and the mask head run per RoI: few proposals and RoIs keep a CPU step to seconds.
    # score_thr=0: a detector trained for two iterations scores every class near 1/(C+1); the metrics still need
    # detections to evaluate.
    return {'model.train_cfg.rpn_proposal.nms_pre': 200, 'model.train_cfg.rpn_proposal.max_per_img': 64,
            'model.train_cfg.rcnn.sampler.num': 32, 'model.test_cfg.rpn.nms_pre': 200,
            'model.test_cfg.rpn.max_per_img': 32, 'model.test_cfg.rcnn.score_thr': 0.0,
            'model.test_cfg.rcnn.max_per_img': 20}


def cpu_size_options(config: str, root: str) -> dict:
    """Data locations and CPU-sized settings for ``config``; the loop runs 2 iterations and validates at the end."""
    # The optimizer state would double the checkpoint that test.py reads back.
    options = {'default_hooks.logger.interval': 1, 'default_hooks.checkpoint.save_optimizer': False}
    if config == VOC_C4:
        data = make_voc0712(root)
        options.update(loader_options('train_dataloader', 1))
        for index in (0, 1):
            dataset = f'train_dataloader.dataset.datasets.{index}'
            options[f'{dataset}.data_root'] = data['data_root']
            options[f'{dataset}.pipeline.2.scales'] = [(160, 96), (160, 128)]
        options.update({'train_cfg.max_iters': 2, 'train_cfg.val_interval': 2, 'default_hooks.checkpoint.interval': 2})
        options.update(rcnn_options())
    elif config in COCO_CONFIGS:
        data = make_coco_instances(root)
        options.update(loader_options('train_dataloader', 1))
        options['train_dataloader.dataset.data_root'] = data['data_root']
        options['train_dataloader.dataset.pipeline.2.scales'] = [(160, 96), (160, 128)]
        for evaluator in ('val_evaluator', 'test_evaluator'):
            options[f'{evaluator}.ann_file'] = osp.join(data['data_root'], data['val']['ann_file'])
        options.update({'train_cfg.max_epochs': 1})  # 2 images, batch 1: 2 iterations
        options.update(rcnn_options())
    else:
        crop = (64, 64)
        options.update(loader_options('train_dataloader', 2))
        if config == VOC_FCN:
            data = make_voc12aug(root)
            options['train_dataloader.dataset.pipeline.6.size'] = crop
        else:
            data = make_cityscapes(root)
            options.update({'model.test_cfg.crop_size': crop, 'model.test_cfg.stride': (48, 48)})
        options.update({'train_dataloader.dataset.data_root': data['data_root'],
                        'train_dataloader.dataset.pipeline.2.scale': (128, 64),
                        'train_dataloader.dataset.pipeline.3.crop_size': crop,
                        'model.data_preprocessor.size': crop, 'train_cfg.max_iters': 2, 'train_cfg.val_interval': 2,
                        'default_hooks.checkpoint.interval': 2})
    for loader in ('val_dataloader', 'test_dataloader'):
        options.update(loader_options(loader, 1))
        options[f'{loader}.dataset.data_root'] = data['data_root']
        options[f'{loader}.dataset.pipeline.1.scale'] = (160, 128) if toolbox_of(config) == 'mmdet' else (128, 64)
    return options


def test_every_dense_config_is_tested():
    assert DENSE_CONFIGS == sorted(EXPECTED_METRICS), 'add new dense configs to EXPECTED_METRICS and cpu_size_options'


@pytest.mark.parametrize('config', DENSE_CONFIGS)
def test_config_protocol(config):
    """What the transfer protocol (docs/en/benchmarks/detection_segmentation.md) fixes, read from the merged config
    (mmdet / mmseg base + mmssl overrides)."""
    cfg = Config.fromfile(str(CONFIG_ROOT / config))
    backbone = cfg.model.backbone
    assert cfg.default_scope == toolbox_of(config)
    assert backbone.type == 'ResNet' and backbone.depth == 50 and not backbone.get('deep_stem', False)
    assert backbone.norm_cfg.type == 'SyncBN' and backbone.norm_eval is False
    assert backbone.init_cfg == dict(type='Pretrained', checkpoint=None, prefix='backbone.')
    assert not find_download_urls(cfg.model) and cfg.model.get('pretrained') is None
    assert any(hook.type == 'mmssl.PretrainedWeightsCheckHook' for hook in cfg.custom_hooks)
    if config in C4_CONFIGS:
        shared_head = cfg.model.roi_head.shared_head
        assert shared_head.type == 'ResLayerExtraNorm' and shared_head.norm_eval is False
        assert shared_head.norm_cfg.type == 'SyncBN'
        assert shared_head.init_cfg == backbone.init_cfg and backbone.frozen_stages == -1
        assert backbone.style == shared_head.style == 'pytorch'
        assert cfg.model.data_preprocessor.bgr_to_rgb is True
        assert any(m['name'] == 'roi_head.shared_head' for m in cfg.custom_hooks[0].modules)
    if config == VOC_C4:
        scales = cfg.train_dataloader.dataset.datasets[0].pipeline[2].scales
        assert [short for _, short in scales] == list(range(480, 801, 32))
        assert (cfg.train_cfg.type, cfg.train_cfg.max_iters) == ('IterBasedTrainLoop', 24000)
        assert cfg.param_scheduler[1].milestones == [18000, 22000]
        assert cfg.val_evaluator.type == 'VOCMetric' and cfg.val_evaluator.eval_mode == '11points'
    elif config in COCO_CONFIGS:
        if config in (COCO_MASK, COCO_MASK_2X):
            assert cfg.model.roi_head.bbox_head.type == 'Shared4Conv1FCBBoxHead'
            assert cfg.model.roi_head.bbox_head.norm_cfg.type == 'SyncBN' and backbone.frozen_stages == -1
        else:  # C4: mmdet's res5 RoI head (BBoxHead on pooled res5, FCN mask head without convs)
            assert cfg.model.roi_head.bbox_head.type == 'BBoxHead' and cfg.model.roi_head.mask_roi_extractor is None
        assert [short for _, short in cfg.train_dataloader.dataset.pipeline[2].scales] == list(range(640, 801, 32))
        two_x = config in (COCO_MASK_2X, COCO_C4_2X)
        assert cfg.train_cfg.max_epochs == (24 if two_x else 12)
        assert cfg.param_scheduler[1].milestones == ([16, 22] if two_x else [8, 11])
        assert cfg.param_scheduler[0].end == (1000 if two_x else 500)
        assert cfg.optim_wrapper.optimizer.lr == 0.02 and set(cfg.val_evaluator.metric) == {'bbox', 'segm'}
    else:
        optimizer = cfg.optim_wrapper.optimizer
        assert (optimizer.lr, optimizer.weight_decay) == (0.01, 5e-4)
        assert cfg.param_scheduler[0].type == 'PolyLR'
        assert cfg.train_cfg.max_iters == (20000 if config == VOC_FCN else 40000)
        assert cfg.model.decode_head.norm_cfg.type == 'SyncBN'


@pytest.mark.parametrize('config', DENSE_CONFIGS)
def test_pretrained_weights_reach_the_model(config, pretrain):
    """The launcher's config loads every backbone tensor (and C4's res5) of an mmssl checkpoint unchanged."""
    path, backbone_state = pretrain
    cfg = Config.fromfile(str(CONFIG_ROOT / config))
    set_dense_pretrained(cfg, path, config)
    convert_sync_bn_cfg(cfg.model)
    toolbox = toolbox_of(config)
    registry = __import__(f'{toolbox}.registry', fromlist=['MODELS']).MODELS
    __import__('mmssl.models.utils.res_layer_extra_norm' if toolbox == 'mmdet' else 'mmssl.engine')
    with DefaultScope.overwrite_default_scope(toolbox):
        model = registry.build(cfg.model)
    model.init_weights()
    loaded = model.backbone.state_dict()
    assert set(loaded) <= set(backbone_state)
    for key, value in loaded.items():
        assert torch.equal(value, backbone_state[key]), key
    if config in C4_CONFIGS:
        res5 = model.roi_head.shared_head.state_dict()
        res5_keys = [k for k in res5 if not k.startswith('norm.')]
        assert res5_keys == [k for k in backbone_state if k.startswith('layer4.')]
        for key in res5_keys:
            assert torch.equal(res5[key], backbone_state[key]), key
        assert torch.equal(res5['norm.weight'], torch.ones(2048))
    else:
        assert set(loaded) == set(backbone_state)  # the whole plain ResNet-50, stem included


def test_backbone_only_checkpoint_is_refused(pretrain, tmp_path):
    path, backbone_state = pretrain
    backbone_only = tmp_path / 'backbone.pth'
    torch.save({'state_dict': backbone_state}, backbone_only)
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(str(CONFIG_ROOT / VOC_FCN))
    with pytest.raises(CheckpointMismatchError, match=r'backbone\.pth: expected a full mmssl pre-training checkpoint '
                       r'with "backbone\."-prefixed keys.*backbone-only file'):
        set_dense_pretrained(cfg, str(backbone_only))
    with pytest.raises(FileNotFoundError, match='missing.pth does not exist'):
        set_dense_pretrained(cfg, str(tmp_path / 'missing.pth'))


def test_wrong_toolbox_and_missing_hook_are_refused(pretrain, tmp_path):
    path, _ = pretrain
    with pytest.raises(ValueError, match=r"runs mmdet configs \(default_scope='mmdet'\).*'mmseg'.*mmsegmentation"):
        run_benchmark('det', [str(CONFIG_ROOT / VOC_FCN), path, '--work-dir', str(tmp_path)])
    child = tmp_path / 'no_hook.py'
    child.write_text(f'_base_ = {str(CONFIG_ROOT / VOC_FCN)!r}\ncustom_hooks = []\n')
    with pytest.raises(ValueError, match='no mmssl.PretrainedWeightsCheckHook in custom_hooks'):
        SegmentationBenchmark().configure(Config.fromfile(str(child)), BackboneWeights.from_checkpoint(path),
                                          str(tmp_path))
    child.write_text(f'_base_ = {str(CONFIG_ROOT / VOC_FCN)!r}\n'
                     "model = dict(auxiliary_head=dict(init_cfg=dict(type='Pretrained', "
                     "checkpoint='open-mmlab://resnet50_v1c')))\n")
    with pytest.raises(ValueError, match=r"model\.auxiliary_head\.init_cfg\.checkpoint='open-mmlab://resnet50_v1c'"):
        SegmentationBenchmark().configure(Config.fromfile(str(child)), BackboneWeights.from_checkpoint(path),
                                          str(tmp_path))


@pytest.mark.slow
def test_deep_stem_checkpoint_is_refused_before_training(pretrain, tmp_path, run_tool):
    """A ResNetV1c checkpoint (stem.0 ... instead of conv1 / bn1) shares 98% of the keys but not the input layer."""
    _, backbone_state = pretrain
    deep_stem = {f'backbone.{k}': v for k, v in backbone_state.items() if not k.startswith(('conv1.', 'bn1.'))}
    deep_stem.update({'backbone.stem.0.weight': torch.zeros(32, 3, 3, 3), 'backbone.stem.1.weight': torch.ones(32)})
    path = tmp_path / 'resnet50-v1c.pth'
    torch.save({'state_dict': deep_stem}, path)
    options = cpu_size_options(CITY_FCN, str(tmp_path / 'data'))
    with pytest.raises(CheckpointMismatchError) as error:
        run_tool('benchmarks/mmsegmentation/train.py', CONFIG_ROOT / CITY_FCN, path, '--work-dir', tmp_path / 'work',
                 *cfg_options(options))
    message = str(error.value)
    assert str(path) in message and 'prefix "backbone."' in message and "input layer 'conv1.weight'" in message
    assert re.search(r'\d+/\d+ keys equal to the checkpoint \(9\d\.\d%\)', message), message
    assert not osp.exists(tmp_path / 'work' / 'iter_1.pth')


@pytest.mark.slow
@pytest.mark.parametrize('config', DENSE_CONFIGS)
def test_train_then_test_end_to_end(config, pretrain, tmp_path, run_tool):
    path, _ = pretrain
    folder = config.split('/')[0]
    options = cpu_size_options(config, str(tmp_path / 'data'))
    work_dir = tmp_path / 'work'
    benchmark = 'detection' if folder == 'mmdetection' else 'segmentation'
    metrics = run_tool(f'benchmarks/{folder}/train.py', CONFIG_ROOT / config, path, '--work-dir', work_dir,
                       '--pretrain-config', PRETRAIN_CONFIG, *cfg_options(options))
    assert EXPECTED_METRICS[config] <= set(metrics) and 'time' not in metrics, metrics
    record = read_result(str(work_dir / f'result_{benchmark}.json'))
    assert record['benchmark'] == benchmark and record['metrics'] == metrics
    assert record['checkpoint']['path'] == path and record['pretrain_config'] == PRETRAIN_CONFIG
    assert record['benchmark_config'] == str(CONFIG_ROOT / config)
    log = next(work_dir.rglob('*.log')).read_text()
    assert f'Pre-trained weights in model.backbone from {path} (prefix "backbone."): ' in log
    assert re.search(r'model\.backbone .*: (\d+)/\1 keys equal to the checkpoint \(100\.0%\)', log)
    if config in C4_CONFIGS:
        assert re.search(r'model\.roi_head\.shared_head .*: 60/60 keys equal .* new layers 5', log)

    checkpoint = (work_dir / 'last_checkpoint').read_text().strip()
    test_metrics = run_tool(f'benchmarks/{folder}/test.py', CONFIG_ROOT / config, checkpoint, '--work-dir',
                            tmp_path / 'test', *cfg_options(options))
    assert EXPECTED_METRICS[config] <= set(test_metrics), test_metrics
    for name in EXPECTED_METRICS[config]:
        assert 0 <= test_metrics[name] <= 100
    test_record = read_result(str(tmp_path / 'test' / f'result_{benchmark}_test.json'))
    assert test_record['checkpoint']['path'] == checkpoint and test_record['extra']['split'] == 'test'

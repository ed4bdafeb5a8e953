"""Vision Transformers in mmseg's UperNet (configs/benchmarks/mmsegmentation/ade20k): timm names to mmseg's MAE
names, the fit check, and the ADE20K benchmark trained end to end from a timm ViT checkpoint on a tiny ADE20K tree.
tests/configs/test_configs.py delegates the ADE20K config here."""
import re

import pytest
import torch
from builders import REPO_ROOT
from builders.dense_datasets import make_ade20k
from mmengine.config import Config
from timm.models.vision_transformer import VisionTransformer as TimmViT

from mmssl.benchmarks.dense_vit import check_mmseg_vit_fit, is_mmseg_vit, timm_to_mmseg_mae
from mmssl.benchmarks.records import read_result
from mmssl.utils import CheckpointMismatchError, register_all_modules

ADE20K_CONFIG = REPO_ROOT / 'configs/benchmarks/mmsegmentation/ade20k/upernet_vit-base-p16_8xb2-160k_ade20k-512x512.py'
TINY = dict(embed_dim=192, num_heads=3)


def timm_vit(depth=2, patch_size=16, img_size=64, seed=0, **kwargs):
    torch.manual_seed(seed)
    model = TimmViT(img_size=img_size, patch_size=patch_size, depth=depth, num_classes=0, **TINY, **kwargs).eval()
    with torch.no_grad():  # LayerNorms away from their initial values, so that a missed one shows
        for name, param in model.named_parameters():
            if 'norm' in name:
                param.normal_(1 if name.endswith('weight') else 0, 0.1)
    return model


def mmseg_mae(depth=2, patch_size=16, img_size=64, out_indices=(0, 1)):
    from mmseg.models.backbones import MAE
    model = MAE(img_size=(img_size, img_size), patch_size=patch_size, embed_dims=TINY['embed_dim'], num_layers=depth,
                num_heads=TINY['num_heads'], mlp_ratio=4, init_values=1.0, out_indices=list(out_indices),
                norm_cfg=dict(type='LN', eps=1e-6))  # as the UperNet config; timm's eps
    model.eval()  # mmseg's BEiT.train returns None
    return model


def test_timm_vit_loads_into_mmseg_mae_and_computes_the_same_blocks():
    timm_model, mae = timm_vit(), mmseg_mae()
    renamed, dropped = timm_to_mmseg_mae(timm_model.state_dict())
    assert dropped == ['norm.weight', 'norm.bias']
    result = mae.load_state_dict(renamed, strict=False)
    assert result.unexpected_keys == []
    # What mmseg's MAE has and a plain ViT lacks: layer scale (1.0), the relative position bias (zeros) and its index.
    assert {re.sub(r'layers\.\d+\.', '', key) for key in result.missing_keys} == {
        'gamma_1', 'gamma_2', 'attn.relative_position_bias_table', 'attn.relative_position_index'}
    with torch.no_grad():  # the values mmseg's initialisation gives them in the UperNet config
        for layer in mae.layers:
            layer.attn.relative_position_bias_table.zero_()
            layer.gamma_1.fill_(1.), layer.gamma_2.fill_(1.)
        image = torch.randn(2, 3, 64, 64)
        expected = timm_model.forward_intermediates(image, indices=[0, 1], norm=False, intermediates_only=True)
        outputs = mae(image)
    for output, reference in zip(outputs, expected):
        torch.testing.assert_close(output, reference, atol=1e-5, rtol=1e-5)


def test_layer_scale_is_kept_and_register_tokens_are_refused():
    renamed, _ = timm_to_mmseg_mae(timm_vit(init_values=1e-5).state_dict())
    assert 'layers.1.gamma_2' in renamed
    with pytest.raises(CheckpointMismatchError, match=r'dinov2\.pth: 1 entries .* \(e\.g\. reg_token\)'):
        timm_to_mmseg_mae(timm_vit(reg_tokens=4, no_embed_class=True).state_dict(), 'dinov2.pth')


@pytest.mark.parametrize('change, message', [
    (dict(patch_size=8), r'patch_embed\.projection\.weight \(192, 3, 8, 8\) vs \(192, 3, 16, 16\)'),
    (dict(depth=1), r'missing: layers\.1\.ln1\.weight'),
])
def test_a_vit_that_does_not_fit_the_config_is_refused(change, message):
    renamed, _ = timm_to_mmseg_mae(timm_vit(**change).state_dict())
    with pytest.raises(CheckpointMismatchError, match=rf"vit\.pth does not fit the config's MAE backbone: .*{message}"):
        check_mmseg_vit_fit(renamed, mmseg_mae(), 'vit.pth')
    # The same weights at another input size fit: mmseg interpolates the position grid.
    fitting, _ = timm_to_mmseg_mae(timm_vit(img_size=32).state_dict())
    check_mmseg_vit_fit(fitting, mmseg_mae(), 'vit.pth')


def test_the_config_backbone_is_built_by_mmseg_inside_an_mmssl_run():
    # A benchmark runs with mmssl as mmengine's default scope, whose registry has no MAE.
    from mmengine.registry import DefaultScope

    from mmssl.benchmarks.dense_vit import _build_mmseg_backbone
    with DefaultScope.overwrite_default_scope('mmssl'):
        backbone = _build_mmseg_backbone(dict(type='mmseg.MAE', img_size=(64, 64), patch_size=16,
                                              embed_dims=TINY['embed_dim'], num_layers=2,
                                              num_heads=TINY['num_heads'], init_cfg=dict(type='Pretrained')))
    assert type(backbone).__name__ == 'MAE'


def test_ade20k_config_is_the_mmseg_mae_protocol():
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(str(ADE20K_CONFIG))
    assert is_mmseg_vit(cfg) and cfg.default_scope == 'mmseg' and cfg.dataset_name == 'ADE20K'
    assert cfg.optim_wrapper.constructor == 'LayerDecayOptimizerConstructor'
    assert cfg.optim_wrapper.paramwise_cfg == dict(num_layers=12, layer_decay_rate=0.65)
    assert cfg.optim_wrapper.optimizer == dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05)
    assert cfg.train_cfg.max_iters == 160000 and cfg.train_dataloader.batch_size == 2
    assert cfg.model.backbone.type == 'MAE' and cfg.model.backbone.init_cfg.prefix == ''
    assert cfg.model.decode_head.num_classes == 150 and cfg.model.test_cfg.mode == 'slide'


@pytest.mark.slow
def test_ade20k_trains_from_a_timm_vit_end_to_end(tmp_path, run_tool):
    """Two iterations of the ADE20K UperNet from a timm ViT file, then the validation; the weights reach the
    backbone under mmseg's names. A CPU step stays short with ViT-Tiny's width and 4 blocks (all four into the
    neck, the layer-wise decay over 4)."""
    data = make_ade20k(str(tmp_path / 'data'))
    checkpoint = tmp_path / 'vit-tiny_timm.pth'
    torch.save(timm_vit(depth=4, img_size=224).state_dict(), checkpoint)
    crop, width = (64, 64), TINY['embed_dim']
    options = {
        'model.backbone.img_size': crop, 'model.backbone.embed_dims': width,
        'model.backbone.num_heads': TINY['num_heads'], 'model.backbone.num_layers': 4,
        'model.backbone.out_indices': [0, 1, 2, 3], 'optim_wrapper.paramwise_cfg.num_layers': 4,
        'model.neck.embed_dim': width,
        'model.decode_head.in_channels': [width] * 4, 'model.decode_head.channels': 64,
        'model.auxiliary_head.in_channels': width, 'model.auxiliary_head.channels': 32,
        'model.data_preprocessor.size': crop, 'model.test_cfg.crop_size': crop, 'model.test_cfg.stride': (48, 48),
        'train_dataloader.dataset.data_root': data['data_root'], 'train_dataloader.batch_size': 2,
        'train_dataloader.dataset.pipeline.2.scale': (128, 64), 'train_dataloader.dataset.pipeline.3.crop_size': crop,
        'train_cfg.max_iters': 2, 'train_cfg.val_interval': 2, 'default_hooks.checkpoint.interval': 2,
        'default_hooks.logger.interval': 1, 'default_hooks.checkpoint.save_optimizer': False,
        'param_scheduler.0.end': 1,
    }
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options.update({f'{loader}.num_workers': 0, f'{loader}.persistent_workers': False})
    for loader in ('val_dataloader', 'test_dataloader'):
        options.update({f'{loader}.dataset.data_root': data['data_root'],
                        f'{loader}.dataset.pipeline.1.scale': (128, 64)})
    cli = ['--cfg-options'] + [f'{key}={_cli(value)}' for key, value in options.items()]
    work_dir = tmp_path / 'work'
    metrics = run_tool('benchmarks/mmsegmentation/train.py', ADE20K_CONFIG, checkpoint, '--work-dir', work_dir, *cli)
    assert {'mIoU', 'aAcc', 'mAcc'} <= set(metrics), metrics
    record = read_result(str(work_dir / 'result_segmentation.json'))
    assert record['checkpoint']['path'] == str(checkpoint) and record['dataset'] == 'ADE20K'
    converted = list((work_dir / 'pretrained').glob('vit-tiny_timm-*_mmseg-mae.pth'))
    assert len(converted) == 1
    log = next(work_dir.rglob('*.log')).read_text()
    # Every backbone tensor equals the file's (4 blocks x 12 + 4), but the 4 x 4 that mmseg adds to a ViT.
    assert re.search(r'model\.backbone from \S+_mmseg-mae\.pth \(prefix ""\): 52/52 keys equal to the checkpoint '
                     r'\(100\.0%\), .* new layers 16', log), log[-3000:]


def _cli(value) -> str:
    if isinstance(value, (tuple, list)):
        inner = ','.join(_cli(v) for v in value)
        return f'({inner})' if isinstance(value, tuple) else f'[{inner}]'
    return str(value)

"""Every Vision Transformer checkpoint layout of docs/en/checkpoints.md, written from one timm ViT as its own project
writes it (``builders.vit_checkpoints``), detected, read into timm's names and loaded into mmssl's ViT backbone,
whose features then equal timm's; every refusal the loader owes a ViT, in one line and before anything loads. The
tools on every layout: tests/tools/test_vit_checkpoint_layouts.py.
"""
import argparse
import os

import pytest
import torch
from builders.checkpoints import save_resnet_checkpoint
from builders.vit_checkpoints import (TINY, VIT_LAYOUTS, OtherTrainerOptions, dino_args, dinov2_backbone, mae_args,
                                      timm_vit, write_vit_layout)

from mmssl.models import ResNet
from mmssl.models.backbones.vit import VisionTransformer
from mmssl.models.utils.checkpoint_import import import_checkpoint
from mmssl.utils import BackboneWeights, CheckpointMismatchError, read_backbone, read_checkpoint


def mmssl_vit(**kwargs) -> VisionTransformer:
    """mmssl's ViT of the builders' geometry (ViT-Tiny width, two blocks, patch 4, 32 px) unless overridden."""
    options = dict(arch=TINY, patch_size=4, img_size=32, out_taps=('cls_last1', 'block2_mean'))
    return VisionTransformer(**{**options, **kwargs}).eval()


def timm_features(model, images):
    """The class token and the mean patch token of timm's last block after its final norm."""
    tokens = model.forward_features(images)
    return tokens[:, 0], tokens[:, model.num_prefix_tokens:].mean(dim=1)


def assert_same_features(backbone, model, atol=1e-5):
    images = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        cls, mean = (tap.flatten(1) for tap in backbone(images))
        expected_cls, expected_mean = timm_features(model, images)
    torch.testing.assert_close(cls, expected_cls, atol=atol, rtol=0)
    torch.testing.assert_close(mean, expected_mean, atol=atol, rtol=0)


@pytest.mark.parametrize('layout', list(VIT_LAYOUTS))
def test_every_vit_layout_gives_timms_weights_and_features(layout, vit_source, vit_layouts):
    weights = BackboneWeights.from_checkpoint(vit_layouts[layout])
    assert weights.layout == VIT_LAYOUTS[layout]
    expected = {key: value for key, value in vit_source.state_dict().items() if not key.startswith('head.')}
    assert sorted(weights.state_dict) == sorted(expected), layout
    for key, value in expected.items():
        assert torch.equal(weights.state_dict[key], value), (layout, key)
    backbone = mmssl_vit()
    report = weights.load_into(backbone)
    assert report.format == VIT_LAYOUTS[layout] and report.input_layer_loaded and report.match_ratio == 1.0
    assert report.first_key == 'patch_embed.proj.weight'
    assert_same_features(backbone, vit_source)


def test_the_teacher_is_read_and_the_rest_is_reported_left_out(vit_layouts, vit_source):
    dino = BackboneWeights.from_checkpoint(vit_layouts['dino'])
    assert dino.dropped == {'student': 36, 'head': 6, 'optimizer': 1, 'dino_loss': 1}  # backbone 30 + head 6
    mae = BackboneWeights.from_checkpoint(vit_layouts['mae'])
    assert {'mask_token', 'decoder_embed', 'decoder_blocks', 'decoder_pred', 'optimizer'} <= set(mae.dropped)
    mocov3 = BackboneWeights.from_checkpoint(vit_layouts['mocov3'])
    assert {'module.base_encoder.head', 'module.momentum_encoder', 'module.predictor'} <= set(mocov3.dropped)
    student, layout = read_backbone(vit_layouts['dino'], key_path='student')  # the student, on request
    assert layout == 'ddp+mmssl' and torch.equal(student['cls_token'], vit_source.cls_token + 1)


def dinov2_source(**kwargs):
    """A timm ViT with 4 registers and layer scale whose register tokens get no position (DINOv2's convention:
    ``pos_embed`` rows for the class token and the patches only)."""
    model = timm_vit(seed=3, reg_tokens=4, init_values=0.5, **kwargs)
    with torch.no_grad():
        model.pos_embed[:, 1:5] = 0
    return model


def dinov2_file(model, path, **kwargs):
    backbone = {key: value for key, value in model.state_dict().items() if not key.startswith('head.')}
    backbone['pos_embed'] = torch.cat([backbone['pos_embed'][:, :1], backbone['pos_embed'][:, 5:]], dim=1)
    torch.save(dinov2_backbone(backbone, **kwargs), path)
    return str(path)


def test_dinov2_registers_layer_scale_and_chunked_blocks_give_the_same_features(tmp_path):
    model = dinov2_source()
    for chunks in (0, 2):
        weights = BackboneWeights.from_checkpoint(dinov2_file(model, tmp_path / f'dinov2_{chunks}.pth',
                                                              chunks=chunks))
        assert weights.layout == 'dinov2' and 'reg_token' in weights.state_dict
        backbone = mmssl_vit(num_register_tokens=4, layer_scale_init_value=1e-5)
        report = weights.load_into(backbone)
        assert report.match_ratio == 1.0 and report.adapted == [
            "pos_embed rows of the prefix tokens moved from 1 to 0 (the model's convention)"]
        assert_same_features(backbone, model)


def test_a_position_embedding_of_another_grid_is_resampled_and_reported(tmp_path):
    model = dinov2_source(img_size=56)  # a 14 x 14 grid, as a 518-px DINOv2 checkpoint is 37 x 37
    weights = BackboneWeights.from_checkpoint(dinov2_file(model, tmp_path / 'dinov2_56px.pth'))
    backbone = mmssl_vit(num_register_tokens=4, layer_scale_init_value=1e-5)
    report = weights.load_into(backbone)
    assert report.adapted[0] == 'pos_embed resampled from a 14x14 to a 8x8 grid'
    assert 'pos_embed resampled from a 14x14 to a 8x8 grid' in report.summary()
    assert report.match_ratio == 1.0 and backbone.pos_embed.shape == (1, 64, 192)


def refusal_cases(tmp_path):
    """(name, checkpoint file, model, what the one line must name)."""
    def saved(model, name):
        torch.save({k: v for k, v in model.state_dict().items() if not k.startswith('head.')}, tmp_path / name)
        return str(tmp_path / name)
    no_patch = {k: v for k, v in timm_vit().state_dict().items() if not k.startswith(('head.', 'patch_embed.'))}
    torch.save(no_patch, tmp_path / 'no_patch.pth')
    save_resnet_checkpoint(tmp_path / 'resnet18.pth', 18)
    small = dict(embed_dim=384, num_heads=6, depth=1)
    return [
        ('patch 16 into patch 14', saved(timm_vit(patch_size=16, img_size=32), 'p16.pth'),
         mmssl_vit(patch_size=14, img_size=28), 'patch size 16 in the checkpoint, 14 in the model'),
        ('ViT-S into ViT-B', saved(timm_vit(**small), 'vit_s.pth'),
         mmssl_vit(arch=dict(embed_dim=768, num_heads=12, depth=1), out_taps=('cls_last1', )),
         'width 384 in the checkpoint, 768 in the model'),
        ('a deeper checkpoint', saved(timm_vit(depth=3), 'depth3.pth'), mmssl_vit(),
         'depth 3 in the checkpoint, 2 in the model'),
        ('a shallower checkpoint', saved(timm_vit(depth=1), 'depth1.pth'), mmssl_vit(),
         'depth 1 in the checkpoint, 2 in the model'),
        ('layer scale in the checkpoint only', saved(timm_vit(init_values=0.5), 'ls.pth'), mmssl_vit(),
         'layer scale \\(ls1 / ls2\\) in the checkpoint only'),
        ('a ResNet into a ViT', str(tmp_path / 'resnet18.pth'), mmssl_vit(), 'a ResNet checkpoint for a ViT model'),
        ('a ViT into a ResNet', saved(timm_vit(), 'vit.pth'), ResNet(depth=18), 'a ViT checkpoint for a ResNet model'),
        ('no patch embedding', str(tmp_path / 'no_patch.pth'), mmssl_vit(),
         r'the checkpoint has no patch embedding \(patch_embed.proj.weight\)'),
    ]


def test_each_mismatch_is_refused_in_one_line_naming_it_before_anything_loads(tmp_path):
    for name, path, model, expected in refusal_cases(tmp_path):
        weights = BackboneWeights.from_checkpoint(path)
        before = {key: value.clone() for key, value in model.state_dict().items()}
        with pytest.raises(CheckpointMismatchError, match=rf'{path} \(format \w+\) does not fit \w+: {expected}') \
                as error:
            weights.load_into(model)
        assert '\n' not in str(error.value), name
        assert all(torch.equal(value, before[key]) for key, value in model.state_dict().items()), name


def test_import_writes_timms_names_and_refuses_what_does_not_fit(vit_layouts, vit_source, tmp_path, run_tool):
    expected = {key: value for key, value in vit_source.state_dict().items() if not key.startswith('head.')}
    for layout in ('dinov2-train', 'torchvision-vit', 'mmpretrain-vit', 'mae'):
        path = import_checkpoint(vit_layouts[layout], str(tmp_path / f'{layout}_mmssl.pth'))
        content = torch.load(path, weights_only=True)
        assert content['meta']['source_format'] == VIT_LAYOUTS[layout]
        assert sorted(content['state_dict']) == sorted(f'backbone.{key}' for key in expected), layout
        assert all(torch.equal(content['state_dict'][f'backbone.{k}'], v) for k, v in expected.items()), layout
    run_tool('model_converters/to_timm.py', tmp_path / 'mae_mmssl.pth', tmp_path / 'timm.pth')
    exported = torch.load(tmp_path / 'timm.pth', weights_only=True)
    target = timm_vit(seed=5)
    assert target.load_state_dict(exported, strict=False).missing_keys == ['head.weight', 'head.bias']
    assert all(torch.equal(target.state_dict()[key], value) for key, value in expected.items())
    run_tool('model_converters/to_torchvision.py', vit_layouts['dino'], tmp_path / 'tv.pth')
    assert read_backbone(str(tmp_path / 'tv.pth'))[1] == 'torchvision-vit'
    no_patch = tmp_path / 'no_patch.pth'
    torch.save({k: v for k, v in expected.items() if not k.startswith('patch_embed.')}, no_patch)
    env = {key: value for key, value in os.environ.items() if key != 'MMSSL_DEBUG'}
    result = run_tool('model_converters/import_checkpoint.py', no_patch, tmp_path / 'out.pth', process=True,
                      expect_ok=False, env=env)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert lines[0].startswith(f'error: {no_patch} (format backbone) does not fit VisionTransformer: the checkpoint '
                               'has no patch embedding'), lines[0]
    assert not (tmp_path / 'out.pth').exists()


def test_the_options_dino_ibot_and_mae_save_beside_the_weights_are_read_and_other_objects_still_refused(
        vit_source, vit_layouts, tmp_path):
    safe_globals = set(torch.serialization.get_safe_globals())
    for layout, expected in (('dino', dino_args(arch='vit_tiny', patch_size=4, out_dim=64, epochs=100)),
                             ('ibot', dino_args(arch='vit_tiny', patch_size=4, out_dim=64, epochs=100)),
                             ('mae', mae_args(model='mae_vit_tiny_patch4', input_size=32))):
        assert read_checkpoint(vit_layouts[layout]).content['args'] == expected
        assert BackboneWeights.from_checkpoint(vit_layouts[layout]).layout == layout
    # the Namespace is allowed for mmssl's read only, never in torch's process-wide list
    assert set(torch.serialization.get_safe_globals()) == safe_globals
    name = f'{OtherTrainerOptions.__module__}.{OtherTrainerOptions.__qualname__}'
    for layout in ('dino', 'mae'):
        for args in (OtherTrainerOptions(), argparse.Namespace(lr=0.1, scheduler=OtherTrainerOptions())):
            root = tmp_path / f'{layout}_{type(args).__name__}'
            root.mkdir()
            path = write_vit_layout(layout, vit_source, str(root), args=args)
            with pytest.raises(CheckpointMismatchError) as error:
                BackboneWeights.from_checkpoint(path)
            message = str(error.value)
            assert message.startswith(f'{path}: holds the global {name}, which a weights-only load refuses'), message
            assert 'Save the tensors only' in message and "if key != 'args'}" not in message and '\n' not in message


def test_a_vit_under_an_unknown_prefix_is_refused_with_the_prefix_it_found(vit_source, tmp_path):
    path = str(tmp_path / 'encoder.pth')
    torch.save({'state_dict': {f'encoder.{k}': v for k, v in vit_source.state_dict().items()}}, path)
    with pytest.raises(CheckpointMismatchError, match=r"encoder\.pth: no known checkpoint layout fits .* keys carry "
                       r"the prefix 'encoder\.': pass --checkpoint-prefix encoder\."):
        read_backbone(path)
    assert read_backbone(path, prefix='encoder.')[1] == 'timm'
    with pytest.raises(CheckpointMismatchError, match=r"the keys under 'encoder\.' hold a ViT backbone \(layout "
                       r'timm\): pass --checkpoint-prefix encoder\.$'):
        read_backbone(path, prefix='encoder')

"""VisionTransformer: timm's keys and timm's features (within 1e-5) at every tap, registers and LayerScale, position
embeddings resampled to the input size, every tap's shape and pooling, and the multi-head linear head on its taps."""
import copy

import pytest
import timm
import torch
from timm.layers import resample_abs_pos_embed
from timm.models.vision_transformer import VisionTransformer as TimmVisionTransformer

from mmssl.models import MultiClsHead, VisionTransformer
from mmssl.models.backbones.vit import VIT_ARCHS
from mmssl.utils import BackboneWeights

ATOL = 1e-5


def twin(model: VisionTransformer, timm_model: torch.nn.Module) -> VisionTransformer:
    """``model`` with the weights of ``timm_model``, loaded by plain ``load_state_dict`` (strict: the same keys)."""
    model.load_state_dict(timm_model.state_dict())
    return model.eval()


def taps_of(model: VisionTransformer, x: torch.Tensor, names) -> dict:
    model.select_taps(names)
    with torch.no_grad():
        return dict(zip(names, model(x)))


@pytest.fixture(scope='module')
def tiny224():
    """A random timm ViT-Ti/16 (its own initialisation) and an mmssl ViT-Tiny holding its weights, both with
    position embeddings for 64 px (a 4x4 grid keeps the CPU work small)."""
    torch.manual_seed(0)
    reference = timm.create_model('vit_tiny_patch16_224', pretrained=False, num_classes=0, img_size=64).eval()
    return reference, twin(VisionTransformer(arch='tiny', patch_size=16, img_size=64), reference)


@pytest.mark.parametrize('arch', sorted(VIT_ARCHS))
def test_arch_widths_depths_and_heads_are_timms(arch):
    embed_dim, depth, heads = VIT_ARCHS[arch]
    reference = getattr(timm.models.vision_transformer, f'vit_{arch}_patch16_224')
    with torch.device('meta'):  # shapes only: no memory or init for ViT-L
        ours = VisionTransformer(arch=arch)
        theirs = reference(pretrained=False, num_classes=0)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in theirs.state_dict().items()}
    assert (len(ours.blocks), ours.blocks[0].attn.num_heads, ours.embed_dim) == (depth, heads, embed_dim)


def test_state_dict_is_timms_and_the_last_class_token_is_timms_feature(tiny224):
    reference, model = tiny224
    assert list(model.state_dict()) == list(reference.state_dict())
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        tokens = reference.forward_features(x)  # blocks, then the final norm
    taps = taps_of(model, x, ['cls_last1', 'block12_cls', 'block12_mean', 'cls_last1_mean', 'block12_map'])
    assert torch.allclose(taps['cls_last1'].flatten(1), tokens[:, 0], atol=ATOL, rtol=0)
    assert torch.equal(taps['block12_cls'], taps['cls_last1'])
    assert torch.allclose(taps['block12_mean'].flatten(1), tokens[:, 1:].mean(1), atol=ATOL, rtol=0)
    assert torch.allclose(taps['cls_last1_mean'].flatten(1), torch.cat([tokens[:, 0], tokens[:, 1:].mean(1)], 1),
                          atol=ATOL, rtol=0)
    grid = tokens[:, 1:].reshape(2, 4, 4, 192).permute(0, 3, 1, 2)
    assert torch.allclose(taps['block12_map'], grid, atol=ATOL, rtol=0)


def test_intermediate_blocks_are_timms_forward_intermediates_with_the_final_norm(tiny224):
    reference, model = tiny224
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        blocks = reference.forward_intermediates(x, norm=True, return_prefix_tokens=True, intermediates_only=True)
    names = ['block3_cls', 'block3_map', 'block9_mean', 'cls_last4', 'cls_last4_mean', 'cls_last2']
    taps = taps_of(model, x, names)
    (map3, prefix3), (map9, _) = blocks[2], blocks[8]
    assert torch.allclose(taps['block3_cls'].flatten(1), prefix3[:, 0], atol=ATOL, rtol=0)
    assert torch.allclose(taps['block3_map'], map3, atol=ATOL, rtol=0)
    assert torch.allclose(taps['block9_mean'].flatten(1), map9.mean((2, 3)), atol=ATOL, rtol=0)
    last4 = torch.cat([prefix[:, 0] for _, prefix in blocks[-4:]], dim=1)  # DINO's n_last_blocks = 4
    assert torch.allclose(taps['cls_last4'].flatten(1), last4, atol=ATOL, rtol=0)
    assert torch.allclose(taps['cls_last2'].flatten(1), last4[:, 2 * 192:], atol=ATOL, rtol=0)
    # DINOv2's create_linear_input with avgpool: [class tokens of the last n blocks, mean patch token of the last]
    assert torch.allclose(taps['cls_last4_mean'].flatten(1), torch.cat([last4, blocks[-1][0].mean((2, 3))], 1),
                          atol=ATOL, rtol=0)


def test_registers_and_layer_scale_as_timms_dinov2_with_registers():
    with torch.device('meta'):  # the ViT-S/14 with 4 registers as timm builds DINOv2's: the same tensors
        ours = VisionTransformer(arch='small', patch_size=14, img_size=518, num_register_tokens=4,
                                 layer_scale_init_value=1e-5)
        theirs = timm.create_model('vit_small_patch14_reg4_dinov2', pretrained=False, num_classes=0)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in theirs.state_dict().items()}
    torch.manual_seed(0)
    # Features on a narrow, shallow model of the same construction (timm's DINOv2-with-registers arguments).
    reference = TimmVisionTransformer(img_size=56, patch_size=14, embed_dim=32, depth=2, num_heads=2, num_classes=0,
                                      init_values=1e-5, reg_tokens=4, no_embed_class=True).eval()
    with torch.no_grad():
        for block in reference.blocks:  # LayerScale at 1e-5 would hide a mistake in the residual branches
            block.ls1.gamma.normal_()
            block.ls2.gamma.normal_()
    model = twin(VisionTransformer(arch=dict(embed_dim=32, depth=2, num_heads=2), patch_size=14, img_size=56,
                                   num_register_tokens=4, layer_scale_init_value=1e-5), reference)
    keys = model.state_dict()
    assert keys['reg_token'].shape == (1, 4, 32) and keys['pos_embed'].shape == (1, 16, 32)  # patches only
    assert keys['blocks.0.ls1.gamma'].shape == (32, )
    x = torch.randn(2, 3, 56, 56)
    with torch.no_grad():
        tokens = reference.forward_features(x)  # [class, 4 registers, 16 patches]
    taps = taps_of(model, x, ['cls_last1', 'block2_mean', 'block2_map'])
    assert torch.allclose(taps['cls_last1'].flatten(1), tokens[:, 0], atol=ATOL, rtol=0)
    assert torch.allclose(taps['block2_mean'].flatten(1), tokens[:, 5:].mean(1), atol=ATOL, rtol=0)
    assert taps['block2_map'].shape == (2, 32, 4, 4)


def test_position_embeddings_are_resampled_to_the_input_size():
    torch.manual_seed(0)
    model = VisionTransformer(arch=dict(embed_dim=32, depth=2, num_heads=2), patch_size=4, img_size=32,
                              out_taps=['cls_last1', 'block2_map']).eval()
    x = torch.randn(2, 3, 48, 48)  # a 12x12 grid; the embeddings are stored for 8x8
    # A timm ViT built for 48 px whose embeddings are the 32-px ones resampled as timm does (bicubic, antialiased).
    static = TimmVisionTransformer(img_size=48, patch_size=4, embed_dim=32, depth=2, num_heads=2,
                                   num_classes=0).eval()
    weights = model.state_dict()
    weights['pos_embed'] = resample_abs_pos_embed(weights['pos_embed'], new_size=(12, 12), old_size=(8, 8))
    static.load_state_dict(weights)
    with torch.no_grad():
        cls_token, patch_map = model(x)
        tokens = static.forward_features(x)
    assert patch_map.shape == (2, 32, 12, 12)
    assert torch.allclose(cls_token.flatten(1), tokens[:, 0], atol=ATOL, rtol=0)
    with torch.no_grad():  # at the stored size, no resampling
        assert model(torch.randn(1, 3, 32, 32))[1].shape == (1, 32, 8, 8)


def test_every_tap_shape_and_its_pooling():
    model = VisionTransformer(arch=dict(embed_dim=32, depth=4, num_heads=2), patch_size=4, img_size=32).eval()
    names = [tap.name for tap in model.taps]
    assert names[:3] == ['block1_cls', 'block1_mean', 'block1_map'] and len(names) == 4 * 3 + 8
    assert names[-8:] == [f'cls_last{n}{suffix}' for n in range(1, 5) for suffix in ('', '_mean')]
    outputs = taps_of(model, torch.randn(2, 3, 32, 32), names)

    def channels(name):  # cls_last{n}: n class tokens of 32; _mean: one more
        if not name.startswith('cls_last'):
            return 32
        return 32 * (int(name[len('cls_last')]) + name.endswith('_mean'))

    for tap in model.taps:
        out = outputs[tap.name]
        if tap.name.endswith('_map'):
            assert not tap.vector and out.shape == (2, 32, 8, 8) and tap.specified_pooling is None
            assert tap.pooled_dim(32, 'adaptive') == 32 * 4 and tap.pooled_dim(32, 'global') == 32
            with pytest.raises(ValueError, match=f"tap {tap.name} declares no specified pooling"):
                tap.pooling('specified')
        else:
            assert tap.vector and out.shape == (2, tap.channels, 1, 1)
            assert tap.channels == channels(tap.name)
        for pool_type in ('adaptive', 'global') + (() if tap.name.endswith('_map') else ('specified', )):
            pooled = tap.pooling(pool_type)(out)
            assert pooled.flatten(1).shape[1] == tap.pooled_dim(32, pool_type)
            if tap.vector:
                assert torch.equal(pooled, out)  # already pooled: every pooling is the identity


def test_multi_head_linear_head_reads_vit_taps():
    model = VisionTransformer(arch=dict(embed_dim=32, depth=4, num_heads=2), patch_size=4, img_size=32,
                              out_taps=['cls_last4', 'block4_map'])
    head = MultiClsHead(taps=model.out_taps, num_classes=10, in_size=32, pool_type='adaptive')
    losses = head.loss(model(torch.randn(4, 3, 32, 32)), torch.tensor([0, 1, 2, 3]))
    assert set(losses) == {'loss_cls_last4', 'loss_block4_map', 'loss_avgpool'}
    # 4 class tokens of 32; the 8x8 map pooled to 2x2; the avgpool head on the last input (the map)
    assert head.heads['cls_last4'].fc.in_features == 128 and head.heads['block4_map'].fc.in_features == 128
    sum(losses.values()).backward()


def test_seeded_random_init_copies_and_modes():
    model = VisionTransformer(arch={'embed_dim': 32, 'depth': 2, 'num_heads': 2}, patch_size=4, img_size=16)
    BackboneWeights.random(0).load_into(model)
    first = copy.deepcopy(model.state_dict())
    BackboneWeights.random(1).load_into(model)
    assert not torch.equal(first['pos_embed'], model.state_dict()['pos_embed'])
    BackboneWeights.random(0).load_into(model)
    assert all(torch.equal(first[key], value) for key, value in model.state_dict().items())
    # The timm model runs on this module's own tensors: a copy or a dtype change moves both together.
    clone = copy.deepcopy(model).double().eval()
    assert clone.timm_model.pos_embed is clone.pos_embed and clone.pos_embed.dtype == torch.float64
    assert not clone.training and not clone.timm_model.training and not clone.blocks[0].training
    x = torch.randn(1, 3, 16, 16, dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(clone(x)[0].flatten(1), clone.timm_model.forward_features(x)[:, 0], atol=1e-12, rtol=0)


@pytest.mark.parametrize('kwargs, message', [
    (dict(arch='huge'), "arch must be one of tiny, small, base, large or a dict of embed_dim, depth and num_heads, "
                        "got 'huge'"),
    (dict(arch=dict(embed_dim=8)), 'arch as a dict has exactly the keys embed_dim, depth, num_heads'),
    (dict(patch_size=16, img_size=40), 'img_size 40 is not a multiple of patch_size 16'),
    (dict(out_taps=['feature5']), r"unknown tap\(s\) \['feature5'\]; choose from block1_cls"),
    (dict(out_taps='cls_last1'), "out_taps is a list of tap names, got the string 'cls_last1'"),
    (dict(num_register_tokens=-1), 'num_register_tokens must be an int >= 0, got -1'),
])
def test_bad_arguments_are_refused_by_name(kwargs, message):
    with pytest.raises(ValueError, match=message):
        VisionTransformer(**{'arch': {'embed_dim': 8, 'depth': 1, 'num_heads': 1}, **kwargs})

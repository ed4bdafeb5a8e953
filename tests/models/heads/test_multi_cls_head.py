from dataclasses import replace

import pytest
import torch
from mmengine.config import Config

from mmssl.models import MultiClsHead, ResNet
from mmssl.models.backbones.resnet import resnet_taps
from mmssl.registry import MODELS
from mmssl.utils import register_all_modules

RESNET50_CHANNELS = {'feature1': 64, 'feature2': 256, 'feature3': 512, 'feature4': 1024, 'feature5': 2048}

RESNET50_DIMS = {'feature1': 9216, 'feature2': 9216, 'feature3': 8192, 'feature4': 9216, 'feature5': 8192}
R50, R18 = resnet_taps(50), resnet_taps(18)


def feature5(channels):
    """ResNet's feature5 tap with another channel count."""
    return replace(R50[4], channels=channels)


def test_resnet50_pooled_dims_at_224():
    backbone = ResNet(depth=50, out_indices=[0, 1, 2, 3, 4]).eval()
    head = MultiClsHead(backbone.out_taps, num_classes=7).eval()
    with torch.no_grad():
        taps = backbone(torch.randn(2, 3, 224, 224))
    for name, expected in RESNET50_DIMS.items():
        assert head.heads[name].fc.in_features == expected
        pooled = head.heads[name].pool(taps[int(name[-1]) - 1])
        assert pooled.flatten(1).shape[1] == expected
    assert head.heads['avgpool'][-1].in_features == 2048
    with torch.no_grad():
        logits = head(taps)
    assert list(logits) == ['feature1', 'feature2', 'feature3', 'feature4', 'feature5', 'avgpool']
    assert all(value.shape == (2, 7) for value in logits.values())


def test_probe_is_bn_without_affine_then_linear_std_001():
    head = MultiClsHead(R50[4:], num_classes=1000, with_avgpool_head=False)
    head.init_weights()
    probe = head.heads['feature5']
    assert not probe.norm.affine and probe.norm.momentum == 0.1
    assert probe.fc.weight.std().item() == pytest.approx(0.01, rel=0.05)
    assert torch.count_nonzero(probe.fc.bias) == 0


def test_norm_is_per_channel_batchnorm2d_on_the_pooled_map():
    """mmselfsup 0.x/1.x MultiClsHead: build_norm_layer(norm_cfg, FEAT_CHANNELS[i]) on the pooled 4-D map."""
    head = MultiClsHead(R50, num_classes=5, with_avgpool_head=False)
    for name, channels in RESNET50_CHANNELS.items():
        norm = head.heads[name].norm
        assert type(norm) is torch.nn.BatchNorm2d and norm.num_features == channels, name
        assert norm.running_mean.shape == (channels, )
    # Train mode: every channel of the normalised pooled map has zero mean over batch and positions.
    probe = MultiClsHead([feature5(8)], num_classes=2, with_avgpool_head=False).heads['feature5']
    x = torch.randn(4, 8, 7, 7) * torch.arange(1., 9.)[None, :, None, None] + 3
    pooled = probe.pool(x)
    normalised = probe.norm(pooled)
    assert normalised.shape == pooled.shape == (4, 8, 2, 2)
    torch.testing.assert_close(normalised.mean(dim=(0, 2, 3)), torch.zeros(8), atol=1e-5, rtol=0)
    assert not torch.allclose(normalised.mean(dim=0).flatten(), torch.zeros(32), atol=1e-3)


def test_resnet50_multihead_config_uses_syncbn_per_channel(repo_root):
    register_all_modules()
    cfg = Config.fromfile(str(repo_root / 'configs/_base_/models/resnet50_multihead.py'))
    assert cfg.model.head.norm_cfg == dict(type='SyncBN', momentum=0.1, affine=False)
    head = MODELS.build(cfg.model.head, default_args=dict(taps=R50))
    for name, channels in RESNET50_CHANNELS.items():
        norm = head.heads[name].norm
        assert isinstance(norm, torch.nn.SyncBatchNorm) and norm.num_features == channels
        assert not norm.affine and norm.momentum == 0.1
    assert MultiClsHead([feature5(16)], norm_cfg=None).heads['feature5'].norm.__class__ is \
        torch.nn.Identity


def test_adaptive_pooling_reaches_protocol_sizes_at_any_resolution():
    backbone = ResNet(depth=18, out_indices=[0, 1, 2, 3, 4]).eval()
    head = MultiClsHead(backbone.out_taps, num_classes=3, pool_type='adaptive').eval()
    with torch.no_grad():
        logits = head(backbone(torch.randn(2, 3, 112, 112)))
    assert logits['feature1'].shape == (2, 3)
    assert R18[0].pooled_dim(pool_type='adaptive') == 64 * 144


def test_loss_has_one_term_per_head_and_mismatches_are_explained():
    head = MultiClsHead(R18[3:], num_classes=4, pool_type='adaptive')
    feats = (torch.randn(4, 256, 7, 7), torch.randn(4, 512, 4, 4))
    losses = head.loss(feats, torch.tensor([0, 1, 2, 3]))
    assert set(losses) == {'loss_feature4', 'loss_feature5', 'loss_avgpool'}
    with pytest.raises(ValueError, match='expects 2 feature maps'):
        head(feats[:1])
    specified = MultiClsHead(R18[4:], num_classes=4)
    with pytest.raises(ValueError, match=r'\(4, 4\) feature map is too small.*pool_type="adaptive"'):
        specified((torch.randn(2, 512, 4, 4), ))
    with pytest.raises(ValueError, match='8192 pooled features but the head expects 18432'):
        MultiClsHead(R50[4:], in_size=256)((torch.randn(2, 2048, 7, 7), ))

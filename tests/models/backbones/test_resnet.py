import pytest
import torch
import torchvision
from torch.nn.modules.batchnorm import _BatchNorm

from mmssl.models import ResNet

R50_TAPS = {0: (64, 112), 1: (256, 56), 2: (512, 28), 3: (1024, 14), 4: (2048, 7)}


@pytest.mark.parametrize('index', range(5))
def test_resnet50_tap_shapes(index):
    model = ResNet(depth=50, out_indices=[index]).eval()
    with torch.no_grad():
        (out, ) = model(torch.randn(1, 3, 224, 224))
    channels, size = R50_TAPS[index]
    assert out.shape == (1, channels, size, size)
    assert model.out_channels == (channels, )
    (tap, ) = model.out_taps
    assert (tap.name, tap.channels, 224 // tap.stride) == (f'feature{index + 1}', channels, size)


def test_resnet18_all_taps_in_requested_order():
    model = ResNet(depth=18, out_indices=[4, 0, 2]).eval()
    with torch.no_grad():
        outs = model(torch.randn(2, 3, 64, 64))
    assert [tuple(o.shape) for o in outs] == [(2, 512, 2, 2), (2, 64, 32, 32), (2, 128, 8, 8)]


def test_stem_tap_is_after_relu_before_maxpool():
    model = ResNet(depth=18, out_indices=[0]).eval()
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        (stem, ) = model(x)
        expected = torch.relu(model.bn1(model.conv1(x)))
    assert torch.equal(stem, expected)
    assert stem.min() >= 0 and stem.shape[-1] == 16


@pytest.mark.parametrize('depth', [18, 50])
def test_torchvision_state_dict_loads_and_matches(depth):
    reference = getattr(torchvision.models, f'resnet{depth}')().eval()
    with torch.no_grad():  # non-trivial BN statistics
        for m in reference.modules():
            if isinstance(m, _BatchNorm):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    model = ResNet(depth=depth, out_indices=[4]).eval()
    state = {k: v for k, v in reference.state_dict().items() if not k.startswith('fc.')}
    result = model.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert set(model.state_dict()) == set(state)
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        r = reference
        expected = r.layer4(r.layer3(r.layer2(r.layer1(r.maxpool(r.relu(r.bn1(r.conv1(x))))))))
        (out, ) = model(x)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)


def test_frozen_stages_and_norm_eval():
    model = ResNet(depth=18, out_indices=[4], frozen_stages=2, norm_eval=True)
    model.train()
    assert not any(p.requires_grad for p in model.conv1.parameters())
    assert not any(p.requires_grad for p in model.layer2.parameters())
    assert all(p.requires_grad for p in model.layer3.parameters())
    assert all(not m.training for m in model.modules() if isinstance(m, _BatchNorm))
    model = ResNet(depth=18, frozen_stages=0)
    model.train()
    assert not model.bn1.training and model.layer1[0].bn1.training


def test_zero_init_residual_and_syncbn_cfg():
    model = ResNet(depth=50, zero_init_residual=True)
    model.init_weights()
    assert torch.count_nonzero(model.layer1[0].bn3.weight) == 0
    model = ResNet(depth=18, norm_cfg=dict(type='SyncBN'))
    assert isinstance(model.bn1, torch.nn.SyncBatchNorm)


@pytest.mark.parametrize('kwargs, message', [
    (dict(depth=20), 'depth must be one of'),
    (dict(out_indices=[5]), 'out_indices'),
    (dict(frozen_stages=7), 'frozen_stages'),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises((KeyError, ValueError), match=message):
        ResNet(**kwargs)

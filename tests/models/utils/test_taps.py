"""Taps as data: the ResNet declaration, the pooling a tap builds, and the name look-ups."""
import pytest
import torch

from mmssl.models import ResNet, Tap
from mmssl.models.backbones.resnet import resnet_taps
from mmssl.models.utils import tap_indices

# The FAIR benchmark's / mmselfsup 0.x's SVM and multi-head pooling of feature1-5 and the sides it reaches at 224 px.
SPECIFIED_POOLING = ((10, 10, 4), (16, 8, 0), (13, 5, 0), (8, 3, 0), (6, 1, 0))
ADAPTIVE_SIZES = (12, 6, 4, 3, 2)


@pytest.mark.parametrize('depth, channels', [(50, (64, 256, 512, 1024, 2048)), (18, (64, 64, 128, 256, 512))])
def test_resnet_declares_its_five_taps(depth, channels):
    taps = ResNet(depth=depth, out_indices=[4, 1]).taps
    assert taps == resnet_taps(depth)
    assert [tap.name for tap in taps] == ['feature1', 'feature2', 'feature3', 'feature4', 'feature5']
    assert tuple(tap.channels for tap in taps) == channels
    assert [tap.stride for tap in taps] == [2, 4, 8, 16, 32]
    assert tuple(tap.specified_pooling for tap in taps) == SPECIFIED_POOLING
    assert tuple(tap.adaptive_size for tap in taps) == ADAPTIVE_SIZES


def test_out_taps_follow_out_indices_and_select_taps_changes_the_outputs():
    model = ResNet(depth=18, out_indices=[4, 1]).eval()
    assert [tap.name for tap in model.out_taps] == ['feature5', 'feature2']
    assert model.select_taps(['feature3', 'feature1']) == (model.taps[2], model.taps[0])
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 64, 64))
    assert [tuple(out.shape) for out in outs] == [(1, 128, 8, 8), (1, 64, 32, 32)]


def test_pooling_and_pooled_dims_of_resnet50_at_224():
    taps = resnet_taps(50)
    assert [tap.pooled_dim() for tap in taps] == [9216, 9216, 8192, 9216, 8192]
    assert [tap.pooled_dim(112, 'adaptive') for tap in taps] == [c * s * s for c, s in zip(
        (64, 256, 512, 1024, 2048), ADAPTIVE_SIZES)]
    assert [tap.pooled_dim(pool_type='global') for tap in taps] == [64, 256, 512, 1024, 2048]
    pool = taps[0].pooling()
    assert isinstance(pool, torch.nn.AvgPool2d) and (pool.kernel_size, pool.stride, pool.padding) == (10, 10, 4)
    assert taps[4].pooling('adaptive').output_size == 2 and taps[4].pooling('global').output_size == 1
    with pytest.raises(ValueError, match="pool_type must be one of 'specified', 'adaptive', 'global', got 'max'"):
        taps[0].pooling('max')
    with pytest.raises(ValueError, match=r"feature5: its 1x1 map at 32 px is smaller than the specified pooling"):
        taps[4].pooled_dim(32)


def test_a_tap_without_specified_pooling_only_pools_adaptively():
    tap = Tap.coerce(dict(name='block3', channels=8, stride=16, adaptive_size=2))
    assert tap == Tap('block3', 8, 16, 2) and tap.pooled_dim(pool_type='adaptive') == 32
    with pytest.raises(ValueError, match="tap block3 declares no specified pooling; use pool_type='adaptive'"):
        tap.pooling('specified')
    with pytest.raises(ValueError, match='tap block3 declares no specified pooling'):
        tap.pooled_dim()


def test_a_tap_from_a_config_dict():
    tap = Tap.coerce(dict(name='s', channels=4, stride=2, adaptive_size=3, specified_pooling=[4, 2, 1]))
    assert tap.specified_pooling == (4, 2, 1) and hash(tap) == hash(Tap('s', 4, 2, 3, (4, 2, 1)))
    with pytest.raises(ValueError, match=r"unknown tap field\(s\) \['size'\]; a tap has name, channels"):
        Tap.coerce(dict(name='s', channels=4, stride=2, adaptive_size=3, size=1))
    with pytest.raises(ValueError, match=r'specified_pooling is \(kernel, stride, padding\)'):
        Tap('s', 4, 2, 3, (4, 2))


def test_unknown_tap_names_are_refused_with_the_choices():
    taps = resnet_taps(18)
    assert tap_indices(taps, ['feature5', 'feature1']) == (4, 0)
    with pytest.raises(ValueError, match=r"unknown layer\(s\) \['stage1'\]; choose from feature1, feature2, "
                       'feature3, feature4, feature5'):
        tap_indices(taps, ['feature1', 'stage1'], what='layer')
    with pytest.raises(ValueError, match=r'unknown tap\(s\) \(none\)'):
        ResNet(depth=18).select_taps([])


def test_a_vector_tap_is_already_pooled():
    tap = Tap.coerce(dict(name='cls', channels=8, stride=16, adaptive_size=1, vector=True))
    assert [tap.pooled_dim(224, pool_type) for pool_type in ('specified', 'adaptive', 'global')] == [8, 8, 8]
    x = torch.randn(2, 8, 1, 1)
    assert all(torch.equal(tap.pooling(pool_type)(x), x) for pool_type in ('specified', 'adaptive', 'global'))
    with pytest.raises(ValueError, match="pool_type must be one of"):
        tap.pooling('max')
    with pytest.raises(ValueError, match=r'tap cls: a vector tap is already pooled \(adaptive_size 1, no '
                       r'specified_pooling\), got adaptive_size=2'):
        Tap('cls', 8, 16, 2, vector=True)

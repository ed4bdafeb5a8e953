import pytest
import torch

from mmssl.models import ResNet
from mmssl.utils.resnet_keys import detectron2_to_resnet, resnet_to_detectron2


def test_detectron2_names_follow_its_resnet():
    names = set(resnet_to_detectron2(ResNet(depth=50).state_dict()))
    for expected in ('stem.conv1.weight', 'stem.conv1.norm.running_var', 'res2.0.conv1.weight',
                     'res2.0.conv3.norm.bias', 'res2.0.shortcut.weight', 'res2.0.shortcut.norm.running_mean',
                     'res5.2.conv2.norm.weight'):
        assert expected in names, expected
    assert not any('num_batches_tracked' in name or 'layer' in name for name in names)


@pytest.mark.parametrize('depth', [18, 50])
def test_round_trip_keeps_every_tensor(depth):
    state = ResNet(depth=depth).state_dict()
    back = detectron2_to_resnet(resnet_to_detectron2(state))
    expected = {k: v for k, v in state.items() if not k.endswith('num_batches_tracked')}
    assert set(back) == set(expected)
    for name, value in expected.items():
        assert torch.equal(back[name], value), name


def test_unknown_names_are_refused():
    with pytest.raises(KeyError, match="'fc.weight' is not a ResNet backbone parameter"):
        resnet_to_detectron2({'fc.weight': torch.zeros(1)})
    with pytest.raises(KeyError, match='not a detectron2 ResNet'):
        detectron2_to_resnet({'roi_heads.box.weight': torch.zeros(1).numpy()})

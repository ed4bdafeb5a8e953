"""Checks that pre-trained weights arrived in a module (mmssl.utils.checkpoint)."""
import pytest
import torch

from mmssl.models import ResNet
from mmssl.utils import (CheckpointMismatchError, compare_module_weights, require_prefixed_checkpoint,
                         verify_loaded_weights)


@pytest.fixture
def resnet18_state():
    torch.manual_seed(0)
    model = ResNet(depth=18)
    model.init_weights()
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_require_prefixed_checkpoint(tmp_path, resnet18_state):
    full = tmp_path / 'epoch_1.pth'
    torch.save({'state_dict': {**{f'backbone.{k}': v for k, v in resnet18_state.items()},
                               'head.fc.weight': torch.zeros(2)}}, full)
    selected = require_prefixed_checkpoint(str(full))
    assert set(selected) == set(resnet18_state)
    backbone_only = tmp_path / 'backbone.pth'
    torch.save({'state_dict': resnet18_state}, backbone_only)
    with pytest.raises(CheckpointMismatchError,
                       match=r'backbone\.pth: expected a full mmssl pre-training checkpoint with "backbone\."-prefixed '
                       r'keys.*conv1\.weight.*backbone-only file'):
        require_prefixed_checkpoint(str(backbone_only))
    with pytest.raises(FileNotFoundError, match='nope.pth does not exist'):
        require_prefixed_checkpoint(str(tmp_path / 'nope.pth'))
    with pytest.raises(CheckpointMismatchError, match='expected the path of a pre-training checkpoint, got None'):
        require_prefixed_checkpoint(None)


def test_compare_counts_equal_different_missing_and_new(resnet18_state):
    model = ResNet(depth=18)
    model.load_state_dict(resnet18_state)
    model.add_module('norm', torch.nn.BatchNorm2d(4))
    with torch.no_grad():
        model.layer1[0].conv1.weight.add_(1)
    state = {k: v for k, v in resnet18_state.items() if k != 'layer4.1.bn2.bias'}
    result = compare_module_weights(model, state, new_keys=['norm.'])
    assert result.different == ['layer1.0.conv1.weight'] and result.missing == ['layer4.1.bn2.bias']
    assert len(result.new) == 5 and result.first_key == 'conv1.weight' and result.input_layer_loaded
    assert result.num_module_keys == len(resnet18_state)
    assert 'new layers 5' in result.summary()


def test_verify_refuses_low_ratio_and_missing_input_layer(resnet18_state):
    model = ResNet(depth=18)
    model.load_state_dict(resnet18_state)
    result = verify_loaded_weights(model, resnet18_state, name='backbone', checkpoint='ckpt.pth', prefix='backbone.')
    assert result.match_ratio == 1
    # A deep-stem checkpoint: everything but the stem matches, far above 90%, yet the input layer is random.
    deep_stem = {k: v for k, v in resnet18_state.items() if not k.startswith(('conv1.', 'bn1.'))}
    deep_stem['stem.0.weight'] = torch.zeros(32, 3, 3, 3)
    model.conv1.weight.data.normal_()
    with pytest.raises(CheckpointMismatchError,
                       match=r"model\.backbone \(ResNet\) from ckpt\.pth with prefix \"backbone\.\": its input layer "
                       r"'conv1\.weight' was not loaded; 1\d\d/1\d\d keys equal to the checkpoint \(9\d\.\d%\)"):
        verify_loaded_weights(model, deep_stem, name='backbone', checkpoint='ckpt.pth', prefix='backbone.')
    # A random backbone: nothing equals the checkpoint.
    with pytest.raises(CheckpointMismatchError, match=r'fewer than 90% of the keys were loaded and its input layer'):
        verify_loaded_weights(ResNet(depth=18), {k: v + 1 for k, v in resnet18_state.items()
                                                 if v.is_floating_point()},
                              name='backbone', checkpoint='ckpt.pth', prefix='backbone.')

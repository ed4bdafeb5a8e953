import pickle
import runpy
import sys

import pytest
import torch
import torchvision
from builders import REPO_ROOT

from mmssl.models import ResNet
from mmssl.utils.resnet_keys import detectron2_to_resnet

TOOLS = REPO_ROOT / 'tools' / 'model_converters'


def run_tool(name, *args):
    argv, sys.argv = sys.argv, [name, *map(str, args)]
    try:
        runpy.run_path(str(TOOLS / f'{name}.py'), run_name='__main__')
    finally:
        sys.argv = argv


@pytest.fixture
def algorithm_checkpoint(tmp_path):
    backbone = ResNet(depth=18)
    state = {f'backbone.{k}': v for k, v in backbone.state_dict().items()}
    state['head.fc.weight'] = torch.zeros(8, 512)
    path = tmp_path / 'epoch_1.pth'
    torch.save({'meta': {'epoch': 1}, 'state_dict': state}, path)
    return path, backbone.state_dict()


def test_extract_backbone_weights(tmp_path, algorithm_checkpoint):
    path, expected = algorithm_checkpoint
    run_tool('extract_backbone_weights', path, tmp_path / 'backbone.pth')
    out = torch.load(tmp_path / 'backbone.pth', weights_only=True)['state_dict']
    assert set(out) == set(expected) and torch.equal(out['conv1.weight'], expected['conv1.weight'])
    with pytest.raises(SystemExit, match='no key starts with "backbone."'):
        run_tool('extract_backbone_weights', tmp_path / 'backbone.pth', tmp_path / 'again.pth')


def test_torchvision_export_loads_into_torchvision(tmp_path, algorithm_checkpoint):
    path, expected = algorithm_checkpoint
    run_tool('to_torchvision', path, tmp_path / 'tv.pth')
    model = torchvision.models.resnet18()
    result = model.load_state_dict(torch.load(tmp_path / 'tv.pth', weights_only=True), strict=False)
    assert not result.unexpected_keys and set(result.missing_keys) == {'fc.weight', 'fc.bias'}
    assert torch.equal(model.layer3[1].conv2.weight, expected['layer3.1.conv2.weight'])


def test_detectron2_export_round_trips(tmp_path, algorithm_checkpoint):
    path, expected = algorithm_checkpoint
    run_tool('to_detectron2', path, tmp_path / 'd2.pkl')
    with open(tmp_path / 'd2.pkl', 'rb') as f:
        exported = pickle.load(f)
    assert exported['matching_heuristics'] is True
    back = detectron2_to_resnet(exported['model'])
    for name, value in back.items():
        assert torch.equal(value, expected[name]), name


def test_resnet50_exports_round_trip(tmp_path):
    """R-50 (bottleneck blocks, a projection shortcut in every stage): detectron2 names and torchvision loading."""
    backbone = ResNet(depth=50)
    expected = backbone.state_dict()
    path = tmp_path / 'epoch_200.pth'
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in expected.items()}}, path)

    run_tool('to_detectron2', path, tmp_path / 'r50.pkl')
    with open(tmp_path / 'r50.pkl', 'rb') as f:
        model = pickle.load(f)['model']
    num_norms = sum(1 for name in expected if name.endswith('num_batches_tracked'))
    assert len(model) == len(expected) - num_norms == 265
    for name in ('stem.conv1.weight', 'stem.conv1.norm.running_var', 'res2.0.shortcut.weight',
                 'res2.0.shortcut.norm.bias', 'res3.3.conv3.norm.weight', 'res5.2.conv2.weight'):
        assert name in model, name
    assert not any(name.startswith(('layer', 'conv1.', 'bn1.')) for name in model)
    for name, value in detectron2_to_resnet(model).items():
        assert torch.equal(value, expected[name]), name

    run_tool('to_torchvision', path, tmp_path / 'r50_tv.pth')
    result = torchvision.models.resnet50().load_state_dict(torch.load(tmp_path / 'r50_tv.pth', weights_only=True),
                                                           strict=False)
    assert not result.unexpected_keys and set(result.missing_keys) == {'fc.weight', 'fc.bias'}


def deep_stem(state):
    """A ResNetV1c-style checkpoint: a three-convolution stem (``stem.0`` ...) instead of ``conv1`` / ``bn1``."""
    state = {k: v for k, v in state.items() if not k.startswith(('conv1.', 'bn1.'))}
    state.update({'stem.0.weight': torch.zeros(32, 3, 3, 3), 'stem.1.weight': torch.ones(32),
                  'stem.3.weight': torch.zeros(32, 32, 3, 3), 'stem.6.weight': torch.zeros(64, 32, 3, 3)})
    return state


def sobel_input(state):
    """A checkpoint of a network fed Sobel-filtered images: ``conv1.weight`` of two input channels."""
    return dict(state, **{'conv1.weight': torch.zeros(64, 2, 7, 7)})


def seven_blocks(state):
    """A ResNet-18 with a third block in layer3: no depth mmssl builds."""
    extra = {k.replace('layer3.1.', 'layer3.2.'): v for k, v in state.items() if k.startswith('layer3.1.')}
    return dict(state, **extra)


@pytest.mark.parametrize('change, mismatch', [
    (deep_stem, r"input layer 'conv1\.weight' does not load"),
    (sobel_input, r'conv1\.weight \(64, 2, 7, 7\) vs \(64, 3, 7, 7\)'),
    (seven_blocks, r'basic blocks per stage \(2, 2, 3, 2\), which is no ResNet depth'),
], ids=['deep-stem', 'sobel', 'unknown-depth'])
def test_import_refuses_a_backbone_that_does_not_fit_before_writing(tmp_path, change, mismatch):
    import re
    import subprocess
    torch.save({'state_dict': change(ResNet(depth=18).state_dict())}, tmp_path / 'other.pth')
    result = subprocess.run([sys.executable, str(TOOLS / 'import_checkpoint.py'), str(tmp_path / 'other.pth'),
                             str(tmp_path / 'out' / 'imported.pth')], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: '), result.stderr[-3000:]
    assert re.search(mismatch, lines[0]) and str(tmp_path / 'other.pth') in lines[0]
    assert not (tmp_path / 'out').exists()

"""Every checkpoint layout of docs/en/checkpoints.md, written as its own code writes it from one torchvision
ResNet-50 (``builders.checkpoints.write_layout``), read back into mmssl's ResNet unchanged; and every refusal the loader owes.
"""
import pickle

import pytest
import torch
from builders.checkpoints import LAYOUTS, torchvision_resnet50, without_counters, write_layout

from mmssl.models import ResNet
from mmssl.utils import CheckpointMismatchError, load_backbone, read_backbone


@pytest.fixture(scope='module')
def reference(tmp_path_factory):
    model = torchvision_resnet50()
    root = tmp_path_factory.mktemp('layouts')
    return model, {layout: write_layout(layout, model.state_dict(), str(root)) for layout in LAYOUTS}


@pytest.mark.parametrize('layout', list(LAYOUTS))
def test_every_layout_loads_the_torchvision_backbone_unchanged(layout, reference):
    model, paths = reference
    state, detected = read_backbone(paths[layout])
    assert detected == LAYOUTS[layout]
    target = ResNet(depth=50)
    report = load_backbone(target, paths[layout])
    assert report.format == LAYOUTS[layout] and report.input_layer_loaded
    loaded = target.state_dict()
    for key, value in without_counters(model.state_dict()).items():
        if not key.startswith('fc.'):
            assert torch.equal(loaded[key], value), (layout, key)


def test_explicit_format_prefix_and_key_path(reference, tmp_path):
    model, paths = reference
    state, layout = read_backbone(paths['moco'], prefix='module.encoder_k.')  # the key encoder, on request
    assert layout == 'backbone' and torch.equal(state['conv1.weight'], model.conv1.weight + 1)
    _, layout = read_backbone(paths['vissl'], key_path='classy_state_dict.base_model.model.trunk',
                              prefix='_feature_blocks.')
    assert layout == 'backbone'
    assert read_backbone(paths['torchvision'], checkpoint_format='torchvision')[1] == 'torchvision'
    with pytest.raises(CheckpointMismatchError, match=r'does not look like a vissl checkpoint'):
        read_backbone(paths['torchvision'], checkpoint_format='vissl')
    with pytest.raises(CheckpointMismatchError, match=r"--checkpoint-key classy_state_dict.nope: no 'nope' under "
                       r'classy_state_dict'):
        read_backbone(paths['vissl'], key_path='classy_state_dict.nope')


def save(content, path) -> str:
    torch.save(content, path)
    return str(path)


def test_wrong_stems_and_depths_are_refused_naming_file_and_layout(reference, tmp_path):
    model, _ = reference
    backbone = {k: v for k, v in model.state_dict().items() if not k.startswith('fc.')}
    deep_stem = {k: v for k, v in backbone.items() if not k.startswith(('conv1.', 'bn1.'))}
    deep_stem.update({'stem.0.weight': torch.zeros(32, 3, 3, 3), 'stem.1.weight': torch.ones(32)})
    sobel = dict(backbone, **{'conv1.weight': torch.zeros(64, 2, 7, 7)})
    cases = {
        'deep_stem.pth': ({'state_dict': {f'backbone.{k}': v for k, v in deep_stem.items()}}, 50,
                          r"its input layer 'conv1.weight' does not load"),
        'sobel.pth': ({'state_dict': {f'backbone.{k}': v for k, v in sobel.items()}}, 50,
                      r'shapes differ \(checkpoint vs model: conv1.weight \(64, 2, 7, 7\) vs \(64, 3, 7, 7\)'),
        'resnet50.pth': ({'state_dict': {f'backbone.{k}': v for k, v in backbone.items()}}, 18, r'shapes differ'),
    }
    for name, (content, depth, message) in cases.items():
        target = ResNet(depth=depth)
        before = target.layer1[0].conv1.weight.clone()
        path = save(content, tmp_path / name)
        with pytest.raises(CheckpointMismatchError, match=message) as error:
            load_backbone(target, path)
        assert path in str(error.value) and 'format mmssl' in str(error.value), name
        assert torch.equal(target.layer1[0].conv1.weight, before), f'{name}: nothing may load on failure'


def test_unknown_prefix_is_refused_with_the_prefix_it_found(reference, tmp_path):
    model, _ = reference
    path = save({'state_dict': {f'encoder.{k}': v for k, v in model.state_dict().items()}}, tmp_path / 'enc.pth')
    with pytest.raises(CheckpointMismatchError, match=r"enc\.pth: no known checkpoint layout fits .* keys carry the "
                       r"prefix 'encoder\.': pass --checkpoint-prefix encoder\."):
        read_backbone(path)
    assert read_backbone(path, prefix='encoder.')[1] == 'torchvision'


def test_unreadable_files_are_refused_naming_the_file(reference, tmp_path):
    _, paths = reference
    truncated = tmp_path / 'truncated.pth'
    truncated.write_bytes(open(paths['mmssl'], 'rb').read()[:4096])
    text = tmp_path / 'lfs.pth'
    text.write_text('version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 102\n')
    for path, what in ((truncated, 'a damaged or truncated torch checkpoint'), (text, 'a Git LFS pointer file')):
        with pytest.raises(CheckpointMismatchError, match=rf'{path.name}: {what}'):
            read_backbone(str(path))


class RunsCode:
    """A pickle payload: unpickling it would call ``open(marker, 'w')``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))


def test_a_pickle_that_would_run_code_is_refused_and_the_code_never_runs(tmp_path):
    marker = tmp_path / 'code_ran'
    for name in ('evil.pkl', 'evil.pth'):
        path = tmp_path / name
        with open(path, 'wb') as f:
            pickle.dump({'model': {'stem.conv1.weight': RunsCode(str(marker))}}, f)
        with pytest.raises(CheckpointMismatchError, match=r'global io\.open is not allowed'):
            read_backbone(str(path))
        assert not marker.exists()


def test_detectron2_round_trip_gives_the_same_arrays(reference, tmp_path, run_tool):
    import numpy as np
    _, paths = reference
    run_tool('model_converters/import_checkpoint.py', paths['detectron2'], tmp_path / 'imported.pth')
    imported = torch.load(tmp_path / 'imported.pth', weights_only=True)
    assert imported['meta']['source_format'] == 'detectron2' and len(imported['meta']['source_sha256']) == 64
    assert all(key.startswith('backbone.') for key in imported['state_dict'])
    run_tool('model_converters/to_detectron2.py', tmp_path / 'imported.pth', tmp_path / 'out.pkl')
    with open(paths['detectron2'], 'rb') as f:
        original = pickle.load(f)['model']
    with open(tmp_path / 'out.pkl', 'rb') as f:
        exported = pickle.load(f)['model']
    assert sorted(original) == sorted(exported)
    for key, value in original.items():
        np.testing.assert_array_equal(exported[key], value)
    run_tool('model_converters/to_torchvision.py', paths['moco'], tmp_path / 'tv.pth')
    assert read_backbone(str(tmp_path / 'tv.pth'))[1] == 'backbone'

import pytest
import torch
from mmengine.logging import HistoryBuffer
from torch import nn

from mmssl.models import ResNet
from mmssl.utils import CheckpointMismatchError, load_checkpoint_checked, load_state_dict_checked, select_prefix


class Algorithm(nn.Module):

    def __init__(self):
        super().__init__()
        self.backbone = ResNet(depth=18)
        self.head = nn.Linear(512, 8)


def test_full_checkpoint_with_prefix_matches_everything(tmp_path):
    algorithm = Algorithm()
    path = tmp_path / 'algo.pth'
    torch.save({'state_dict': algorithm.state_dict(), 'meta': {'epoch': 3}}, path)
    target = ResNet(depth=18)
    report = load_checkpoint_checked(target, str(path), prefix='backbone.')
    assert report.match_ratio == 1.0 and not report.missing and not report.unexpected
    assert torch.equal(target.conv1.weight, algorithm.backbone.conv1.weight)


def test_full_checkpoint_without_prefix_is_refused_with_sample_of_missing_keys(tmp_path):
    path = tmp_path / 'algo.pth'
    torch.save({'state_dict': Algorithm().state_dict()}, path)
    target = ResNet(depth=18)
    before = target.conv1.weight.clone()
    with pytest.raises(CheckpointMismatchError) as excinfo:
        load_checkpoint_checked(target, str(path))
    message = str(excinfo.value)
    assert str(path) in message and 'matched 0/' in message and 'conv1.weight' in message
    assert 'backbone.conv1.weight' in message  # shows what the checkpoint does hold
    assert torch.equal(target.conv1.weight, before), 'nothing may be loaded on failure'


def test_backbone_only_file_given_with_prefix_is_refused():
    state = ResNet(depth=18).state_dict()
    with pytest.raises(CheckpointMismatchError, match="prefix 'backbone.'"):
        load_state_dict_checked(ResNet(depth=18), state, prefix='backbone.')


def test_threshold_is_configurable_and_shape_mismatch_counted():
    source = ResNet(depth=18).state_dict()
    source['conv1.weight'] = torch.zeros(64, 1, 7, 7)
    target = ResNet(depth=18)
    report = load_state_dict_checked(target, source, min_match_ratio=0.5)
    assert report.shape_mismatched == ['conv1.weight']
    assert 0.95 < report.match_ratio < 1.0
    kept = {k: v for i, (k, v) in enumerate(ResNet(depth=18).state_dict().items()) if i % 2}
    with pytest.raises(CheckpointMismatchError):
        load_state_dict_checked(ResNet(depth=18), kept, min_match_ratio=0.9)
    assert load_state_dict_checked(ResNet(depth=18), kept, min_match_ratio=0.3).match_ratio < 0.9


def test_select_prefix_and_ddp_prefix():
    state = {'backbone.a': 1, 'backbone.b': 2, 'head.c': 3}
    assert select_prefix(state, 'backbone') == {'a': 1, 'b': 2}
    module = nn.Linear(2, 2)
    wrapped = {'module.' + k: v for k, v in module.state_dict().items()}
    assert load_state_dict_checked(nn.Linear(2, 2), wrapped).match_ratio == 1.0


def test_mmengine_checkpoint_globals_load_weights_only(tmp_path):
    import numpy as np

    import mmssl  # noqa: F401  (allow-lists the globals)
    buffer = HistoryBuffer()
    buffer.update(np.float64(1.5))
    path = tmp_path / 'ckpt.pth'
    torch.save({'message_hub': {'buffer': buffer, 'arr': np.arange(3), 'scalar': np.int64(4)}}, path)
    loaded = torch.load(path, weights_only=True)
    assert loaded['message_hub']['buffer'].current() == 1.5
    assert loaded['message_hub']['scalar'] == 4

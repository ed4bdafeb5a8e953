import pytest
import torch
from mmengine.logging import HistoryBuffer
from torch import nn

from mmssl.models import ResNet
from mmssl.utils import CheckpointMismatchError, load_state_dict_checked, read_checkpoint, select_prefix


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
    report = load_state_dict_checked(target, read_checkpoint(str(path)).state_dict, prefix='backbone.',
                                     source=str(path))
    assert report.match_ratio == 1.0 and not report.missing and not report.unexpected
    assert torch.equal(target.conv1.weight, algorithm.backbone.conv1.weight)


def test_full_checkpoint_without_prefix_is_refused_with_sample_of_missing_keys(tmp_path):
    path = tmp_path / 'algo.pth'
    torch.save({'state_dict': Algorithm().state_dict()}, path)
    target = ResNet(depth=18)
    before = target.conv1.weight.clone()
    with pytest.raises(CheckpointMismatchError) as excinfo:
        load_state_dict_checked(target, read_checkpoint(str(path)).state_dict, source=str(path))
    message = str(excinfo.value)
    assert str(path) in message and 'matched 0/' in message and 'conv1.weight' in message
    assert 'backbone.conv1.weight' in message  # shows what the checkpoint does hold
    assert torch.equal(target.conv1.weight, before), 'nothing may be loaded on failure'


def test_backbone_only_file_given_with_prefix_is_refused():
    state = ResNet(depth=18).state_dict()
    with pytest.raises(CheckpointMismatchError, match="prefix 'backbone.'"):
        load_state_dict_checked(ResNet(depth=18), state, prefix='backbone.')


def test_threshold_is_configurable_and_shapes_and_the_input_layer_must_fit():
    # One policy (issue 13): a shape mismatch or an input layer that does not load fails at any threshold.
    source = ResNet(depth=18).state_dict()
    source['conv1.weight'] = torch.zeros(64, 1, 7, 7)
    with pytest.raises(CheckpointMismatchError, match=r"shapes differ .*conv1.weight \(64, 1, 7, 7\) vs \(64, 3, 7, "
                       r"7\)\) and its input layer 'conv1.weight' does not load; matched 119/120"):
        load_state_dict_checked(ResNet(depth=18), source, min_match_ratio=0.5)
    state = ResNet(depth=18).state_dict()
    kept = {k: v for i, (k, v) in enumerate(state.items()) if i % 2 or k == 'conv1.weight'}
    with pytest.raises(CheckpointMismatchError, match='fewer than 90% of its keys match'):
        load_state_dict_checked(ResNet(depth=18), kept, min_match_ratio=0.9)
    assert load_state_dict_checked(ResNet(depth=18), kept, min_match_ratio=0.3).match_ratio < 0.9
    # BatchNorm counters are optional: a file without them (torchvision's classic ones) loads completely.
    counters = {k: v for k, v in state.items() if not k.endswith('num_batches_tracked')}
    assert load_state_dict_checked(ResNet(depth=18), counters).match_ratio == 1.0


def test_select_prefix_and_ddp_prefix():
    state = {'backbone.a': 1, 'backbone.b': 2, 'head.c': 3}
    assert select_prefix(state, 'backbone') == {'a': 1, 'b': 2}
    module = nn.Linear(2, 2)
    wrapped = {'module.' + k: v for k, v in module.state_dict().items()}
    assert load_state_dict_checked(nn.Linear(2, 2), wrapped).match_ratio == 1.0


def test_mmengine_checkpoint_globals_load_weights_only(tmp_path):
    import numpy as np

    from mmssl.utils import setup_runtime
    setup_runtime()  # allow-lists the globals
    buffer = HistoryBuffer()
    buffer.update(np.float64(1.5))
    path = tmp_path / 'ckpt.pth'
    torch.save({'message_hub': {'buffer': buffer, 'arr': np.arange(3), 'scalar': np.int64(4)}}, path)
    loaded = torch.load(path, weights_only=True)
    assert loaded['message_hub']['buffer'].current() == 1.5
    assert loaded['message_hub']['scalar'] == 4


def test_read_checkpoint_reads_an_mmengine_checkpoint_without_the_process_wide_allow_list(tmp_path, repo_root):
    # The comparison report reads a training checkpoint's meta.seed in a process that never called setup_runtime().
    import subprocess
    import sys
    code = (
        'import sys, torch\n'
        'from mmengine.logging import HistoryBuffer\n'
        'from mmssl.utils import read_checkpoint\n'
        'allowed = lambda: sorted(map(repr, torch.serialization.get_safe_globals()))\n'
        'before = allowed()\n'
        'buffer = HistoryBuffer(); buffer.update(1.5)\n'
        'torch.save({"meta": {"seed": 3}, "state_dict": {}, "message_hub": {"b": buffer}}, sys.argv[1])\n'
        'assert read_checkpoint(sys.argv[1]).content["meta"]["seed"] == 3\n'
        'assert allowed() == before\n')
    done = subprocess.run([sys.executable, '-c', code, str(tmp_path / 'iter_40.pth')], cwd=repo_root,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # ... and after setup_runtime() the process-wide list still holds them after a read.
    done = subprocess.run([sys.executable, '-c', 'from mmssl.utils import setup_runtime; setup_runtime()\n' + code,
                           str(tmp_path / 'iter_80.pth')], cwd=repo_root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_a_file_is_read_once_and_hashed_from_that_read(tmp_path, monkeypatch):
    import hashlib

    from mmssl.utils.checkpoint import reading as loader
    path = tmp_path / 'algo.pth'
    torch.save({'state_dict': Algorithm().state_dict()}, path)
    reads = []
    read_bytes = loader._read_bytes
    monkeypatch.setattr(loader, '_read_bytes', lambda p: reads.append(p) or read_bytes(p))
    first = loader.read_checkpoint(str(path))
    load_state_dict_checked(ResNet(depth=18), loader.read_checkpoint(str(path)).state_dict, prefix='backbone.')
    assert loader.read_checkpoint(str(path)) is first and len(reads) == 1
    assert first.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    torch.save({'state_dict': {}}, path)  # a changed file is read again
    assert loader.read_checkpoint(str(path)) is not first and len(reads) == 2


def test_mmengine_reads_local_checkpoints_through_the_same_loader(tmp_path, monkeypatch):
    from mmengine.runner.checkpoint import _load_checkpoint

    from mmssl.utils import setup_runtime
    from mmssl.utils.checkpoint import reading as loader
    setup_runtime()  # registers the loader with mmengine
    path = tmp_path / 'algo.pth'
    torch.save({'state_dict': Algorithm().state_dict()}, path)
    reads = []
    read_bytes = loader._read_bytes
    monkeypatch.setattr(loader, '_read_bytes', lambda p: reads.append(p) or read_bytes(p))
    assert _load_checkpoint(str(path), map_location='cpu') is loader.read_checkpoint(str(path)).content
    assert len(reads) == 1


@pytest.mark.parametrize('content, expected', [
    (b'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a\nsize 102502400\n',
     r'notes\.pth: a Git LFS pointer file \(\d+ bytes\), not the checkpoint it stands for; run `git lfs pull`'),
    (b'<html><body>Sign in to download</body></html>\n',
     r"notes\.pth: a text file \(\d+ bytes, first line '<html><body>Sign in.*'\), not a checkpoint"),
    (b'', r'notes\.pth: the file is empty \(0 bytes\), not a checkpoint'),
    ('truncated', r'notes\.pth: a damaged or truncated torch checkpoint \(\d+ bytes; RuntimeError: .*zip archive'),
    (b'\x80\x02}q\x00(X\x03\x00\x00\x00', r'notes\.pth: cannot be read as a weights-only torch checkpoint'),
])
def test_unreadable_files_name_the_file_and_what_it_is(tmp_path, content, expected):
    from mmssl.utils import read_checkpoint
    path = tmp_path / 'notes.pth'
    if content == 'truncated':
        torch.save({'state_dict': {'w': torch.zeros(1000)}}, path)
        content = path.read_bytes()[:2000]
    path.write_bytes(content)
    with pytest.raises(CheckpointMismatchError, match=expected) as excinfo:
        read_checkpoint(str(path))
    assert 'weights_only' not in str(excinfo.value)  # torch's hint to switch the safe load off


def test_a_module_missing_from_a_fitting_checkpoint_is_warned_about_by_name(caplog):
    import logging
    state = {key: value for key, value in Algorithm().state_dict().items() if not key.startswith('head.')}
    del state['backbone.layer4.0.downsample.0.weight']  # a whole layer (its BN counter is optional) and the head
    for key in [key for key in state if key.startswith('backbone.layer4.0.downsample.1.')]:
        del state[key]
    with caplog.at_level(logging.INFO):
        report = load_state_dict_checked(Algorithm(), state, source='algo.pth', logger=logging.getLogger('test'))
    assert report.not_loaded_modules() == {'backbone.layer4.0.downsample': 5, 'head': 2}
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert warnings == ['algo.pth: backbone.layer4.0.downsample: 0/5 keys in the checkpoint, left at its '
                        'initialisation', 'algo.pth: head: 0/2 keys in the checkpoint, left at its initialisation']
    record = report.to_record()
    assert (record['matched'], len(record['missing']), record['unexpected']) == (114, 7, 0)
    assert record['not_loaded_modules'] == {'backbone.layer4.0.downsample': 5, 'head': 2}

"""Checkpoints that could be read more than one way are refused, naming the candidates and the option that picks
one; what a read leaves out of the file is reported; every refusal names the file or value and what it is."""
import argparse
import logging
import os

import pytest
import torch
from builders.checkpoints import (resnet18_state, save_resnet_checkpoint, torchvision_resnet50, write_layout,
                                  write_prefixed_backbones, write_two_weight_sets)
from builders.vit_checkpoints import OtherTrainerOptions

from mmssl.models import ResNet
from mmssl.utils import (BackboneWeights, CheckpointMismatchError, InputError, load_state_dict_checked, read_backbone,
                         read_checkpoint)

KNN_CONFIG = 'configs/benchmarks/classification/fashion_mnist/resnet18_knn_fmnist-demo.py'


@pytest.fixture(scope='module')
def backbones():
    """Two different ResNet-18 state dicts."""
    return resnet18_state(0), resnet18_state(1)


def copy(state: dict) -> dict:
    return {key: value.clone() for key, value in state.items()}


def test_two_different_weight_sets_are_refused_naming_both_and_the_key(backbones, tmp_path):
    first, second = backbones
    path = write_two_weight_sets(tmp_path / 'two_sets.pth', first, second)
    with pytest.raises(CheckpointMismatchError, match=r"two_sets\.pth: holds two different weight sets, 'state_dict' "
                       r"\(120 entries.*\) and 'model' \(120 entries.*pass --checkpoint-key state_dict or "
                       r'--checkpoint-key model'):
        BackboneWeights.from_checkpoint(path)
    with pytest.raises(CheckpointMismatchError, match=r'two_sets\.pth: holds two different weight sets'):
        read_checkpoint(path).state_dict  # the dense benchmarks' reading refuses it too
    picked = BackboneWeights.from_checkpoint(path, key_path='model')
    assert torch.equal(picked.state_dict['conv1.weight'], second['conv1.weight'])
    assert picked.dropped == {'state_dict': 120}


def test_identical_weight_sets_are_not_ambiguous(backbones, tmp_path):
    first, _ = backbones
    path = write_two_weight_sets(tmp_path / 'copies.pth', first, copy(first))
    weights = BackboneWeights.from_checkpoint(path)
    assert weights.layout == 'mmssl' and torch.equal(weights.state_dict['conv1.weight'], first['conv1.weight'])
    assert weights.dropped == {'model': 120}  # the copy is left out, and said so


def test_two_resnets_under_different_prefixes_are_refused_naming_both(backbones, tmp_path):
    first, second = backbones
    path = write_prefixed_backbones(tmp_path / 'two_nets.pth', {'backbone.': first, 'encoder.': second},
                                    {'neck.fc.weight': torch.zeros(2, 2)})
    with pytest.raises(CheckpointMismatchError, match=r"two_nets\.pth: 2 different ResNets fit, under 'backbone\.', "
                       r"'encoder\.' .*pass --checkpoint-prefix backbone\. or --checkpoint-prefix encoder\."):
        read_backbone(path)
    state, layout = read_backbone(path, prefix='encoder.')
    assert layout == 'backbone' and torch.equal(state['conv1.weight'], second['conv1.weight'])
    state, layout = read_backbone(path, checkpoint_format='mmssl')  # naming the layout picks its backbone.*
    assert layout == 'mmssl' and torch.equal(state['conv1.weight'], first['conv1.weight'])
    bare = write_prefixed_backbones(tmp_path / 'bare_and_encoder.pth', {'': first, 'encoder.': second})
    with pytest.raises(CheckpointMismatchError, match=r"bare_and_encoder\.pth: 2 different ResNets fit, under no "
                       r"prefix, 'encoder\.'.*--checkpoint-prefix encoder\. or --checkpoint-format backbone"):
        read_backbone(bare)
    unknown = write_prefixed_backbones(tmp_path / 'enc_dec.pth', {'encoder.': first, 'decoder.': second})
    with pytest.raises(CheckpointMismatchError, match=r"enc_dec\.pth: no known checkpoint layout fits .*under each of "
                       r"'encoder\.', 'decoder\.'.*--checkpoint-prefix encoder\. or --checkpoint-prefix decoder\."):
        read_backbone(unknown)


def test_identical_copies_and_declared_momentum_encoders_are_not_ambiguous(backbones, tmp_path):
    first, second = backbones
    # mmselfsup 0.x MoCo: backbone is encoder_q[0] (the same tensors), encoder_k the momentum copy
    v0 = write_prefixed_backbones(tmp_path / 'mocov2_0x.pth', {'backbone.': first, 'encoder_q.0.': copy(first),
                                                               'encoder_k.0.': second})
    # mmselfsup 1.x BYOL / MoCo: the momentum copy wrapped by MomentumEncoder
    v1 = write_prefixed_backbones(tmp_path / 'byol_1x.pth', {'backbone.': first, 'target_net.module.0.': second})
    for path, dropped in ((v0, {'encoder_q': 120, 'encoder_k': 120}), (v1, {'target_net': 120})):
        weights = BackboneWeights.from_checkpoint(path)
        assert weights.layout == 'mmssl' and torch.equal(weights.state_dict['conv1.weight'], first['conv1.weight'])
        assert weights.dropped == dropped, path


def test_what_a_read_leaves_out_is_in_the_summary_and_the_record(backbones, tmp_path):
    first, _ = backbones
    param = torch.zeros(4)
    path = tmp_path / 'algorithm.pth'
    torch.save({'state_dict': {**{f'backbone.{k}': v for k, v in first.items()}, 'neck.fc.weight': torch.zeros(4, 4),
                               'neck.fc.bias': torch.zeros(4), 'head.fc_cls.weight': torch.zeros(2, 4)},
                'optimizer': {'state': {0: {'momentum_buffer': param}}, 'param_groups': [{'params': [0]}]},
                'meta': {'epoch': 1}}, path)
    weights = BackboneWeights.from_checkpoint(str(path))
    assert weights.dropped == {'neck': 2, 'head': 1, 'optimizer': 1}
    report = weights.load_into(ResNet(depth=18))
    assert not report.unexpected
    line = report.summary()
    assert 'unexpected 0' in line and '4 other tensors of the file left out: neck 2, head 1, optimizer 1' in line
    record = report.to_record()
    assert record['dropped'] == {'neck': 2, 'head': 1, 'optimizer': 1} and record['num_dropped'] == 4
    assert record['unexpected'] == 0


def test_a_prefix_given_to_the_checked_load_reports_what_it_left_out_in_its_log_line(tmp_path, caplog):
    path = tmp_path / 'algo.pth'
    save_resnet_checkpoint(path, 18)
    state = dict(read_checkpoint(str(path)).state_dict, **{'head.fc.weight': torch.zeros(2, 2),
                                                           'head.fc.bias': torch.zeros(2)})
    with caplog.at_level(logging.INFO):
        report = load_state_dict_checked(ResNet(depth=18), state, prefix='backbone.', source=str(path),
                                         logger=logging.getLogger('test'))
    assert report.dropped == {'head': 2} and report.to_record()['num_dropped'] == 2
    lines = [record.getMessage() for record in caplog.records if record.getMessage().startswith('Loaded')]
    assert lines == [f"Loaded {path} (prefix 'backbone.') into ResNet: matched 120/120 module keys (100.0%), "
                     'missing 0, unexpected 0, shape mismatch 0; 2 other tensors of the file left out: head 2']


def test_moco_reads_its_query_encoder_and_reports_the_rest(tmp_path):
    model = torchvision_resnet50()
    path = write_layout('moco', model.state_dict(), str(tmp_path))
    weights = BackboneWeights.from_checkpoint(path)
    backbone = [key for key in model.state_dict() if not key.startswith('fc.')]
    assert weights.layout == 'moco' and set(weights.state_dict) == set(backbone)
    # the v2 MLP head (fc.0 / fc.2) of both encoders, the key encoder and the queue
    assert weights.dropped == {'module.encoder_q.fc': 4, 'module.encoder_k': len(backbone) + 4, 'module.queue': 1,
                               'module.queue_ptr': 1}


def test_a_directory_or_a_symlink_loop_says_what_it_is(tmp_path):
    run_dir = tmp_path / 'run'
    run_dir.mkdir()
    (run_dir / 'epoch_3.pth').write_bytes(b'')
    with pytest.raises(CheckpointMismatchError, match=rf'checkpoint {run_dir} is a directory, not a file; .*'
                       r'checkpoint files in it: epoch_3\.pth'):
        BackboneWeights.from_arg(str(run_dir))
    loop = tmp_path / 'loop.pth'
    os.symlink(loop, loop)
    with pytest.raises(CheckpointMismatchError, match=rf'checkpoint {loop} is a symlink loop'):
        read_checkpoint(str(loop))
    dangling = tmp_path / 'latest.pth'
    os.symlink(tmp_path / 'epoch_9.pth', dangling)
    with pytest.raises(FileNotFoundError, match=rf'checkpoint {dangling} is a symlink to .*epoch_9\.pth, which does '
                       'not exist'):
        read_checkpoint(str(dangling))


class CallsSystem:
    """A pickle payload whose global (``os.system``) is of a module torch blocks outright."""

    def __reduce__(self):
        return (os.system, ('true', ))


OTHER_OPTIONS = 'builders.vit_checkpoints.OtherTrainerOptions'


# argparse.Namespace itself is allowed (DINO's, iBOT's and MAE's options); what it holds is not exempt
@pytest.mark.parametrize('payload, name', [(OtherTrainerOptions(), OTHER_OPTIONS),
                                           (argparse.Namespace(lr=0.1, scheduler=OtherTrainerOptions()), OTHER_OPTIONS),
                                           (CallsSystem(), 'posix.system' if os.name == 'posix' else 'nt.system')])
def test_a_zip_checkpoint_with_a_forbidden_global_names_it(tmp_path, payload, name):
    path = tmp_path / 'with_args.pth'
    torch.save({'state_dict': {'w': torch.zeros(2)}, 'args': payload}, path)
    with pytest.raises(CheckpointMismatchError) as error:
        read_checkpoint(str(path))
    message = str(error.value)
    assert message.startswith(f'{path}: holds the global {name}, which a weights-only load refuses'), message
    assert 'Save the tensors only' in message and 'damaged' not in message and 'add_safe_globals' not in message


def test_a_prefix_without_its_dot_is_refused_with_the_prefix_that_fits(backbones, tmp_path):
    first, second = backbones
    path = write_prefixed_backbones(tmp_path / 'encoder.pth', {'encoder.': first}, {'head.w': torch.zeros(1)})
    with pytest.raises(CheckpointMismatchError, match=r"encoder\.pth: --checkpoint-prefix 'encoder' does not end "
                       r"with \"\.\".*the keys under 'encoder\.' hold a ResNet backbone \(layout backbone\): pass "
                       r'--checkpoint-prefix encoder\.$'):
        read_backbone(path, prefix='encoder')
    two = write_prefixed_backbones(tmp_path / 'moco_like.pth', {'encoder_q.': first, 'encoder_k.': second})
    with pytest.raises(CheckpointMismatchError, match=r"moco_like\.pth: --checkpoint-prefix 'encoder' does not end "
                       r"with \"\.\"; keys starting with it continue as 'encoder_k\.', 'encoder_q\.'"):
        read_backbone(two, prefix='encoder')


def test_a_random_init_seed_with_a_checkpoint_file_is_refused(tmp_path):
    path = tmp_path / 'algo.pth'
    save_resnet_checkpoint(path, 18)
    with pytest.raises(InputError, match=rf'--random-init-seed 3 draws the random backbone of CHECKPOINT "none", '
                       rf'but CHECKPOINT is the file {path}'):
        BackboneWeights.from_arg(str(path), random_init_seed=3)
    assert BackboneWeights.from_arg('none', random_init_seed=3).random_init_seed == 3
    assert BackboneWeights.from_arg('none').random_init_seed == 0
    assert BackboneWeights.from_arg(str(path)).path == str(path)


def test_the_benchmark_command_refuses_each_in_one_line(run_tool, backbones, tmp_path):
    first, second = backbones
    env = {key: value for key, value in os.environ.items() if key != 'MMSSL_DEBUG'}
    ambiguous = write_two_weight_sets(tmp_path / 'two_sets.pth', first, second)
    single = write_prefixed_backbones(tmp_path / 'single.pth', {'backbone.': first})
    cases = [((ambiguous, ), f'error: {ambiguous}: holds two different weight sets'),
             ((single, '--random-init-seed', '5'), f'error: --random-init-seed 5 draws the random backbone of '
              f'CHECKPOINT "none", but CHECKPOINT is the file {single}'),
             ((tmp_path, ), f'error: checkpoint {tmp_path} is a directory, not a file')]
    for args, expected in cases:
        result = run_tool('benchmarks/classification/knn.py', KNN_CONFIG, *args, '--work-dir', tmp_path / 'work',
                          process=True, expect_ok=False, env=env)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2 and len(lines) == 1 and lines[0].startswith(expected), result.stderr
        assert not (tmp_path / 'work').exists()  # refused before any work

"""--resume: which checkpoint it continues from, what it refuses, and that it never restarts over checkpoints."""
import hashlib
import logging
import shutil

import pytest
import torch
from builders.checkpoints import save_resnet_checkpoint
from builders.datasets import make_imagenet
from builders.runs import tiny_train_config

from mmssl.engine.resume import check_resumable, find_resume_checkpoint
from mmssl.engine.train import train
from mmssl.utils import CheckpointMismatchError, read_checkpoint, register_all_modules

LOGGER = logging.getLogger(__name__)


@pytest.fixture(autouse=True)
def one_thread():
    # the tiny network trains several times faster on one thread of a shared machine
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    return make_imagenet(str(tmp_path_factory.mktemp('imagenet')), train_per_class=2, size=16)


@pytest.fixture(scope='module')
def trained(tmp_path_factory, tiny_data):
    """A work dir with iter_2.pth and iter_4.pth of a 4-iteration run."""
    register_all_modules(init_default_scope=False)
    work_dir = tmp_path_factory.mktemp('trained')
    with torch.random.fork_rng():
        torch.set_num_threads(1)
        train(tiny_train_config(tiny_data, work_dir, max_iters=4))
    return work_dir


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fake_checkpoints(work_dir, *names, truncate=()):
    """Tiny training checkpoints named ``names``; those in ``truncate`` cut to half their bytes."""
    work_dir.mkdir(parents=True, exist_ok=True)
    for number, name in enumerate(names):
        torch.save({'meta': {'epoch': 0, 'iter': number}, 'state_dict': {'w': torch.zeros(64)}}, work_dir / name)
        if name in truncate:
            data = (work_dir / name).read_bytes()
            (work_dir / name).write_bytes(data[:len(data) // 2])


def test_without_last_checkpoint_the_highest_numbered_is_taken(tmp_path, caplog):
    fake_checkpoints(tmp_path, 'iter_4.pth', 'iter_10.pth', 'iter_8.pth')
    with caplog.at_level(logging.INFO):
        assert find_resume_checkpoint(str(tmp_path), LOGGER) == str(tmp_path / 'iter_10.pth')
    assert 'has no usable last_checkpoint' in caplog.text


def test_a_copied_work_dir_resumes_from_its_own_files(tmp_path, caplog):
    fake_checkpoints(tmp_path / 'old', 'iter_2.pth', 'iter_4.pth')
    (tmp_path / 'old' / 'last_checkpoint').write_text(str(tmp_path / 'old' / 'iter_4.pth'))
    shutil.copytree(tmp_path / 'old', tmp_path / 'copy')
    with caplog.at_level(logging.INFO):
        assert find_resume_checkpoint(str(tmp_path / 'copy'), LOGGER) == str(tmp_path / 'copy' / 'iter_4.pth')
    assert "resuming from this work dir's own" in caplog.text
    shutil.move(tmp_path / 'old', tmp_path / 'moved')  # the path written in last_checkpoint is gone
    assert find_resume_checkpoint(str(tmp_path / 'moved'), LOGGER) == str(tmp_path / 'moved' / 'iter_4.pth')
    (tmp_path / 'moved' / 'last_checkpoint').write_text('iter_2.pth')  # relative: to the work dir, not the cwd
    assert find_resume_checkpoint(str(tmp_path / 'moved'), LOGGER) == str(tmp_path / 'moved' / 'iter_2.pth')


def test_a_truncated_newest_checkpoint_is_named_and_the_previous_one_taken(tmp_path, caplog):
    fake_checkpoints(tmp_path, 'iter_2.pth', 'iter_4.pth', truncate=['iter_4.pth'])
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_4.pth'))
    with caplog.at_level(logging.INFO):
        assert find_resume_checkpoint(str(tmp_path), LOGGER) == str(tmp_path / 'iter_2.pth')
    assert f'cannot resume from {tmp_path / "iter_4.pth"} (truncated or damaged?)' in caplog.text
    assert 'falling back to iter_2.pth' in caplog.text


def test_refused_when_no_checkpoint_can_be_read(tmp_path):
    fake_checkpoints(tmp_path, 'iter_2.pth', 'iter_4.pth', truncate=['iter_2.pth', 'iter_4.pth'])
    with pytest.raises(CheckpointMismatchError, match=r'none of the checkpoints in .* can be read, refusing to start '
                       r'from iteration 1 over them: .*iter_4\.pth.*iter_2\.pth'):
        find_resume_checkpoint(str(tmp_path), LOGGER)


def test_resume_without_last_checkpoint_continues_and_overwrites_nothing(tmp_path, trained, tiny_data):
    work_dir = tmp_path / 'work'
    shutil.copytree(trained, work_dir)
    (work_dir / 'last_checkpoint').unlink()  # e.g. checkpoints copied from another machine
    before = {name: digest(work_dir / name) for name in ('iter_2.pth', 'iter_4.pth')}
    train(tiny_train_config(tiny_data, work_dir, max_iters=6, resume=True))
    assert {name: digest(work_dir / name) for name in before} == before
    assert torch.load(work_dir / 'iter_6.pth', weights_only=True)['meta']['iter'] == 6


def test_resume_from_a_checkpoint_of_another_config_names_the_file(tmp_path, trained, tiny_data):
    backbone_only = tmp_path / 'pretrained.pth'
    save_resnet_checkpoint(backbone_only, depth=18)  # weights without training state
    cfg = tiny_train_config(tiny_data, tmp_path / 'a', resume=True, load_from=str(backbone_only))
    with pytest.raises(CheckpointMismatchError, match=rf'cannot resume from {backbone_only}: expected a training '
                       r'checkpoint written by tools/train.py \(keys "meta" with "epoch" and "iter".*use load_from'):
        train(cfg)

    other = read_checkpoint(str(trained / 'iter_2.pth')).content
    other['state_dict']['head.fc.weight'] = torch.zeros(7, 512)  # a 7-class head
    torch.save(other, tmp_path / 'other.pth')
    cfg = tiny_train_config(tiny_data, tmp_path / 'b', resume=True, load_from=str(tmp_path / 'other.pth'))
    with pytest.raises(CheckpointMismatchError, match=r'cannot resume from .*other.pth: it was written for another '
                       r'model or config than ImageClassifier: 1 shapes differ.*'
                       r'head.fc.weight \(7, 512\) vs \(3, 512\)'):
        train(cfg)
    assert not (tmp_path / 'b' / 'iter_2.pth').exists()


def test_check_resumable_accepts_its_own_checkpoint(trained, tiny_data):
    from mmssl.registry import MODELS
    model = MODELS.build(tiny_train_config(tiny_data, trained).model)
    assert check_resumable(str(trained / 'iter_4.pth'), model).content['meta']['iter'] == 4

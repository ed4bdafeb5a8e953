"""End-to-end runs of tools/train.py, tools/test.py and tools/dist_train.sh on tiny real-format data."""
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
import torch
from builders.datasets import make_imagenet

from mmssl.utils import setup_runtime

# Commands run in the repository root (the repo_root fixture), so paths are relative to it.
DEMO_CONFIG = 'configs/selfsup/relative_loc/relative-loc_resnet18_1xb32-300it_fmnist-demo.py'

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True, scope='module')
def read_training_checkpoints():
    """The tests read what training wrote, message hub included, as mmssl does (weights-only)."""
    setup_runtime()


@pytest.fixture(scope='module')
def tiny_imagenet(tmp_path_factory):
    return make_imagenet(str(tmp_path_factory.mktemp('imagenet')), train_per_class=4, size=28)


def demo_options(data: dict, max_iters: int, **extra) -> list:
    options = {
        'train_dataloader.dataset.data_root': data['data_root'],
        'train_dataloader.dataset.ann_file': 'meta/train.txt',
        'train_dataloader.dataset.data_prefix.img_path': 'train',
        'val_dataloader.dataset.data_root': data['data_root'],
        'val_dataloader.dataset.ann_file': 'meta/val.txt',
        'val_dataloader.dataset.data_prefix.img_path': 'val',
        'train_dataloader.batch_size': 2,
        'val_dataloader.batch_size': 2,
        'train_dataloader.num_workers': 0,
        'val_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'val_dataloader.persistent_workers': False,
        'train_cfg.max_iters': max_iters,
        'train_cfg.val_interval': max_iters,
        'default_hooks.checkpoint.interval': 2,
        'default_hooks.checkpoint.max_keep_ckpts': 10,
        'default_hooks.logger.interval': 1,
        **extra,
    }
    return ['--cfg-options'] + [f'{key}={value}' for key, value in options.items()]


def train_cmd(work_dir, data, max_iters, *args, **extra):
    return [sys.executable, 'tools/train.py', DEMO_CONFIG, '--work-dir', str(work_dir), *args,
            *demo_options(data, max_iters, **extra)]


def run(cmd, cwd, **kwargs):
    """Run ``cmd`` in ``cwd`` (the repository root) and assert that it succeeded, showing its output."""
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600, **kwargs)
    assert result.returncode == 0, f'{" ".join(map(str, cmd))}\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}'
    return result


def checkpoint_iter(path) -> int:
    return torch.load(path, map_location='cpu', weights_only=True)['meta']['iter']


def test_resume_after_kill_continues_from_newest_checkpoint(tmp_path, tiny_imagenet, repo_root):
    work_dir = tmp_path / 'work'
    # A long first run, killed once its second checkpoint is recorded as the newest.
    process = subprocess.Popen(train_cmd(work_dir, tiny_imagenet, 400), cwd=repo_root, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 300
        last = work_dir / 'last_checkpoint'
        while not (last.exists() and last.read_text().strip().endswith(('iter_4.pth', 'iter_6.pth'))):
            assert process.poll() is None, 'training stopped before it was killed'
            assert time.time() < deadline, 'no checkpoint after 300 s'
            time.sleep(0.5)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    newest = (work_dir / 'last_checkpoint').read_text().strip()
    resumed_from = checkpoint_iter(newest)
    assert resumed_from >= 4

    result = run(train_cmd(work_dir, tiny_imagenet, resumed_from + 2, '--resume'), repo_root)
    log = result.stdout + result.stderr
    assert f'resumed epoch: 0, iter: {resumed_from}' in log
    assert checkpoint_iter(work_dir / f'iter_{resumed_from + 2}.pth') == resumed_from + 2


def test_resume_from_explicit_checkpoint_and_test_tool(tmp_path, tiny_imagenet, repo_root):
    work_dir = tmp_path / 'work'
    run(train_cmd(work_dir, tiny_imagenet, 2), repo_root)
    result = run(train_cmd(work_dir, tiny_imagenet, 4, '--resume', str(work_dir / 'iter_2.pth')), repo_root)
    assert 'resumed epoch: 0, iter: 2' in result.stdout + result.stderr
    before = torch.load(work_dir / 'iter_2.pth', weights_only=True)['state_dict']['backbone.conv1.weight']
    after = torch.load(work_dir / 'iter_4.pth', weights_only=True)['state_dict']['backbone.conv1.weight']
    assert not torch.equal(before, after), 'resumed training did not update the weights'

    options = demo_options(tiny_imagenet, 4)
    result = run([sys.executable, 'tools/test.py', DEMO_CONFIG, str(work_dir / 'iter_4.pth'),
                  '--work-dir', str(tmp_path / 'test'), *options], repo_root)
    assert 'accuracy/top1' in result.stdout + result.stderr


def test_dist_train_two_cpu_processes(tmp_path, tiny_imagenet, repo_root):
    work_dir = tmp_path / 'dist'
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(29500 + os.getpid() % 1000))
    cmd = ['bash', 'tools/dist_train.sh', DEMO_CONFIG, '2', '--work-dir', str(work_dir),
           *demo_options(tiny_imagenet, 2)]
    result = run(cmd, repo_root, env=env)
    log = result.stdout + result.stderr
    assert 'Distributed training: True' in log and 'GPU number: 2' in log  # mmengine's name for world size
    assert osp.exists(work_dir / 'iter_2.pth')
    state = torch.load(work_dir / 'iter_2.pth', weights_only=True)['state_dict']
    assert not any(key.startswith('module.') for key in state)


def test_unknown_type_in_config_suggests_names(tmp_path, tiny_imagenet, repo_root):
    cmd = train_cmd(tmp_path, tiny_imagenet, 1) + ['model.neck.type=RelativeLocNek']
    result = subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "'RelativeLocNek' is not in the mmssl::model registry: did you mean RelativeLocNeck" in result.stderr

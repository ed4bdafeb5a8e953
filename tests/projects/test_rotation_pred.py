import os
import subprocess
import sys

import numpy as np
import pytest
from builders.datasets import make_imagenet

CONFIG = 'configs/rotation-pred_resnet18_1xb32-100it_fmnist-demo.py'  # relative to the project


@pytest.fixture
def project(repo_root):
    """The plugin project's folder (its own package and configs)."""
    return repo_root / 'projects' / 'rotation_pred'


def test_rotation_stack_labels_match_rotations(monkeypatch, project):
    monkeypatch.syspath_prepend(str(project))
    from rotation_pred import RandomRotationStack
    img = np.arange(16, dtype=np.uint8).reshape(4, 4, 1)
    out = RandomRotationStack()(dict(img=img))
    assert out['img'].shape == (4, 4, 4, 1) and out['gt_label'].tolist() == [0, 1, 2, 3]
    assert np.array_equal(out['img'][1], np.rot90(img))
    with pytest.raises(ValueError, match='square'):
        RandomRotationStack()(dict(img=np.zeros((4, 5, 3), np.uint8), img_path='x.png'))


@pytest.mark.slow
def test_plugin_trains_with_tools_train_through_custom_imports(tmp_path, project, repo_root):
    data = make_imagenet(str(tmp_path / 'imagenet'), size=28)
    options = {f'{loader}.{key}': value for loader in ('train_dataloader', 'val_dataloader') for key, value in (
        ('dataset.data_root', data['data_root']), ('batch_size', 2), ('num_workers', 0),
        ('persistent_workers', False))}
    options.update({'train_dataloader.dataset.data_prefix.img_path': 'train',
                    'val_dataloader.dataset.data_prefix.img_path': 'val',
                    'train_cfg.max_iters': 2, 'train_cfg.val_interval': 2})
    env = dict(os.environ, PYTHONPATH=str(project))
    cmd = [sys.executable, str(repo_root / 'tools/train.py'), str(project / CONFIG), '--work-dir', str(tmp_path / 'w'),
           '--cfg-options', *[f'{k}={v}' for k, v in options.items()]]
    result = subprocess.run(cmd, cwd=repo_root, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'accuracy/top1' in result.stdout + result.stderr
    assert (tmp_path / 'w' / 'iter_2.pth').exists()
    # Nothing of the plugin lives in the package: the types came in through custom_imports alone.
    assert not any('RotationPred' in path.read_text() for path in (repo_root / 'mmssl').rglob('*.py'))

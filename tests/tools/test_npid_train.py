"""NPID through tools/train.py: the memory bank is checked against the data and survives checkpoints."""
import pytest
import torch
from builders.datasets import make_imagenet
from mmengine.config import Config
from mmengine.runner import Runner

from mmssl.utils import register_all_modules, setup_runtime

NPID_DEMO = 'configs/selfsup/npid/npid_resnet18_1xb64-1500it_fmnist-demo.py'  # relative to the repository root

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def tiny_imagenet(tmp_path_factory):
    return make_imagenet(str(tmp_path_factory.mktemp('imagenet')), train_per_class=2, size=28)  # 6 images


def options(data, length, max_iters=2):
    values = {'train_dataloader.dataset.data_root': data['data_root'],
              'train_dataloader.dataset.data_prefix.img_path': 'train',
              'train_dataloader.batch_size': 3, 'train_dataloader.num_workers': 0,
              'train_dataloader.persistent_workers': False, 'model.memory_bank.length': length,
              'train_cfg.max_iters': max_iters, 'default_hooks.checkpoint.interval': 2}
    return ['--cfg-options'] + [f'{key}={value}' for key, value in values.items()]


def test_bank_size_mismatch_is_refused_with_both_numbers(tmp_path, tiny_imagenet, run_tool):
    result = run_tool('train.py', NPID_DEMO, '--work-dir', tmp_path, *options(tiny_imagenet, 1000), process=True,
                      expect_ok=False, timeout=300)
    assert result.returncode != 0
    assert 'memory bank length 1000 differs from the training set size 6' in result.stderr


def test_resume_restores_the_memory_bank_exactly(tmp_path, tiny_imagenet, run_tool, repo_root):
    run_tool('train.py', NPID_DEMO, '--work-dir', tmp_path, *options(tiny_imagenet, 6), process=True, timeout=300)
    setup_runtime()  # the checkpoint holds the message hub, which a weights-only load needs allow-listed
    saved = torch.load(tmp_path / 'iter_2.pth', weights_only=True)['state_dict']['memory_bank.feature_bank']
    assert saved.shape == (6, 128)

    register_all_modules()
    cfg = Config.fromfile(str(repo_root / NPID_DEMO))
    cfg.merge_from_dict(dict(work_dir=str(tmp_path / 'resumed'), resume=True, load_from=str(tmp_path / 'iter_2.pth')))
    cfg.model.memory_bank.length = 6
    cfg.model.backbone.norm_cfg = dict(type='BN')
    cfg.train_dataloader.dataset.data_root = tiny_imagenet['data_root']
    cfg.train_dataloader.dataset.data_prefix = dict(img_path='train')
    cfg.train_dataloader.update(batch_size=3, num_workers=0, persistent_workers=False)
    runner = Runner.from_cfg(cfg)
    before = runner.model.memory_bank.feature_bank.clone()
    runner.load_or_resume()
    assert runner.iter == 2
    assert not torch.equal(before, saved)
    assert torch.equal(runner.model.memory_bank.feature_bank, saved)

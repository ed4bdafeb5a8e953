"""mmssl's CheckpointHook: used by every config, and the previous checkpoint survives a failed save."""

import pytest
import torch
from builders.datasets import make_imagenet
from builders.runs import tiny_train_config
from mmengine.config import Config
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mmssl.engine.hooks import CheckpointHook
from mmssl.engine.train import apply_train_options, train
from mmssl.utils import read_checkpoint, register_all_modules


def test_a_failed_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    register_all_modules(init_default_scope=False)
    data = make_imagenet(str(tmp_path / 'data'), train_per_class=1, size=16)
    saves = []
    original = Runner.save_checkpoint

    def save_once_then_fail(self, *args, **kwargs):
        saves.append(args)
        if len(saves) > 1:
            raise OSError(28, 'No space left on device')
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Runner, 'save_checkpoint', save_once_then_fail)
    torch.set_num_threads(1)
    cfg = tiny_train_config(data, tmp_path / 'work', max_iters=2, interval=1)
    cfg.default_hooks.checkpoint.max_keep_ckpts = 1
    with pytest.raises(OSError, match='No space left'):
        train(cfg)
    assert (tmp_path / 'work' / 'iter_1.pth').is_file()  # mmengine deleted it before writing iter_2.pth
    assert (tmp_path / 'work' / 'last_checkpoint').read_text() == str(tmp_path / 'work' / 'iter_1.pth')


def test_every_config_saves_through_the_mmssl_checkpoint_hook(shipped_config, repo_root):
    register_all_modules(init_default_scope=False)
    cfg = apply_train_options(Config.fromfile(str(repo_root / 'configs' / shipped_config)), work_dir='unused')
    hook_cfg = cfg.get('default_hooks', {}).get('checkpoint')
    if hook_cfg is None:
        pytest.skip(f'{shipped_config} saves no checkpoints')
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        assert MMENGINE_HOOKS.get(hook_cfg.type) is CheckpointHook


def train_one_iteration_saving_initial(tmp_path):
    """Train one iteration on a tiny ImageNet-layout set under ``tmp_path``, saving ``iter_0`` and ``iter_1``."""
    register_all_modules(init_default_scope=False)
    data = make_imagenet(str(tmp_path / 'data'), train_per_class=1, size=16)
    torch.set_num_threads(1)
    cfg = tiny_train_config(data, tmp_path / 'work', max_iters=1, interval=1)
    cfg.default_hooks.checkpoint.save_initial = True
    train(cfg)


def test_save_initial_saves_the_weights_before_the_first_step_as_iter_0(tmp_path):
    train_one_iteration_saving_initial(tmp_path)
    initial = read_checkpoint(str(tmp_path / 'work' / 'iter_0.pth')).content
    trained = read_checkpoint(str(tmp_path / 'work' / 'iter_1.pth')).content
    assert initial['meta']['iter'] == 0 and initial['meta']['epoch'] == 0 and trained['meta']['iter'] == 1
    key = 'backbone.conv1.weight'
    assert not torch.equal(initial['state_dict'][key], trained['state_dict'][key])  # saved before the SGD step
    assert (tmp_path / 'work' / 'last_checkpoint').read_text() == str(tmp_path / 'work' / 'iter_1.pth')


def test_save_initial_is_off_by_default_and_its_misspelling_is_refused():
    from mmssl.engine.hook_arguments import check_hook_arguments
    register_all_modules(init_default_scope=False)
    assert CheckpointHook(interval=1).save_initial is False
    with DefaultScope.overwrite_default_scope('mmssl'):
        check_hook_arguments(dict(checkpoint=dict(type='CheckpointHook', interval=1, save_initial=True)), [])
        with pytest.raises(TypeError, match="no argument 'save_intial': did you mean save_initial"):
            check_hook_arguments(dict(checkpoint=dict(type='CheckpointHook', save_intial=True)), [])


def test_unused_file_client_notices_are_dropped_and_nothing_else(tmp_path, capsys):
    """mmengine builds a FileClient it does not use in before_train; its two deprecation notices are not shown,
    the hook's own message is."""
    from mmengine.logging import MMLogger
    logger = MMLogger.get_instance('checkpoint_hook_notices', logger_name='checkpoint_hook_notices')
    runner = type('FakeRunner', (), dict(work_dir=str(tmp_path), logger=logger, message_hub=None))()
    CheckpointHook(interval=1, max_keep_ckpts=-1).before_train(runner)
    out = capsys.readouterr().out
    assert f'Checkpoints will be saved to {tmp_path}.' in out
    assert 'FileClient' not in out and 'HardDiskBackend' not in out, out
    assert not logger.filters


def test_a_training_shows_no_unused_file_client_notice(tmp_path, capsys):
    train_one_iteration_saving_initial(tmp_path)
    out = capsys.readouterr().out
    assert 'Saving checkpoint at 1 iterations' in out
    assert 'FileClient' not in out and 'HardDiskBackend' not in out, out[-3000:]

"""mmssl's CheckpointHook: used by every config, and the previous checkpoint survives a failed save."""
from pathlib import Path

import pytest
import torch
from data_utils import make_imagenet, tiny_train_config
from mmengine.config import Config
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mmssl.apis.train import apply_train_options, train
from mmssl.engine.hooks import CheckpointHook
from mmssl.utils import register_all_modules

REPO = Path(__file__).resolve().parents[3]


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


@pytest.mark.parametrize('config', sorted(str(path.relative_to(REPO)) for path in (REPO / 'configs').rglob('*.py')
                                          if '_base_' not in path.parts))
def test_every_config_saves_through_the_mmssl_checkpoint_hook(config):
    register_all_modules(init_default_scope=False)
    cfg = apply_train_options(Config.fromfile(str(REPO / config)), work_dir='unused')
    hook_cfg = cfg.get('default_hooks', {}).get('checkpoint')
    if hook_cfg is None:
        pytest.skip(f'{config} saves no checkpoints')
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        assert MMENGINE_HOOKS.get(hook_cfg.type) is CheckpointHook

"""A misspelled hook argument fails when the Runner builds the hooks, naming the hook, the key and close names."""

import pytest
from builders.datasets import make_imagenet
from builders.runs import tiny_train_config
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.utils import import_modules_from_strings

from mmssl.engine.hook_arguments import accepted_arguments, check_hook_arguments
from mmssl.engine.hooks import CheckpointHook, PretrainedWeightsCheckHook
from mmssl.engine.train import train
from mmssl.utils import register_all_modules


def test_a_misspelled_checkpoint_hook_argument_fails_before_training(tmp_path):
    register_all_modules(init_default_scope=False)
    data = make_imagenet(str(tmp_path / 'data'), train_per_class=1, size=16)
    cfg = tiny_train_config(data, tmp_path / 'work', max_iters=1, interval=1)
    cfg.default_hooks.checkpoint.intervall = 100
    with pytest.raises(TypeError, match=r"default_hooks.checkpoint: CheckpointHook has no argument 'intervall': did "
                       r'you mean interval\?'):
        train(cfg)
    assert not (tmp_path / 'work' / 'iter_1.pth').exists()

    cfg = tiny_train_config(data, tmp_path / 'work', max_iters=1,
                            custom_hooks=[dict(type='EmptyCacheHook', after_iters=True)])
    with pytest.raises(TypeError, match=r"custom_hooks\[0\]: EmptyCacheHook has no argument 'after_iters': did you "
                       r'mean after_iter'):
        train(cfg)


def test_accepted_arguments():
    assert {'interval', 'max_keep_ckpts', 'save_best'} <= accepted_arguments(CheckpointHook)
    assert 'intervall' not in accepted_arguments(CheckpointHook)
    assert accepted_arguments(PretrainedWeightsCheckHook) == {'modules', 'min_match_ratio', 'report_file'}


def test_every_shipped_config_passes_the_check(shipped_config, repo_root):
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(str(repo_root / 'configs' / shipped_config))
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        check_hook_arguments(cfg.get('default_hooks'), cfg.get('custom_hooks'))

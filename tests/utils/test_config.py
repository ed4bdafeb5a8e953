"""--cfg-options: a misspelled top-level key is an error with the closest names, not a silently ignored entry."""
import pytest
from mmengine.config import Config

from mmssl.utils.config import merge_cfg_options


def test_a_misspelled_top_level_key_is_refused_with_the_closest_names():
    cfg = Config(dict(randomness=dict(seed=0), train_cfg=dict(max_iters=2)))
    with pytest.raises(KeyError, match=r"--cfg-options randomnes.seed: the config has no top-level key 'randomnes' "
                       r'.*did you mean randomness'):
        merge_cfg_options(cfg, {'randomnes.seed': 1})
    assert cfg.randomness.seed == 0  # nothing merged
    merge_cfg_options(cfg, {'randomness.seed': 1, 'load_from': 'x.pth', 'train_cfg.max_iters': 3})
    assert (cfg.randomness.seed, cfg.load_from, cfg.train_cfg.max_iters) == (1, 'x.pth', 3)


def test_the_tools_refuse_it_before_work(tmp_path, run_tool, repo_root):
    config = repo_root / 'configs/benchmarks/classification/fashion_mnist/resnet18_knn_fmnist-demo.py'
    with pytest.raises(KeyError, match=r"no top-level key 'knnn'.*did you mean knn"):
        run_tool('benchmarks/classification/knn.py', config, 'none', '--work-dir', tmp_path, '--cfg-options',
                 'knnn.ks=[1]')
    assert not any(tmp_path.iterdir())

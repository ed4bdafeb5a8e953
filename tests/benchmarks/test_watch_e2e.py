"""End to end with the real kNN on tiny Fashion-MNIST data: the watch tool on a finished training's checkpoints,
and BenchmarkHook in a 2-iteration training whose in-memory backbone gives the
record the watcher gives for the checkpoint of the same step."""
import json
import random
import runpy

import numpy as np
import pytest
import torch
from builders import REPO_ROOT
from builders.datasets import make_imagenet
from builders.runs import tiny_train_config
from builders.watch_runs import write_checkpoint, write_knn_suite

from mmssl.engine.train import train

WATCH_TOOL = REPO_ROOT / 'tools' / 'benchmarks' / 'watch.py'


def run_watch_tool(*args):
    return runpy.run_path(str(WATCH_TOOL))['main']([str(arg) for arg in args])


@pytest.mark.slow
def test_the_watch_tool_benchmarks_each_checkpoint_and_draws_the_curves(tmp_path, fmnist_tiny, capsys):
    work, suite = tmp_path / 'work', write_knn_suite(tmp_path / 'suite.yml', fmnist_tiny)
    config = tmp_path / 'pretrain.py'
    config.write_text("train_cfg = dict(type='IterBasedTrainLoop', max_iters=2)\n")
    for step in (0, 2):
        write_checkpoint(work, step)
    run_watch_tool(work, '--config', config, '--suite', suite, '--benchmarks', 'knn', '--poll', 0.1,
                   '--idle-timeout', 20)
    out = work / 'watch'
    record = json.loads((out / 'iter_2' / 'knn' / 'result_knn.json').read_text())
    assert record['checkpoint']['path'] == str(work / 'iter_2.pth') and record['pretrain_config'] == str(config)
    table = (out / 'curves.md').read_text()
    assert '| iter | knn k1 |' in table and '| 0 |' in table and '| 2 |' in table
    assert (out / 'curves.png').read_bytes().startswith(b'\x89PNG')
    assert f'curves: {out / "curves.png"}' in capsys.readouterr().out


@pytest.mark.slow
def test_the_benchmark_hook_in_a_training_writes_what_the_watcher_writes(tmp_path, fmnist_tiny):
    data = make_imagenet(str(tmp_path / 'data'), train_per_class=1, size=16)
    suite = write_knn_suite(tmp_path / 'suite.yml', fmnist_tiny)
    torch.set_num_threads(1)
    cfg = tiny_train_config(data, tmp_path / 'work', max_iters=2, interval=2,
                            custom_hooks=[dict(type='BenchmarkHook', suite=suite, benchmarks=['knn'], interval=2)])
    cfg.default_hooks.checkpoint.save_initial = True
    train(cfg)
    hook_out = tmp_path / 'work' / 'watch'
    for step in (0, 2):
        assert json.loads((hook_out / f'iter_{step}' / 'watch.json').read_text())['source'] == 'hook'
    assert '| 0 |' in (hook_out / 'curves.md').read_text() and (hook_out / 'curves.png').exists()

    config = tmp_path / 'pretrain.py'
    config.write_text("train_cfg = dict(type='IterBasedTrainLoop', max_iters=2)\n")
    run_watch_tool(tmp_path / 'work', '--config', config, '--suite', suite, '--benchmarks', 'knn', '--until', 0,
                   '--out', tmp_path / 'watched', '--poll', 0.1, '--idle-timeout', 20)
    from_hook = json.loads((hook_out / 'iter_0' / 'knn' / 'result_knn.json').read_text())
    from_file = json.loads((tmp_path / 'watched' / 'iter_0' / 'knn' / 'result_knn.json').read_text())
    assert from_hook['metrics'] == from_file['metrics']
    features = [np.load(folder / 'iter_0' / 'knn' / 'val_feature5.npy') for folder in (hook_out, tmp_path / 'watched')]
    np.testing.assert_allclose(*features, rtol=1e-5, atol=1e-6)  # iter_0.pth holds the weights the hook benchmarked
    assert set(from_hook) == set(from_file) and from_hook['checkpoint']['path'].endswith('iter_0 (in memory)')


def test_the_hook_leaves_the_training_randomness_alone():
    from mmssl.benchmarks.watch.hook import _training_randomness_kept

    def draw():
        return torch.rand(2).tolist(), np.random.rand(), random.random()

    torch.manual_seed(0), np.random.seed(0), random.seed(0)
    expected = draw()
    torch.manual_seed(0), np.random.seed(0), random.seed(0)
    with _training_randomness_kept():
        draw()  # what a benchmark's data loaders draw
    assert draw() == expected

"""speed_benchmarks/probe_grid_speed.py on tiny Fashion-MNIST data: it runs and prints the side-by-side lines and
the table of ratios; never how fast anything is."""
import importlib.util
import re

import pytest
from builders.fashion_mnist import make_fashion_mnist


@pytest.fixture(scope='module')
def speed(repo_root):
    """The script as a module (speed_benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location('probe_grid_speed', repo_root / 'speed_benchmarks' /
                                                  'probe_grid_speed.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The smallest run of every part: 20 training images at 32 px, one epoch, no loader processes.
TINY = ['--epochs', '1', '--train-images', '20', '--linear-epochs', '1', '--cfg-options',
        'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
        'val_dataloader.persistent_workers=False', 'train_dataloader.dataset.pipeline.1.scale=32',
        'val_dataloader.dataset.pipeline.1.scale=32', '--probe-cfg-options', 'train_dataloader.num_workers=0',
        'val_dataloader.num_workers=0', 'probe.costs=[0.1,1.0]', 'probe.heldout.size=10']


@pytest.mark.slow
def test_grid_and_probe_comparisons_print_their_ratios(tmp_path, speed, capsys):
    data = make_fashion_mnist(str(tmp_path / 'data'), per_class=3, voc07=False)
    ratios = speed.main(['--data-root', data['data_root'], '--parts', 'abc', '--lr-grid', '1,10',
                         '--work-dir', str(tmp_path / 'work'), *TINY])
    out = capsys.readouterr().out
    assert re.search(r'\(a\) config .*resnet18_mhead_1xb64-steplr-4e_fmnist-demo.py, checkpoint none, lr = 0.01 x '
                     r'\[1.0, 10.0\]; both sides: .*train_dataloader.dataset.indices=\[', out)
    assert re.search(r'\(a\) lr x10: single run [\d.]+ s, feature5 top-1 [\d.]+; in the grid [\d.]+', out)
    assert re.search(r'\(a\) 2-point lr grid: one pass [\d.]+ s, 2 single-point runs [\d.]+ s -> [\d.]+x', out)
    assert re.search(r'\(b\) \| probe \(cached features, L-BFGS\) \| [\d.]+ \| [\d.]+ \(C=[\d.]+\) \| ', out)
    assert re.search(r'\(b\) \| linear \(Runner, multi-head SGD\) \| [\d.]+ \| [\d.]+ \| [\d.]+ \|', out)
    assert re.search(r'\(b\) probe [\d.]+ s, linear [\d.]+ s -> [\d.]+x', out)
    assert re.search(r'\| \(a\) 2 single-point runs / one-pass grid \| [\d.]+x \|', out)
    assert re.search(r'\| \(b\) linear evaluation / cached probe \| [\d.]+x \|', out)
    # (c) runs on CUDA only; elsewhere the table says so
    assert ('skipped' in out) == (ratios['(c) --amp / float32 images/s'] is None)


def test_frozen_forward_throughput_in_both_precisions(speed, capsys):
    # The GPU part's measurement, on the CPU with a tiny ResNet so that it runs everywhere.
    backbone = dict(type='ResNet', depth=18, norm_cfg=dict(type='BN'))
    for amp in (False, True):
        assert speed.forward_throughput(backbone, None, batch=2, size=32, iters=1, amp=amp, device='cpu') > 0

"""The probe benchmark end to end on tiny Fashion-MNIST data: features extracted once and reused, the grid resumed
point by point, the record with the whole grid, the selection and its plot; bad settings refused before any work."""
import hashlib
import json
import subprocess
import sys

import pytest
import torch
from builders.checkpoints import save_resnet_checkpoint
from builders.fashion_mnist import make_fashion_mnist
from matplotlib.image import imread

from mmssl.benchmarks import cli
from mmssl.benchmarks.probe import Probe

PROBE_DEMO = 'configs/benchmarks/classification/fashion_mnist/resnet18_probe_fmnist-demo.py'
COSTS = '[0.1,1.0,10.0]'


@pytest.fixture(scope='module')
def fmnist3(tmp_path_factory) -> dict:
    """Three synthetic images per class and split: a held-out split of one image per class leaves two to fit."""
    return make_fashion_mnist(str(tmp_path_factory.mktemp('fmnist3')), per_class=3, voc07=False)


def assert_grid_plot(work, extra):
    """The record names ``WORK_DIR/probe_grid.png``, a PNG that reads back."""
    assert extra['grid_plot'] == str(work / 'probe_grid.png')
    assert imread(extra['grid_plot']).ndim == 3


def probe_args(repo_root, data, weights, work_dir, *extra, **settings):
    values = {'probe.costs': COSTS, 'probe.heldout.size': 10, 'probe.taps': "['feature5']", **settings}
    options = [f'{split}_dataloader.dataset.data_root={data["data_root"]}' for split in ('train', 'val')]
    return [str(repo_root / PROBE_DEMO), str(weights), '--work-dir', str(work_dir), *extra, '--cfg-options',
            *options, 'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
            *[f'{key}={value}' for key, value in values.items()]]


def test_probe_end_to_end_through_the_command(tmp_path, repo_root, fmnist3):
    torch.manual_seed(0)
    save_resnet_checkpoint(tmp_path / 'a.pth', depth=18)
    work = tmp_path / 'probe'
    result = subprocess.run([sys.executable, '-m', 'mmssl.benchmarks', 'probe',
                             *probe_args(repo_root, fmnist3, tmp_path / 'a.pth', work)],
                            cwd=repo_root, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads((work / 'result_probe.json').read_text())
    extra = record['extra']
    assert set(record['metrics']) == {'feature5/top1', 'feature5/top5'}
    assert [point['C'] for point in extra['grid']['feature5']] == [0.1, 1.0, 10.0]
    assert all(set(point) >= {'C', 'heldout', 'val'} for point in extra['grid']['feature5'])
    assert extra['selected_C']['feature5'] in (0.1, 1.0, 10.0)
    assert extra['selection'] == dict(rule='heldout', metric='top1', refit=True,
                                      heldout=dict(size=10, seed=0, rows=10, fit_rows=20))
    assert extra['checkpoint_format'] == 'mmssl' and extra['checkpoint_load']['matched'] > 0
    assert record['checkpoint']['sha256'] == hashlib.sha256((tmp_path / 'a.pth').read_bytes()).hexdigest()
    assert Probe.table_metrics(record['metrics']) == {'feature5': record['metrics']['feature5/top1']}
    assert_grid_plot(work, extra)


def test_grid_resumes_point_by_point_and_gives_the_same_record(tmp_path, repo_root, fmnist3, monkeypatch):
    import mmssl.benchmarks.probe as probe_module
    cli.main('probe', probe_args(repo_root, fmnist3, 'none', tmp_path / 'whole'))
    whole = json.loads((tmp_path / 'whole' / 'result_probe.json').read_text())

    fitted, original = [], probe_module.fit_logistic

    def stop_after_one_point(*args, **kwargs):
        if fitted:
            raise KeyboardInterrupt  # the run is killed while it fits the second point
        fitted.append(args[2])
        return original(*args, **kwargs)

    work = tmp_path / 'probe'
    monkeypatch.setattr(probe_module, 'fit_logistic', stop_after_one_point)
    with pytest.raises(KeyboardInterrupt):
        cli.main('probe', probe_args(repo_root, fmnist3, 'none', work))
    assert not (work / 'result_probe.json').exists()
    assert list(json.loads((work / 'probe' / 'feature5.json').read_text())['points']) == ['0.1']
    features = (work / 'features' / 'train_feature5.npy').stat().st_mtime_ns

    fitted.clear()
    monkeypatch.setattr(probe_module, 'fit_logistic', lambda *a, **k: fitted.append(a[2]) or original(*a, **k))
    cli.main('probe', probe_args(repo_root, fmnist3, 'none', work))
    resumed = json.loads((work / 'result_probe.json').read_text())
    assert fitted[:2] == [1.0, 10.0] and len(fitted) == 3  # the two missing points, then the refit
    assert (work / 'features' / 'train_feature5.npy').stat().st_mtime_ns == features
    assert resumed['metrics'] == whole['metrics'] and resumed['extra']['grid'] == whole['extra']['grid']
    assert resumed['extra']['selected_C'] == whole['extra']['selected_C']
    fitted.clear()
    cli.main('probe', probe_args(repo_root, fmnist3, 'none', work))
    assert fitted == []


def test_grid_points_of_other_settings_are_refused(tmp_path, repo_root, fmnist3):
    work = tmp_path / 'probe'
    cli.main('probe', probe_args(repo_root, fmnist3, 'none', work))
    with pytest.raises(ValueError, match=f'{work / "probe" / "feature5.json"} holds grid points of other features or '
                                         'settings'):
        cli.main('probe', probe_args(repo_root, fmnist3, 'none', work, **{'probe.heldout.seed': 1}))
    cli.main('probe', probe_args(repo_root, fmnist3, 'none', work, '--recompute', **{'probe.heldout.seed': 1}))
    assert json.loads((work / 'result_probe.json').read_text())['seeds']['heldout'] == 1


def test_selection_on_val_is_explicit_and_recorded(tmp_path, repo_root, fmnist3):
    work = tmp_path / 'probe'
    cli.main('probe', probe_args(repo_root, fmnist3, 'none', work, **{'probe.selection': 'val'}))
    extra = json.loads((work / 'result_probe.json').read_text())['extra']
    assert extra['selection'] == dict(rule='val', metric='top1', refit=False, heldout=None)
    assert all('heldout' not in point for point in extra['grid']['feature5'])
    assert_grid_plot(work, extra)


def test_features_of_another_checkpoint_are_refused(tmp_path, repo_root, fmnist3):
    for seed, name in enumerate(('a.pth', 'b.pth')):
        torch.manual_seed(seed)
        save_resnet_checkpoint(tmp_path / name, depth=18)
    work = tmp_path / 'probe'
    cli.main('probe', probe_args(repo_root, fmnist3, tmp_path / 'a.pth', work))
    before = (work / 'result_probe.json').read_bytes()
    with pytest.raises(ValueError, match=f'{work / "features"} holds other features: they were extracted from '
                                         f'checkpoint {tmp_path / "a.pth"}'):
        cli.main('probe', probe_args(repo_root, fmnist3, tmp_path / 'b.pth', work))
    assert (work / 'result_probe.json').read_bytes() == before


@pytest.mark.parametrize('settings, message', [
    ({'probe.costs': '[1.0,0.0]'}, r'probe.costs: every C must be a finite number > 0, got 0.0'),
    ({'probe.costs': '[-1.0]'}, r'probe.costs: every C must be a finite number > 0, got -1.0'),
    ({'probe.heldout.size': 30}, r'probe.heldout.size=30 asks for 30 held-out rows, but the training set has 30: '
                                 r'expected at most 29'),
    ({'probe.heldout.size': 5}, r'probe.heldout.size=5 gives 5 held-out rows, fewer than the 10 classes: expected '
                                r'at least 10'),
    ({'probe.heldout.size': 0.1}, r'probe.heldout.size=0.1 gives 3 held-out rows, fewer than the 10 classes'),
    ({'probe.selection': 'test'}, r"probe.selection must be one of \('heldout', 'val'\), got 'test'"),
    ({'probe.dtype': 'float16'}, r"probe.dtype must be 'float64' or 'float32', got 'float16'"),
])
def test_bad_settings_are_refused_before_any_work(tmp_path, repo_root, fmnist3, settings, message):
    with pytest.raises(ValueError, match=f'{repo_root / PROBE_DEMO}: {message}'):
        cli.main('probe', probe_args(repo_root, fmnist3, 'none', tmp_path / 'probe', **settings))
    assert not (tmp_path / 'probe' / 'features').exists()


def test_voc07_probe_is_one_vs_rest_with_map(tmp_path, repo_root):
    from builders.datasets import make_voc07
    classes = ['tshirt', 'trouser', 'pullover']
    data = make_voc07(str(tmp_path / 'voc'), classes=classes, trainval=24, test=8, positives=dict(trainval=6))
    work = tmp_path / 'probe'
    values = {f'{split}_dataloader.{key}': value for split in ('train', 'val')
              for key, value in (('dataset.data_root', data['data_root']), ('dataset.metainfo.classes', classes),
                                 ('num_workers', 0))}
    values.update({'model.backbone.depth': 18, 'probe.costs': COSTS, 'probe.heldout.size': 6})
    cli.main('probe', [str(repo_root / 'configs/benchmarks/classification/voc07/resnet50_probe_voc07.py'), 'none',
                       '--work-dir', str(work), '--cfg-options', *[f'{k}={v}' for k, v in values.items()]])
    record = json.loads((work / 'result_probe.json').read_text())
    assert list(record['metrics']) == ['feature5/mAP'] and 0 < record['metrics']['feature5/mAP'] <= 100
    assert record['extra']['multi_label'] and record['extra']['selection']['metric'] == 'mAP'
    assert record['extra']['selection']['heldout'] == dict(size=6, seed=0, rows=6, fit_rows=18)
    assert all('mAP' in point['heldout'] for point in record['extra']['grid']['feature5'])
    assert_grid_plot(work, record['extra'])

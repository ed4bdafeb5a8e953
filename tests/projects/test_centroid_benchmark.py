"""The worked example of docs/en/add_new_benchmark.md: a benchmark defined outside mmssl, alone and in a suite."""
import os
import subprocess
import sys

import numpy as np
import pytest
import yaml

from mmssl.benchmarks import suite as benchmark_suite
from mmssl.benchmarks.records import read_result
from mmssl.registry import BENCHMARKS

PROJECT = 'projects/centroid_benchmark'
CONFIG = f'{PROJECT}/configs/resnet18_centroid_fmnist-demo.py'


@pytest.fixture(autouse=True)
def unregister_plugin():
    """The plugin registers itself in this process when its config is read; other tests must not see it."""
    yield
    BENCHMARKS.module_dict.pop('NearestCentroid', None)
    sys.modules.pop('centroid_benchmark', None)
    sys.modules.pop('centroid_benchmark.centroid', None)


def loader_options(data):
    return [f'{loader}.{key}={value}' for loader in ('train_dataloader', 'val_dataloader')
            for key, value in (('dataset.data_root', data['data_root']), ('num_workers', 0))]


def image_labels(data, split):
    lines = open(os.path.join(data['data_root'], 'meta', f'{split}.txt')).read().split('\n')
    return np.array([int(line.split()[1]) for line in lines if line.strip()])


@pytest.mark.slow
def test_plugin_benchmark_runs_from_its_config_and_writes_a_record(tmp_path, fmnist_tiny, repo_root, monkeypatch):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(repo_root / PROJECT), os.environ.get('PYTHONPATH', '')]))
    work = tmp_path / 'work'
    result = subprocess.run([sys.executable, '-m', 'mmssl.benchmarks', 'centroid', CONFIG, 'none', '--work-dir',
                             str(work), '--cfg-options', *loader_options(fmnist_tiny)], cwd=repo_root, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    monkeypatch.syspath_prepend(str(repo_root / PROJECT))
    import centroid_benchmark  # noqa: F401  (registers the record name, as the config's custom_imports does)
    record = read_result(str(work / 'result_nearest_centroid.json'))
    assert record['benchmark'] == 'nearest_centroid' and record['dataset'] == 'Fashion-MNIST'
    assert record['checkpoint'] is None and record['seeds']['random_init'] == 0
    # The same number computed directly from the features the benchmark extracted.
    train, val = (np.load(work / f'{split}_feature5.npy') for split in ('train', 'val'))
    train_labels, val_labels = image_labels(fmnist_tiny, 'train'), image_labels(fmnist_tiny, 'val')
    centroids = np.stack([train[train_labels == c].mean(0) for c in np.unique(train_labels)])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True) + 1e-5
    expected = 100 * np.mean(np.unique(train_labels)[np.argmax(val @ centroids.T, axis=1)] == val_labels)
    assert record['metrics']['top1'] == pytest.approx(expected)
    assert f"top1: {record['metrics']['top1']:.4f}" in result.stdout


@pytest.mark.slow
def test_plugin_benchmark_runs_in_a_suite(tmp_path, fmnist_tiny, repo_root, monkeypatch):
    monkeypatch.chdir(repo_root)
    monkeypatch.syspath_prepend(str(repo_root / PROJECT))
    monkeypatch.setenv('PYTHONPATH', os.pathsep.join([str(repo_root / PROJECT), os.environ.get('PYTHONPATH', '')]))
    suite_file = tmp_path / 'suite.yml'
    suite_file.write_text(yaml.safe_dump({'centroid': {
        'config': CONFIG, 'cfg_options': dict(option.split('=', 1) for option in loader_options(fmnist_tiny))}}))
    suite = benchmark_suite.load_suite(str(suite_file))
    records = benchmark_suite.run_suite(None, ['centroid'], suite, str(tmp_path / 'suite'))
    assert records['centroid'][0]['benchmark'] == 'nearest_centroid'
    assert (tmp_path / 'suite' / 'centroid' / 'result_nearest_centroid.json').is_file()
    with pytest.raises(ValueError, match=r"suite.yml: centroid: args \['--nope'\] are not options"):
        suite_file.write_text(yaml.safe_dump({'centroid': {'config': CONFIG, 'args': ['--nope']}}))
        benchmark_suite.load_suite(str(suite_file))

"""The knn benchmark: its work dir's features serve only the weights and config they came from; settings checked."""
import hashlib
import json

import pytest
import torch
from builders.checkpoints import save_resnet_checkpoint

from mmssl.benchmarks import cli

KNN_DEMO = 'configs/benchmarks/classification/fashion_mnist/resnet18_knn_fmnist-demo.py'


def knn_args(repo_root, data, weights, work_dir, *extra, ks='[1]'):
    options = [f'{split}_dataloader.dataset.data_root={data["data_root"]}' for split in ('train', 'val')]
    return [str(repo_root / KNN_DEMO), str(weights), '--work-dir', str(work_dir), *extra, '--cfg-options', *options,
            'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0', f'knn.ks={ks}']


def test_features_of_other_weights_are_refused_reused_or_recomputed(tmp_path, repo_root, fmnist_tiny, capsys):
    weights = []
    for seed, name in enumerate(('a.pth', 'b.pth')):
        torch.manual_seed(seed)
        save_resnet_checkpoint(tmp_path / name, depth=18)
        weights.append(tmp_path / name)
    sha = [hashlib.sha256(path.read_bytes()).hexdigest() for path in weights]
    work = tmp_path / 'knn'
    cli.main('knn', knn_args(repo_root, fmnist_tiny, weights[0], work))
    record, features = work / 'result_knn.json', work / 'val_feature5.npy'
    before, written = record.read_bytes(), features.stat().st_mtime_ns
    capsys.readouterr()

    with pytest.raises(ValueError) as refused:
        cli.main('knn', knn_args(repo_root, fmnist_tiny, weights[1], work))
    message = str(refused.value)
    assert f'{work} holds other features' in message and '--recompute' in message
    assert f'checkpoint {weights[0]} (sha256 {sha[0]}), not checkpoint {weights[1]} (sha256 {sha[1]})' in message
    assert 'top1' not in capsys.readouterr().out and record.read_bytes() == before

    cli.main('knn', knn_args(repo_root, fmnist_tiny, weights[0], work))  # same weights: features reused
    assert features.stat().st_mtime_ns == written
    cli.main('knn', knn_args(repo_root, fmnist_tiny, weights[1], work, '--recompute'))
    assert json.loads(record.read_text())['checkpoint']['sha256'] == sha[1]
    assert json.loads((work / 'meta.json').read_text())['source']['checkpoint_sha256'] == sha[1]


@pytest.mark.parametrize('ks, temperature, message', [
    ('[0,10]', 0.07, r'knn.ks must be a non-empty list of integers >= 1, got \[0, 10\]'),
    ('[]', 0.07, r'knn.ks must be a non-empty list of integers >= 1, got \[\]'),
    ('[10]', 0, 'knn.temperature must be a number > 0, got 0'),
])
def test_bad_knn_settings_are_refused_before_any_work(tmp_path, repo_root, fmnist_tiny, ks, temperature, message):
    with pytest.raises(ValueError, match=f'{repo_root / KNN_DEMO}: {message}'):
        cli.main('knn', knn_args(repo_root, fmnist_tiny, 'none', tmp_path / 'knn', ks=ks)
                 + [f'knn.temperature={temperature}'])
    assert not (tmp_path / 'knn').exists()

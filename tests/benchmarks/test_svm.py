"""The svm / lowshot benchmarks on a checkpoint: a work dir's features and partial results serve only the weights,
config and layers they were made from."""
import hashlib
import json

import pytest
import torch
from builders.checkpoints import save_resnet_checkpoint
from builders.datasets import make_voc07
from builders.feature_folders import write_split

from mmssl.benchmarks import cli
from mmssl.benchmarks.svm import VOC07SVM
from mmssl.evaluation.feature_folder import checkpoint_source
from mmssl.evaluation.svm import write_meta
from mmssl.evaluation.svm._synthetic import make_voc_like_features
from mmssl.utils.work_dir_lock import LOCK_FILE

FMNIST_SVM = 'configs/benchmarks/classification/fashion_mnist/resnet18_svm_voc07_fmnist-demo.py'
CLASSES = ['tshirt', 'trouser', 'pullover']


def checkpoint(path, seed):
    torch.manual_seed(seed)
    save_resnet_checkpoint(path, depth=18)
    return path


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def benchmark_args(repo_root, weights, work_dir, data_root, *extra):
    return [str(repo_root / FMNIST_SVM), str(weights), '--work-dir', str(work_dir), '--layers', 'feature5',
            '--costs', '0.1,1', *extra, '--cfg-options', f'trainval_dataloader.dataset.data_root={data_root}',
            f'test_dataloader.dataset.data_root={data_root}', 'trainval_dataloader.num_workers=0',
            'test_dataloader.num_workers=0', f'trainval_dataloader.dataset.metainfo.classes={CLASSES}',
            f'test_dataloader.dataset.metainfo.classes={CLASSES}']


def extracted_features(folder, config, weights):
    """A complete feature folder as extraction writes it for ``weights`` with ``config``."""
    folder.mkdir(parents=True)
    train_x, train_y, test_x, test_y = make_voc_like_features(30, 20, 16, num_classes=3, min_positives=5, seed=0)
    write_split(str(folder), 'trainval', {'feature5': train_x}, train_y, [f't{i}' for i in range(30)])
    write_split(str(folder), 'test', {'feature5': test_x}, test_y, [f'e{i}' for i in range(20)])
    write_meta(str(folder), CLASSES, ['feature5'], dict(config=str(config), **checkpoint_source(weights)))
    return folder


@pytest.mark.parametrize('benchmark', ['svm', 'lowshot'])
def test_features_of_other_weights_or_config_are_refused_before_any_work(tmp_path, repo_root, capsys, benchmark):
    first, second = checkpoint(tmp_path / 'a.pth', 0), checkpoint(tmp_path / 'b.pth', 1)
    work = tmp_path / 'work'
    extracted_features(work / 'features', repo_root / FMNIST_SVM, str(first))
    with pytest.raises(ValueError) as refused:
        cli.main(benchmark, benchmark_args(repo_root, second, work, tmp_path / 'no-data'))
    message = str(refused.value)
    assert f'{work / "features"} holds other features' in message and '--recompute' in message
    assert f'checkpoint {first} (sha256 {sha256(first)})' in message
    assert f'not checkpoint {second} (sha256 {sha256(second)})' in message
    with pytest.raises(ValueError, match=r'not the random backbone \(seed 0\)'):
        cli.main(benchmark, benchmark_args(repo_root, 'none', work, tmp_path / 'no-data'))
    other_config = extracted_features(tmp_path / 'other' / 'features', tmp_path / 'elsewhere.py', str(first))
    with pytest.raises(ValueError, match=f'extracted with config {tmp_path / "elsewhere.py"}, not '
                       f'{repo_root / FMNIST_SVM}'):
        cli.main(benchmark, benchmark_args(repo_root, first, other_config.parent, tmp_path / 'no-data'))
    assert 'mAP' not in capsys.readouterr().out
    # No result or record was written: the folder holds the features and the work-dir lock file only.
    assert sorted(p.name for p in work.iterdir()) == [LOCK_FILE, 'features']


@pytest.mark.slow
def test_recompute_replaces_the_features_and_results_of_other_weights(tmp_path, repo_root, capsys):
    data_root = make_voc07(str(tmp_path / 'voc'), classes=CLASSES, trainval=9, test=6)['data_root']
    first, second = checkpoint(tmp_path / 'a.pth', 0), checkpoint(tmp_path / 'b.pth', 1)
    work = tmp_path / 'work'
    cli.main('svm', benchmark_args(repo_root, first, work, data_root))
    record = work / 'svm' / 'result_svm_voc07.json'
    before = record.read_bytes()
    capsys.readouterr()
    with pytest.raises(ValueError, match='--recompute'):
        cli.main('svm', benchmark_args(repo_root, second, work, data_root))
    assert 'mAP' not in capsys.readouterr().out and record.read_bytes() == before

    recomputed = cli.main('svm', benchmark_args(repo_root, second, work, data_root, '--recompute'))
    meta = json.loads((work / 'features' / 'meta.json').read_text())
    assert meta['source']['checkpoint'] == str(second) and meta['source']['checkpoint_sha256'] == sha256(second)
    fresh = VOC07SVM().run_on_features(str(work / 'features'), str(tmp_path / 'fresh'), costs='0.1,1')
    assert recomputed == pytest.approx({layer: result['mAP'] for layer, result in fresh.items()})
    assert json.loads(record.read_text())['checkpoint']['sha256'] == sha256(second)

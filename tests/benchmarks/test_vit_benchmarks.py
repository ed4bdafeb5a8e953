"""A random-init ViT-Tiny through the kNN, probe and VOC07 SVM benchmarks with their Fashion-MNIST demo configs, on
tiny synthetic data (the demo converter's layout; a three-class VOC07 tree for the SVMs): the benchmarks read the
ViT's taps by name, unchanged."""
import json

import numpy as np
import pytest
from builders.datasets import make_voc07

from mmssl.benchmarks import cli

DEMOS = 'configs/benchmarks/classification/fashion_mnist/'
KNN_DEMO, PROBE_DEMO, SVM_DEMO = (f'{DEMOS}vit-tiny-p4_{name}_fmnist-demo.py' for name in ('knn', 'probe', 'svm_voc07'))
CLASSES = ['tshirt', 'trouser', 'pullover']


def demo_args(repo_root, config, work_dir, splits, data_root, *options, extra=()):
    """The demo ``config`` on the random backbone (``extra``: the benchmark's own arguments), its ``splits`` read
    from ``data_root`` in this process, ``options`` more config overrides."""
    roots = [f'{split}_dataloader.dataset.data_root={data_root}' for split in splits]
    workers = [f'{split}_dataloader.num_workers=0' for split in splits]
    return [str(repo_root / config), 'none', '--work-dir', str(work_dir), *extra, '--cfg-options', *roots, *workers,
            *options]


@pytest.mark.slow
def test_knn_reads_the_class_token(tmp_path, repo_root, fmnist_tiny):
    work = tmp_path / 'knn'
    metrics = cli.main('knn', demo_args(repo_root, KNN_DEMO, work, ('train', 'val'), fmnist_tiny['data_root'],
                                        'knn.ks=[1,5]'))
    assert set(metrics) == {'k1/top1', 'k1/top5', 'k5/top1', 'k5/top5'}
    record = json.loads((work / 'result_knn.json').read_text())
    assert record['extra']['tap'] == 'cls_last1' and record['extra']['checkpoint_format'] == 'random-init'
    features = np.load(work / 'val_cls_last1.npy')
    assert features.shape == (10, 192) and np.allclose(np.linalg.norm(features, axis=1), 1, atol=1e-5)


@pytest.mark.slow
def test_probe_on_composite_class_token_taps(tmp_path, repo_root, fmnist_tiny):
    # One image per class leaves no held-out split: C is chosen on val here, the explicit, recorded option.
    work = tmp_path / 'probe'
    metrics = cli.main('probe', demo_args(repo_root, PROBE_DEMO, work, ('train', 'val'), fmnist_tiny['data_root'],
                                          'probe.costs=[0.1,10.0]', 'probe.selection=val'))
    taps = ('cls_last1', 'cls_last4_mean')
    assert set(metrics) == {f'{tap}/{metric}' for tap in taps for metric in ('top1', 'top5')}
    dims = {tap: np.load(work / 'features' / f'train_{tap}.npy').shape for tap in taps}
    assert dims == {'cls_last1': (10, 192), 'cls_last4_mean': (10, 960)}


@pytest.mark.slow
def test_voc07_svm_on_vector_taps(tmp_path, repo_root):
    data_root = make_voc07(str(tmp_path / 'voc'), classes=CLASSES, trainval=9, test=6)['data_root']
    work = tmp_path / 'svm'
    metrics = cli.main('svm', demo_args(repo_root, SVM_DEMO, work, ('trainval', 'test'), data_root,
                                        *[f'{split}_dataloader.dataset.metainfo.classes={CLASSES}'
                                          for split in ('trainval', 'test')],
                                        extra=('--costs', '0.1,1', '--layers', 'cls_last4', 'block12_mean')))
    assert set(metrics) == {'cls_last4', 'block12_mean'} and all(0 <= value <= 100 for value in metrics.values())
    assert np.load(work / 'features' / 'test_cls_last4.npy').shape == (6, 768)

"""Feature extraction into a feature folder: what meta.json records, and a full disk."""
import errno
import hashlib
import json
import os
import shutil

import pytest
from builders.checkpoints import save_resnet_checkpoint
from builders.datasets import make_voc07

from mmssl.benchmarks.base import load_benchmark_config
from mmssl.benchmarks.feature_extraction import extract_svm_features

FMNIST_SVM = 'configs/benchmarks/classification/fashion_mnist/resnet18_svm_voc07_fmnist-demo.py'
CLASSES = ('tshirt', 'trouser', 'pullover')


@pytest.fixture
def test_split_config(tmp_path, repo_root):
    """The demo SVM config on a tiny VOC07 tree, test split only (6 images)."""
    root = make_voc07(str(tmp_path / 'voc'), classes=CLASSES, trainval=4, test=6,
                      positives=dict(trainval=1))['data_root']
    cfg = load_benchmark_config(str(repo_root / FMNIST_SVM))
    cfg.test_dataloader.dataset.update(data_root=root, metainfo=dict(classes=CLASSES))
    cfg.test_dataloader.num_workers = 0
    return cfg


def test_meta_records_the_absolute_checkpoint_and_its_sha256(tmp_path, monkeypatch, test_split_config):
    save_resnet_checkpoint(tmp_path / 'a.pth', depth=18)
    monkeypatch.chdir(tmp_path)
    extract_svm_features(test_split_config, 'a.pth', 'features', ['feature5'], splits=('test', ))
    source = json.loads((tmp_path / 'features' / 'meta.json').read_text())['source']
    assert source['checkpoint'] == str(tmp_path / 'a.pth')
    assert source['checkpoint_sha256'] == hashlib.sha256((tmp_path / 'a.pth').read_bytes()).hexdigest()
    assert os.path.isabs(source['config'])


def test_a_full_disk_is_refused_before_any_feature_file_exists(tmp_path, monkeypatch, test_split_config):
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, 'disk_usage', lambda path: usage._replace(free=1000))
    with pytest.raises(OSError, match=rf'{tmp_path / "features"}: the test features of feature5 need 49280 bytes, '
                       r'only 1000 are free') as error:
        extract_svm_features(test_split_config, None, str(tmp_path / 'features'), ['feature5'], splits=('test', ))
    assert error.value.errno == errno.ENOSPC
    assert not list((tmp_path / 'features').glob('*_feature*.npy'))


def test_the_free_space_check_covers_every_split_before_any_work(tmp_path, monkeypatch, test_split_config):
    """The test split alone fits, trainval and test together do not: nothing is written or thrown away."""
    root = test_split_config.test_dataloader.dataset.data_root
    test_split_config.trainval_dataloader.dataset.update(data_root=root, metainfo=dict(classes=CLASSES))
    test_split_config.trainval_dataloader.num_workers = 0
    usage = shutil.disk_usage(tmp_path)
    features = tmp_path / 'features'

    def disk_usage(path):  # a disk of 60000 free bytes, less what the feature files written so far take
        written = sum(p.stat().st_size for p in features.glob('*.npy'))
        return usage._replace(free=60000 - written)

    # feature5 of the ResNet-18 is 2048 floats a row: 32896 bytes for the 4 trainval images, 49280 for the 6 test
    # ones; each fits alone, not both.
    monkeypatch.setattr(shutil, 'disk_usage', disk_usage)
    features = tmp_path / 'features'
    with pytest.raises(OSError, match=rf'{features}: the trainval and test features of feature5 need 82176 bytes, '
                       r'only 60000 are free') as error:
        extract_svm_features(test_split_config, None, str(features), ['feature5'])
    assert error.value.errno == errno.ENOSPC
    assert sorted(p.name for p in features.iterdir()) == []  # no labels, ids or features of either split

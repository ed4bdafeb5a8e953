import numpy as np
import pytest
from builders.feature_folders import write_split

from mmssl.evaluation.svm import l2_normalize, load_split, read_meta, write_meta


def feature_dir(tmp_path, train_rows=6):
    rng = np.random.default_rng(0)
    write_meta(str(tmp_path), ['a', 'b'], ['feature1', 'feature5'], dict(checkpoint=None))
    labels = np.array([[1, -1], [-1, 1], [0, -1], [1, 1], [-1, 0], [-1, -1]], dtype=np.int8)
    write_split(str(tmp_path), 'trainval', {'feature1': rng.random((train_rows, 4)), 'feature5': rng.random((6, 3))},
                labels, [f'{i:06d}' for i in range(6)])
    return tmp_path


def test_round_trip_is_memory_mapped_and_normalised(tmp_path):
    split = load_split(str(feature_dir(tmp_path)), 'trainval', 'feature5')
    assert isinstance(split.features, np.memmap) and split.features.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(split.features, axis=1), 1, atol=1e-4)
    assert split.classes == ['a', 'b'] and split.ids[2] == '000002' and split.labels[2, 0] == 0
    assert read_meta(str(tmp_path))['source'] == {'checkpoint': None}
    np.testing.assert_allclose(l2_normalize(np.array([[3.0, 4.0]])), [[0.6, 0.8]], atol=1e-5)


def test_row_count_mismatch_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r'trainval_feature1.npy has 5 rows but .*trainval_labels.npy has 6'):
        load_split(str(feature_dir(tmp_path, train_rows=5)), 'trainval', 'feature1')


def test_nan_and_unknown_layer_are_refused(tmp_path):
    feature_dir(tmp_path)
    features = np.load(tmp_path / 'trainval_feature1.npy')
    features[3, 2] = np.nan
    np.save(tmp_path / 'trainval_feature1.npy', features)
    with pytest.raises(ValueError, match='NaN or inf in the features, first at row 3, column 2'):
        load_split(str(tmp_path), 'trainval', 'feature1')
    with pytest.raises(ValueError, match=r"unknown layer\(s\) \['feature9'\]"):
        load_split(str(tmp_path), 'trainval', 'feature9')
    with pytest.raises(FileNotFoundError, match='test_labels.npy not found'):
        load_split(str(tmp_path), 'test', 'feature5')


def test_labels_without_negatives_are_refused_naming_the_encoding(tmp_path):
    feature_dir(tmp_path)
    labels = np.load(tmp_path / 'trainval_labels.npy')
    np.save(tmp_path / 'trainval_labels.npy', (labels == 1).astype(np.int8))  # a user's {0, 1} labels
    with pytest.raises(ValueError, match=r'trainval_labels.npy: class index 0 has no negative \(-1\) label in the '
                       r'trainval split .*not 1 / 0'):
        load_split(str(tmp_path), 'trainval', 'feature1')


def test_all_zero_rows_of_an_interrupted_extraction_are_refused(tmp_path):
    feature_dir(tmp_path)
    features = np.load(tmp_path / 'trainval_feature5.npy')
    features[4:] = 0  # rows a killed extraction never wrote
    np.save(tmp_path / 'trainval_feature5.npy', features)
    with pytest.raises(ValueError, match=r'trainval_feature5.npy: row 4 is all zeros, .*extract the features again'):
        load_split(str(tmp_path), 'trainval', 'feature5')


def test_a_changed_or_relative_source_checkpoint_is_refused(tmp_path):
    from builders.checkpoints import save_resnet_checkpoint

    from mmssl.evaluation.feature_folder import check_source_checkpoint, checkpoint_source
    weights = tmp_path / 'a.pth'
    save_resnet_checkpoint(weights, depth=18)
    source = checkpoint_source(str(weights))
    assert source['checkpoint'] == str(weights) and len(source['checkpoint_sha256']) == 64
    check_source_checkpoint(str(tmp_path), dict(source=source))
    save_resnet_checkpoint(weights, depth=18)  # other random weights under the same name
    now = checkpoint_source(str(weights))['checkpoint_sha256']
    with pytest.raises(ValueError, match=f'meta.json: the features were extracted from {weights} with sha256 '
                       f'{source["checkpoint_sha256"]}, but that file now has sha256 {now}'):
        check_source_checkpoint(str(tmp_path), dict(source=source))
    with pytest.raises(ValueError, match=r"meta.json: source.checkpoint 'a.pth' must be an absolute path"):
        check_source_checkpoint(str(tmp_path), dict(source=dict(source, checkpoint='a.pth')))
    weights.unlink()
    check_source_checkpoint(str(tmp_path), dict(source=source))  # gone: meta.json's path and sha256 stand


def test_a_truncated_feature_file_is_refused_naming_both_sizes(tmp_path):
    feature_dir(tmp_path)
    path = tmp_path / 'trainval_feature5.npy'
    size = path.stat().st_size
    path.write_bytes(path.read_bytes()[:-8])  # a copy cut short: two float32 values missing
    with pytest.raises(ValueError, match=f'trainval_feature5.npy: {size - 8} bytes on disk, but its header '
                       rf'\(\(6, 3\) float32\) needs {size}; the file is truncated .*--recompute'):
        load_split(str(tmp_path), 'trainval', 'feature5')


def test_feature_files_are_allocated_so_a_full_disk_raises_naming_the_file(tmp_path, monkeypatch):
    import errno
    import os

    from mmssl.evaluation.feature_folder import create_feature_files
    allocated = []
    monkeypatch.setattr(os, 'posix_fallocate', lambda fd, offset, size: allocated.append(size))
    paths = create_feature_files(str(tmp_path), 'test', {'feature5': (10, 4)})
    assert allocated == [os.path.getsize(paths['feature5'])] == [128 + 10 * 4 * 4]

    def disk_full(fd, offset, size):
        raise OSError(errno.ENOSPC, 'No space left on device')

    monkeypatch.setattr(os, 'posix_fallocate', disk_full)
    with pytest.raises(OSError, match=f'{tmp_path / "test_feature1.npy"}: cannot allocate 288 bytes for the '
                       r'features \(No space left on device\)') as error:
        create_feature_files(str(tmp_path), 'test', {'feature1': (10, 4)})
    assert error.value.errno == errno.ENOSPC and not (tmp_path / 'test_feature1.npy').exists()

import numpy as np
import pytest

from mmssl.evaluation.svm import FeatureSplit
from mmssl.evaluation.svm.store import PartialResults, StaleResultsError, data_signature, finished_items


def split(features, name, source=None):
    labels = np.tile(np.array([[1], [-1]], np.int8), (len(features) // 2, 1))
    return FeatureSplit(features, labels, [f'{name}{i}' for i in range(len(features))], ['a'], 'feature5', name,
                        source)


def test_the_signature_tells_features_and_weights_of_the_same_shape_apart():
    rng = np.random.default_rng(0)
    a, b = rng.random((4, 3), dtype=np.float32), rng.random((4, 3), dtype=np.float32)
    base = data_signature(split(a, 'trainval'), split(a, 'test'))
    assert data_signature(split(a.copy(), 'trainval'), split(a, 'test')) == base
    other = data_signature(split(b, 'trainval'), split(a, 'test'))
    assert other['features_sha256']['train'] != base['features_sha256']['train'] and other['train_shape'] == [4, 3]
    assert base['source'] == {'random_init_seed': 0}
    weights = data_signature(split(a, 'trainval', dict(checkpoint='/c.pth', checkpoint_sha256='ab12')),
                             split(a, 'test'))
    assert weights['source'] == {'checkpoint_sha256': 'ab12'}


def test_partial_results_of_another_run_are_refused_or_deleted_on_request(tmp_path):
    store = PartialResults(str(tmp_path / 'parts'), dict(source={'checkpoint_sha256': 'aaaa'}, layer='feature5'))
    store.put('cat', dict(test_ap=50.0))
    new = dict(source={'checkpoint_sha256': 'bbbb'}, layer='feature5')
    with pytest.raises(StaleResultsError, match=r"parts holds partial results of a different run \(source: stored "
                       r"\{'checkpoint_sha256': 'aaaa'\} vs now \{'checkpoint_sha256': 'bbbb'\}\).*--recompute"):
        PartialResults(str(tmp_path / 'parts'), new)
    assert store.get('cat') == dict(test_ap=50.0)  # a refusal deletes nothing
    again = PartialResults(str(tmp_path / 'parts'), new, recompute=True)
    assert again.get('cat') is None
    assert PartialResults(str(tmp_path / 'parts'), new).get('cat') is None  # the new signature is the stored one


def test_finished_items_are_those_a_run_would_reuse(tmp_path):
    store = PartialResults(str(tmp_path / 'parts'), dict(layer='feature5'))
    store.put('potted plant', dict(test_ap=1.0))  # a key the file name spells differently
    store.put('cat', dict(test_ap=2.0))
    assert finished_items(str(tmp_path / 'parts'), ['dog', 'cat', 'potted plant']) == ['cat', 'potted plant']
    assert finished_items(str(tmp_path / 'missing'), ['cat']) == []


def test_partial_results_of_the_same_features_from_another_folder_identity_are_refused(tmp_path):
    """Identical features read from the same checkpoint file another way (or with another config or list file) do
    not share partial results: the signature carries the folder's identity."""
    features = np.random.default_rng(0).random((4, 3), dtype=np.float32)
    source = dict(checkpoint='/c.pth', checkpoint_sha256='ab12', config_sha256='c0',
                  checkpoint_reading=dict(layout='mmssl', checkpoint_format=None, prefix=None, key_path='model'),
                  data_files={'/voc/ImageSets/Main/test.txt': 'f1'}, pooling='benchmark')
    signature = data_signature(split(features, 'trainval', source), split(features, 'test'))
    assert signature['folder'] == {key: value for key, value in source.items()
                                   if key not in ('checkpoint', 'checkpoint_sha256')}
    PartialResults(str(tmp_path / 'parts'), signature).put('a', dict(test_ap=50.0))
    for change in (dict(checkpoint_reading=dict(source['checkpoint_reading'], key_path='state_dict')),
                   dict(config_sha256='c1'), dict(data_files={'/voc/ImageSets/Main/test.txt': 'f2'})):
        other = data_signature(split(features, 'trainval', dict(source, **change)), split(features, 'test'))
        assert other['features_sha256'] == signature['features_sha256']
        with pytest.raises(StaleResultsError, match=r"folder: stored .* vs now .*--recompute"):
            PartialResults(str(tmp_path / 'parts'), other)
    assert PartialResults(str(tmp_path / 'parts'), signature).get('a') == dict(test_ap=50.0)

import json

import numpy as np
import pytest

from mmssl.evaluation.svm import (FeatureSplit, SVMProtocol, build_svm_solver, generate_lowshot_samples,
                                  load_lowshot_samples, make_voc_like_features, run_lowshot_svm, save_lowshot_samples)


def voc_labels(seed=0, n=400, classes=3):
    rng = np.random.default_rng(seed)
    labels = np.where(rng.random((n, classes)) < 0.25, 1, -1).astype(np.int8)
    labels[rng.random((n, classes)) < 0.05] = 0
    return labels


def test_sample_sizes_never_draw_difficult_and_are_seeded():
    labels = voc_labels()
    classes = ['a', 'b', 'c']
    samples = generate_lowshot_samples(labels, classes, shots=(1, 2, 4), num_samples=5, seed=3)
    assert samples.shots == [1, 2, 4] and samples.num_samples == 5
    for k in (1, 2, 4):
        for sample in samples.rows[k]:
            for c, rows in enumerate(sample):
                assert (labels[rows, c] == 1).sum() == k and (labels[rows, c] == -1).sum() == 19 * k
                assert (labels[rows, c] != 0).all() and len(np.unique(rows)) == len(rows)
    # The 5 samples differ, a second draw with the same seed is identical, another seed differs.
    assert len({samples.rows[4][s][0].tobytes() for s in range(5)}) == 5
    again = generate_lowshot_samples(labels, classes, shots=(1, 2, 4), num_samples=5, seed=3)
    assert again.digest() == samples.digest()
    assert generate_lowshot_samples(labels, classes, shots=(1, 2, 4), num_samples=5, seed=4).digest() != \
        samples.digest()
    # Each (k, sample, class) has its own stream: asking for fewer shot counts changes nothing else.
    fewer = generate_lowshot_samples(labels, classes, shots=(2, ), num_samples=5, seed=3)
    np.testing.assert_array_equal(fewer.rows[2][1][2], samples.rows[2][1][2])


def test_sample_files_round_trip_and_bad_files_are_refused(tmp_path):
    labels = voc_labels()
    ids = [f'{i:06d}' for i in range(len(labels))]
    train = FeatureSplit(np.zeros((len(labels), 2), np.float32), labels, ids, ['a', 'b', 'c'], 'feature5',
                         'trainval')
    samples = generate_lowshot_samples(labels, train.classes, shots=(1, 2), num_samples=2, seed=0)
    path = tmp_path / 'samples.json'
    save_lowshot_samples(samples, str(path), ids)
    loaded = load_lowshot_samples(str(path), train)
    assert loaded.digest() == samples.digest() and loaded.seed == 0

    content = json.loads(path.read_text())
    difficult_id = ids[int(np.flatnonzero(labels[:, 1] == 0)[0])]
    content['samples']['2'][1]['b'].append(difficult_id)
    path.write_text(json.dumps(content))
    with pytest.raises(ValueError, match=r"k=2, sample 1, class 'b': difficult images cannot be drawn"):
        load_lowshot_samples(str(path), train)
    content['samples']['2'][1]['b'][-1] = 'nope'
    path.write_text(json.dumps(content))
    with pytest.raises(ValueError, match=r"unknown image ids \['nope'\]"):
        load_lowshot_samples(str(path), train)


def lowshot_splits(seed=0):
    train_x, train_y, test_x, test_y = make_voc_like_features(300, 120, 96, num_classes=3, min_positives=12,
                                                              signal=1.0, seed=seed)
    classes = ['a', 'b', 'c']
    return (FeatureSplit(train_x, train_y, [f't{i}' for i in range(300)], classes, 'feature5', 'trainval'),
            FeatureSplit(test_x, test_y, [f'e{i}' for i in range(120)], classes, 'feature5', 'test'))


def test_lowshot_statistics_cost_selection_and_resume(tmp_path):
    train, test = lowshot_splits()
    samples = generate_lowshot_samples(train.labels, train.classes, shots=(1, 2, 4), num_samples=3, seed=0)
    protocol = SVMProtocol(costs=(2**-8, 0.0625, 1.0))
    honest = run_lowshot_svm(train, test, samples, build_svm_solver('fast', protocol), str(tmp_path / 'cv'))
    legacy = run_lowshot_svm(train, test, samples, build_svm_solver('fast', protocol), str(tmp_path / 'legacy'),
                             legacy=True)
    for k in ('1', '2', '4'):
        shot = honest['shots'][k]
        assert len(shot['sample_map']) == 3
        assert shot['min'] <= shot['mean'] <= shot['max']
        assert shot['mean'] == pytest.approx(np.mean(shot['sample_map']))
        assert shot['std'] == pytest.approx(np.std(shot['sample_map']))
        # Legacy selection takes the best mean test mAP, so it can only be as good or better on test.
        assert legacy['shots'][k]['mean'] >= shot['mean'] - 1e-9
        assert legacy['shots'][k]['selection'].startswith('legacy')
    assert honest['shots']['2']['selection'] == 'cv' and honest['shots']['4']['selection'] == 'cv'
    assert honest['shots']['1']['selection'] == 'inherited from k=2'
    assert honest['shots']['1']['chosen_cost'] == honest['shots']['2']['chosen_cost']

    # A finished k is not recomputed: its stored result is returned as it is.
    part = tmp_path / 'cv' / 'lowshot_parts' / 'k4.json'
    stored = json.loads(part.read_text())
    stored['mean'] = -1.0
    part.write_text(json.dumps(stored))
    again = run_lowshot_svm(train, test, samples, build_svm_solver('fast', protocol), str(tmp_path / 'cv'))
    assert again['shots']['4']['mean'] == -1.0
    # Another protocol in the same work dir is refused rather than mixed in.
    with pytest.raises(ValueError, match='partial results of a different run'):
        run_lowshot_svm(train, test, samples, build_svm_solver('fast', SVMProtocol(costs=(1.0, ))),
                        str(tmp_path / 'cv'))

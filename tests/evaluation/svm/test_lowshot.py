import json

import numpy as np
import pytest

from mmssl.evaluation.svm import (FeatureSplit, SVMProtocol, build_svm_solver, generate_lowshot_samples,
                                  load_lowshot_samples, run_lowshot_svm, save_lowshot_samples)
from mmssl.evaluation.svm._synthetic import make_voc_like_features


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


def test_a_single_cost_needs_no_shot_count_that_allows_cv(tmp_path):
    train, test = lowshot_splits()
    samples = generate_lowshot_samples(train.labels, train.classes, shots=(1, ), num_samples=2, seed=0)
    results = run_lowshot_svm(train, test, samples, build_svm_solver('fast', SVMProtocol(costs=(0.5, ))),
                              str(tmp_path / 'single'))
    shot = results['shots']['1']
    assert shot['selection'] == 'single cost' and shot['chosen_cost'] == 0.5
    assert len(shot['sample_map']) == 2


def test_scoring_only_the_chosen_cost_gives_the_same_results_as_scoring_every_cost(tmp_path):
    train, test = lowshot_splits()
    samples = generate_lowshot_samples(train.labels, train.classes, shots=(1, 2, 4), num_samples=2, seed=1)
    protocol = SVMProtocol(costs=(2**-8, 0.0625, 1.0))
    chosen_only, per_cost = (run_lowshot_svm(train, test, samples, build_svm_solver('fast', protocol),
                                             str(tmp_path / str(flag)), test_per_cost=flag) for flag in (False, True))
    for k in ('1', '2', '4'):
        a, b = chosen_only['shots'][k], per_cost['shots'][k]
        assert a['test_map_per_cost'] is None and set(b['test_map_per_cost']) == {repr(c) for c in protocol.costs}
        assert b['test_map_per_cost'][repr(b['chosen_cost'])] == pytest.approx(b['mean'], abs=1e-9)
        assert a['chosen_cost'] == b['chosen_cost'] and a['selection'] == b['selection']
        np.testing.assert_allclose(a['sample_map'], b['sample_map'], rtol=0, atol=1e-9)
        np.testing.assert_allclose(a['class_ap'], b['class_ap'], rtol=0, atol=1e-9)


def test_small_pools_are_an_error_unless_allowed():
    labels = voc_labels(n=60)  # about 15 positives and 40 negatives per class
    with pytest.raises(ValueError, match=r"low-shot pool too small: class 'a' has \d+ positives and \d+ negatives "
                       r'\(difficult excluded\); k=4 needs 4 and 76.*allow_small_pools=True'):
        generate_lowshot_samples(labels, ['a', 'b', 'c'], shots=(1, 4), num_samples=2)
    samples = generate_lowshot_samples(labels, ['a', 'b', 'c'], shots=(1, 4), num_samples=2, allow_small_pools=True)
    negatives = np.flatnonzero(labels[:, 0] == -1)
    assert np.isin(negatives, samples.rows[4][0][0]).all()  # every negative used


def fair_split(n=60, seed=1):
    """Trainval features whose ids are not in sorted order, to check the FAIR row order (sorted ids)."""
    labels = voc_labels(seed, n=n)
    ids = [f'{(i * 37) % n:06d}' for i in range(n)]
    return FeatureSplit(np.zeros((n, 2), np.float32), labels, ids, ['b_cls', 'a_cls', 'c_cls'], 'feature5', 'trainval')


def fair_targets(train, k, seed):
    """A FAIR sample array: rows in sorted-id order, columns in sorted-class order; 1 / 0 / -1."""
    rng = np.random.default_rng(seed)
    order = np.argsort(train.ids)
    class_order = sorted(range(3), key=lambda c: train.classes[c])
    targets = -np.ones((len(train.ids), 3), np.int32)
    expected = []
    for column, c in enumerate(class_order):
        pos = rng.choice(np.flatnonzero(train.labels[order, c] == 1), k, replace=False)
        neg = rng.choice(np.flatnonzero(train.labels[order, c] == -1), 2 * k, replace=False)
        targets[pos, column], targets[neg, column] = 1, 0
    for c in range(3):
        column = class_order.index(c)
        expected.append(np.sort(order[np.flatnonzero(targets[:, column] != -1)]))
    return targets, expected


def test_fair_npy_sample_files_are_read_directly(tmp_path):
    train = fair_split()
    expected = {}
    for k in (1, 2):
        for s in (1, 2):
            targets, expected[k, s] = fair_targets(train, k, seed=10 * k + s)
            np.save(tmp_path / f'train_targets_sample{s}_k{k}.npy', targets)
    samples = load_lowshot_samples(str(tmp_path), train)
    assert samples.shots == [1, 2] and samples.num_samples == 2 and samples.seed is None
    for (k, s), rows in expected.items():
        for c in range(3):
            np.testing.assert_array_equal(samples.rows[k][s - 1][c], rows[c])
            drawn = train.labels[samples.rows[k][s - 1][c], c]
            assert (drawn == 1).sum() == k and (drawn == -1).sum() == 2 * k
    one = load_lowshot_samples(str(tmp_path / 'train_targets_sample2_k1.npy'), train)
    assert one.shots == [1] and one.num_samples == 1
    np.testing.assert_array_equal(one.rows[1][0][2], expected[1, 2][2])


def test_fair_json_sample_file_matches_its_npy_twin(tmp_path):
    train = fair_split()
    targets, expected = fair_targets(train, 2, seed=5)
    sorted_ids = sorted(train.ids)
    class_names = sorted(train.classes)
    content = {image_id: {name: int(targets[row, column]) for column, name in enumerate(class_names)}
               for row, image_id in enumerate(sorted_ids)}
    path = tmp_path / 'train_targets_sample1_k2.json'
    path.write_text(json.dumps(content))
    samples = load_lowshot_samples(str(path), train)
    for c in range(3):
        np.testing.assert_array_equal(samples.rows[2][0][c], expected[c])
    content[sorted_ids[0]]['a_cls'] = 2
    path.write_text(json.dumps(content))
    with pytest.raises(ValueError, match=r"train_targets_sample1_k2\.json: labels \[2\] are not 1 \(drawn positive\)"):
        load_lowshot_samples(str(path), train)


def test_bad_fair_sample_files_are_refused_naming_the_file(tmp_path):
    train = fair_split()
    targets, _ = fair_targets(train, 1, seed=0)
    path = tmp_path / 'train_targets_sample1_k1.npy'
    np.save(path, targets[:-1])
    with pytest.raises(ValueError, match=r'sample1_k1\.npy: a \(59, 3\) array, expected \(60, 3\)'):
        load_lowshot_samples(str(path), train)
    flipped = targets.copy()
    column = sorted(train.classes).index('a_cls')
    negative_row = int(np.flatnonzero(flipped[:, column] == 0)[0])
    flipped[negative_row, column] = 1  # a drawn "positive" that the features label negative
    np.save(path, flipped)
    image = sorted(train.ids)[negative_row]
    with pytest.raises(ValueError, match=rf"class 'a_cls': image '{image}' is drawn as a positive but is negative"):
        load_lowshot_samples(str(path), train)
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(ValueError, match=r'empty: no low-shot sample files named <prefix>_sample<s>_k<k>'):
        load_lowshot_samples(str(empty), train)


@pytest.mark.parametrize('shots, num_samples, message', [
    ((1, 2), 0, r'num_samples \(--num-samples\) must be an integer >= 1, got 0'),
    ((1, 0), 5, r'shot counts \(--shots\) must be integers >= 1, got 0 in \[1, 0\]'),
    ((), 5, r'no shot counts \(--shots\) given'),
])
def test_empty_or_non_positive_sample_counts_are_refused(shots, num_samples, message):
    labels = np.array([[1], [-1]] * 40, dtype=np.int8)
    with pytest.raises(ValueError, match=message):
        generate_lowshot_samples(labels, ['a'], shots=shots, num_samples=num_samples)

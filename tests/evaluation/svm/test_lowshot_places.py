import json
import logging

import numpy as np
import pytest
from mmengine.logging import MMLogger
from sklearn.svm import LinearSVC

from mmssl.evaluation.functional import average_precision
from mmssl.evaluation.svm import FeatureSplit, SVMProtocol, build_svm_solver, l2_normalize
from mmssl.evaluation.svm.lowshot_places import (PlacesLowShotSamples, generate_places_lowshot_samples,
                                                 read_fair_places_samples, run_places_lowshot_svm)
from mmssl.evaluation.svm.primal import primal_bytes

# A tiny Places205-style list: category folders under one-letter groups, per-class train counts.
CATEGORIES = ('a/abbey', 'a/airport_terminal', 'b/bakery/shop', 'b/bar')
TRAIN_COUNTS = (10, 12, 9, 14)


def places_split(split, counts, seed, one_hot=True, dim=24):
    rng = np.random.default_rng(seed)
    prototypes = np.random.default_rng(99).standard_normal((len(counts), dim))
    index = np.repeat(np.arange(len(counts)), counts)
    features = l2_normalize(np.maximum(prototypes[index] * 0.8 + rng.standard_normal((len(index), dim)), 0))
    ids = [f'{CATEGORIES[c]}/{i:08d}.jpg' for c, i in zip(index, range(len(index)))]
    labels = np.where(index[:, None] == np.arange(len(counts)), 1, -1).astype(np.int8) if one_hot else index
    return FeatureSplit(features, labels, ids, list(CATEGORIES), 'feature5', split)


def test_samples_have_k_per_class_are_seeded_and_skip_large_k():
    train = places_split('trainval', TRAIN_COUNTS, 0)
    records = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        samples = generate_places_lowshot_samples(train.labels, train.classes, shots=(1, 2, 8, 16), num_samples=5,
                                                  seed=3)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    # k=16 is larger than the smallest class (9 images): skipped and logged, as FAIR does.
    assert samples.shots == [1, 2, 8] and samples.skipped == [16] and samples.num_samples == 5
    assert any("k=16 skipped, class 'b/bakery/shop' has only 9 images" in m for m in records)
    index = train.labels.argmax(1)
    for k in samples.shots:
        for rows in samples.rows[k]:
            np.testing.assert_array_equal(np.bincount(index[rows], minlength=4), [k] * 4)
            assert len(np.unique(rows)) == len(rows)
    assert len({samples.rows[2][s].tobytes() for s in range(5)}) == 5
    again = generate_places_lowshot_samples(index, train.classes, shots=(1, 2, 8), num_samples=5, seed=3)
    assert again.digest() == samples.digest()  # class indices and one-hot labels give the same draw
    assert generate_places_lowshot_samples(index, train.classes, shots=(1, 2, 8), seed=4).digest() != samples.digest()


def write_fair_samples(tmp_path, train, samples):
    """FAIR's files: full image paths and class indices, sample numbers from 1."""
    index = train.labels.argmax(1)
    for k in samples.shots:
        for s, rows in enumerate(samples.rows[k]):
            # FAIR's script writes class by class; the order must not matter.
            order = rows[np.argsort(index[rows], kind='stable')]
            paths = np.array([f'/datasets01/places205/images256/{train.ids[r]}' for r in order])
            np.save(tmp_path / f'train_images_sample{s + 1}_k{k}.npy', paths)
            np.save(tmp_path / f'train_labels_sample{s + 1}_k{k}.npy', index[order])


def test_fair_sample_files_are_read_and_checked(tmp_path):
    train = places_split('trainval', TRAIN_COUNTS, 0)
    samples = generate_places_lowshot_samples(train.labels, train.classes, shots=(1, 4), num_samples=2, seed=0)
    write_fair_samples(tmp_path, train, samples)
    loaded = read_fair_places_samples(str(tmp_path), train.labels, train.ids, train.classes)
    assert loaded.shots == [1, 4] and loaded.num_samples == 2 and loaded.seed is None
    for k in (1, 4):
        for s in range(2):
            np.testing.assert_array_equal(loaded.rows[k][s], samples.rows[k][s])

    labels_file = tmp_path / 'train_labels_sample2_k4.npy'
    labels = np.load(labels_file)
    labels[0] = (labels[0] + 1) % 4
    np.save(labels_file, labels)
    with pytest.raises(ValueError, match=r'train_labels_sample2_k4.npy: image 0 .* has label 1 but the features '
                                         r"label it 0 \('a/abbey'\)"):
        read_fair_places_samples(str(tmp_path), train.labels, train.ids, train.classes)
    # A sample without any image of a class.
    index = train.labels.argmax(1)
    rows = samples.rows[4][1][index[samples.rows[4][1]] != 2]
    np.save(tmp_path / 'train_images_sample2_k4.npy', np.array([train.ids[r] for r in rows]))
    np.save(labels_file, index[rows])
    with pytest.raises(ValueError, match=r"train_images_sample2_k4.npy: class 'b/bakery/shop' is missing from the "
                                         'sample'):
        read_fair_places_samples(str(tmp_path), train.labels, train.ids, train.classes)
    np.save(tmp_path / 'train_images_sample2_k4.npy', np.array(['x/unknown/1.jpg'] * len(rows)))
    with pytest.raises(ValueError, match=r"image 0 'x/unknown/1.jpg' is not among the train features' ids"):
        read_fair_places_samples(str(tmp_path), train.labels, train.ids, train.classes)


def test_lowshot_statistics_selection_matches_liblinear_and_resumes(tmp_path):
    train = places_split('trainval', TRAIN_COUNTS, 0)
    test = places_split('test', (6, 6, 6, 6), 1, one_hot=False)
    samples = generate_places_lowshot_samples(train.labels, train.classes, shots=(1, 2, 4), num_samples=3, seed=0)
    protocol = SVMProtocol(costs=(2**-6, 0.25, 4.0))
    honest = run_places_lowshot_svm(train, test, samples, build_svm_solver('fast', protocol), str(tmp_path / 'cv'))
    legacy = run_places_lowshot_svm(train, test, samples, build_svm_solver('fast', protocol),
                                    str(tmp_path / 'legacy'), legacy=True)
    for k in ('1', '2', '4'):
        shot = honest['shots'][k]
        assert len(shot['sample_map']) == 3 and len(shot['class_ap']) == 4
        assert shot['min'] <= shot['mean'] <= shot['max']
        assert shot['mean'] == pytest.approx(np.mean(shot['sample_map']))
        assert shot['std'] == pytest.approx(np.std(shot['sample_map']))
        assert legacy['shots'][k]['mean'] >= shot['mean'] - 1e-9
        assert legacy['shots'][k]['selection'].startswith('legacy')
    assert honest['shots']['2']['selection'] == 'cv' and honest['shots']['4']['selection'] == 'cv'
    assert honest['shots']['1']['selection'] == 'inherited from k=2'

    # One sample, one class, one cost against liblinear: one-vs-all on the sample, AP on the whole val set.
    part = json.loads((tmp_path / 'cv' / 'places205_lowshot_parts' / 'k4_s1.json').read_text())
    rows = samples.rows[4][1]
    targets = np.where(train.labels[rows, 2] == 1, 1, -1)
    model = LinearSVC(C=0.25, class_weight={1: 2.0, -1: 1.0}, loss='squared_hinge', dual=True, tol=1e-12,
                      max_iter=100000, intercept_scaling=1.0).fit(train.features[rows].astype(np.float64), targets)
    expected = 100 * average_precision(model.decision_function(test.features), np.where(test.labels == 2, 1, -1))
    assert part['test_ap'][2][1] == pytest.approx(float(expected), abs=1e-6)

    stored = tmp_path / 'cv' / 'places205_lowshot_parts' / 'k4.json'
    content = json.loads(stored.read_text())
    content['mean'] = -1.0
    stored.write_text(json.dumps(content))
    again = run_places_lowshot_svm(train, test, samples, build_svm_solver('fast', protocol), str(tmp_path / 'cv'))
    assert again['shots']['4']['mean'] == -1.0


def test_bad_input_is_refused_before_training(tmp_path):
    train = places_split('trainval', TRAIN_COUNTS, 0)
    test = places_split('test', (3, 3, 3, 3), 1)
    samples = generate_places_lowshot_samples(train.labels, train.classes, shots=(2, ), num_samples=2, seed=0)
    solver = build_svm_solver('fast', SVMProtocol(costs=(1.0, )))
    short = FeatureSplit(test.features[:-1], test.labels, test.ids, test.classes, 'feature5', 'test')
    with pytest.raises(ValueError, match='test split of feature5: 11 feature rows, 12 label rows and 12 ids disagree'):
        run_places_lowshot_svm(train, short, samples, solver, str(tmp_path))
    features = train.features.copy()
    features[samples.rows[2][1][3], 5] = np.inf
    broken = FeatureSplit(features, train.labels, train.ids, train.classes, 'feature5', 'trainval')
    with pytest.raises(ValueError, match=rf'NaN or inf in the features, first at row {samples.rows[2][1][3]}, '
                                         'column 5'):
        run_places_lowshot_svm(broken, test, samples, solver, str(tmp_path))
    index = train.labels.argmax(1)
    no_bar = PlacesLowShotSamples(train.classes, {2: [samples.rows[2][0], samples.rows[2][1][index[
        samples.rows[2][1]] != 3]]})
    with pytest.raises(ValueError, match=r"k=2, sample 1: class 'b/bar' is missing from the sample"):
        run_places_lowshot_svm(train, test, no_bar, solver, str(tmp_path))
    assert solver.history == []


def test_a_budget_the_largest_sample_exceeds_fails_before_the_first_svm(tmp_path):
    train = places_split('trainval', TRAIN_COUNTS, 0)
    test = places_split('test', (3, 3, 3, 3), 1)
    samples = generate_places_lowshot_samples(train.labels, train.classes, shots=(2, 8), num_samples=1, seed=0)
    dim = train.features.shape[1]
    # Exactly what one problem on the k=2 sample (8 rows) needs: the k=8 sample (32 rows) needs more.
    budget = min(primal_bytes(8, dim, 1, 8, 32, resident=False), primal_bytes(8, dim, 1, 8, 32, resident=True))
    solver = build_svm_solver('fast', SVMProtocol(costs=(1.0, )), max_memory=budget)
    solver.check_memory(8, dim, len(test))
    with pytest.raises(ValueError, match=rf'feature5, k=8: max_memory=.* \({budget} bytes\) is too small for the '
                                         rf'primal SVM solver: 32 rows x {dim} dims need at least'):
        run_places_lowshot_svm(train, test, samples, solver, str(tmp_path))
    assert solver.history == []  # k=2 comes first and was not trained

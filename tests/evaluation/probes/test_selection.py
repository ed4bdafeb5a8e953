"""The held-out split: training rows only, class-balanced, the same for the same seed; bad sizes and a class
without held-out rows refused, naming the value."""
import numpy as np
import pytest

from mmssl.evaluation.probes import heldout_split, select_cost

CLASSES = [f'c{i}' for i in range(5)]


def test_split_holds_training_rows_only_and_is_seeded():
    # Train and val rows in one index space: val rows come after the training rows and are never drawn.
    train_labels = np.repeat(np.arange(5), [40, 30, 20, 10, 5])
    val_rows = np.arange(len(train_labels), len(train_labels) + 50)
    fit, heldout = heldout_split(train_labels, 0.2, seed=0, classes=CLASSES)
    assert not np.isin(heldout, val_rows).any() and heldout.max() < len(train_labels)
    assert len(heldout) == 21 and np.intersect1d(fit, heldout).size == 0
    assert np.array_equal(np.union1d(fit, heldout), np.arange(len(train_labels)))
    assert np.bincount(train_labels[heldout], minlength=5).tolist() == [8, 6, 4, 2, 1]
    again = heldout_split(train_labels, 0.2, seed=0, classes=CLASSES)[1]
    other = heldout_split(train_labels, 0.2, seed=1, classes=CLASSES)[1]
    assert np.array_equal(again, heldout) and not np.array_equal(other, heldout)


def test_multi_label_split_holds_a_positive_of_every_class():
    rng = np.random.default_rng(0)
    labels = np.where(rng.random((200, 4)) < 0.3, 1, -1)
    labels[:4] = np.where(np.eye(4) == 1, 1, -1)  # every class has a positive
    labels[5, 2] = 0
    fit, heldout = heldout_split(labels, 40, seed=0, classes=CLASSES[:4])
    assert len(heldout) == 40 and (labels[heldout] == 1).any(axis=0).all()


@pytest.mark.parametrize('size, message', [
    (105, r'probe.heldout.size=105 asks for 105 held-out rows, but the training set has 105: expected at most 104'),
    (500, r'probe.heldout.size=500 asks for 500 held-out rows, but the training set has 105'),
    (4, r'probe.heldout.size=4 gives 4 held-out rows, fewer than the 5 classes: expected at least 5'),
    (0.01, r'probe.heldout.size=0.01 gives 1 held-out rows, fewer than the 5 classes'),
    (1.5, r'probe.heldout.size must be a count \(integer >= 1\) or a fraction \(0 < f < 1\), got 1.5'),
    ('10', r"probe.heldout.size must be a count .* got '10'"),
])
def test_bad_sizes_are_refused(size, message):
    labels = np.repeat(np.arange(5), [40, 30, 20, 10, 5])
    with pytest.raises(ValueError, match=message):
        heldout_split(labels, size, seed=0, classes=CLASSES)


def test_a_class_missing_from_the_heldout_split_is_refused():
    labels = np.array([0] * 20 + [1] * 20 + [2] * 20 + [3] * 20 + [4])  # c4 has one training row
    with pytest.raises(ValueError, match=r"probe.heldout: class 'c4' \(index 4\) has no row in the held-out split "
                                         r'of 10 rows \(seed 0\); it has 1 training rows, expected at least 2'):
        heldout_split(labels, 10, seed=0, classes=CLASSES)


def test_selection_takes_the_best_and_breaks_ties_toward_the_smaller_cost():
    points = {10.0: dict(top1=80.0), 0.1: dict(top1=80.0), 1.0: dict(top1=70.0)}
    assert select_cost(points, 'top1') == 0.1
    assert select_cost({1.0: dict(top1=1.0), 2.0: dict(top1=3.0)}, 'top1') == 2.0

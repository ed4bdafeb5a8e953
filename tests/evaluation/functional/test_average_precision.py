import importlib

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from mmssl.evaluation import average_precision


def test_all_point_ap_hand_computed():
    # Ranking: P N P N P -> precision at the positives 1, 2/3, 3/5; envelope equal; AP = (1 + 2/3 + 3/5) / 3.
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    targets = np.array([1, -1, 1, -1, 1])
    assert average_precision(scores, targets) == pytest.approx((1 + 2 / 3 + 3 / 5) / 3)


def test_envelope_interpolation_and_eleven_points_differ():
    # P N N P P: precision at positives 1, 2/4, 3/5 -> the envelope lifts 2/4 to 3/5.
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    targets = np.array([1, 0, 0, 1, 1])
    area = average_precision(scores, targets)
    assert area == pytest.approx((1 + 3 / 5 + 3 / 5) / 3)
    eleven = average_precision(scores, targets, mode='11points')
    assert eleven == pytest.approx((4 * 1 + 7 * 3 / 5) / 11)  # recall 0..0.3 at 1, 0.4..1.0 at 3/5
    assert eleven != pytest.approx(area)
    assert average_precision(scores, targets, mode='step') == pytest.approx(average_precision_score(targets, scores))


def test_invalid_rows_are_left_out_and_columns_are_independent():
    scores = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3]])
    targets = np.array([[1, 1], [-1, -1], [1, -1]])
    valid = np.array([[True, True], [False, True], [True, True]])
    ap = average_precision(scores, targets, valid)
    assert ap[0] == pytest.approx(1.0)  # the negative between the positives is ignored
    assert ap[1] == pytest.approx(1 / 3)
    assert np.isnan(average_precision(np.array([0.5, 0.4]), np.array([-1, -1])))
    with pytest.raises(ValueError, match='NaN or inf'):
        average_precision(np.array([np.nan, 0.1]), np.array([1, -1]))


def test_many_columns_with_ties_match_sklearn_and_ignore_row_order():
    rng = np.random.default_rng(0)
    scores = np.round(rng.standard_normal((200, 30)), 1)  # many tied scores
    targets = rng.choice([-1, 1], scores.shape)
    valid = rng.random(scores.shape) > 0.2
    step = average_precision(scores, targets, valid, mode='step')
    expected = [average_precision_score(targets[valid[:, p], p], scores[valid[:, p], p]) for p in range(30)]
    np.testing.assert_allclose(step, expected, rtol=0, atol=1e-12)
    shuffled = rng.permutation(len(scores))
    for mode in ('area', '11points', 'step'):
        np.testing.assert_allclose(average_precision(scores[shuffled], targets[shuffled], valid[shuffled], mode),
                                   average_precision(scores, targets, valid, mode), rtol=0, atol=1e-12)


def test_mostly_invalid_columns_give_the_ap_of_their_valid_rows():
    # A third of the rows valid per column, as in cross-validation: only those are ranked.
    rng = np.random.default_rng(1)
    scores = np.round(rng.standard_normal((300, 12)), 1)
    targets = rng.choice([-1, 1], scores.shape)
    valid = rng.random(scores.shape) < 1 / 3
    for mode in ('area', '11points', 'step'):
        ap = average_precision(scores, targets, valid, mode)
        for p in range(12):
            rows = valid[:, p]
            assert ap[p] == pytest.approx(float(average_precision(scores[rows, p], targets[rows, p], mode=mode)),
                                          abs=1e-12)
        if mode == 'step':
            expected = [average_precision_score(targets[valid[:, p], p], scores[valid[:, p], p]) for p in range(12)]
            np.testing.assert_allclose(ap, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize('fraction_valid', [1 / 3, 0.9])
def test_columns_ranked_in_blocks_give_the_same_ap_to_the_last_bit(monkeypatch, fraction_valid):
    # Large inputs are ranked a few columns at a time to bound memory; the blocks must not change any AP.
    module = importlib.import_module('mmssl.evaluation.functional.average_precision')
    rng = np.random.default_rng(2)
    scores = np.round(rng.standard_normal((500, 23)), 2)
    targets = rng.choice([-1, 1], scores.shape, p=[0.8, 0.2])
    valid = rng.random(scores.shape) < fraction_valid
    valid[:, 5] = rng.random(len(scores)) < 0.45  # the widest column sets the row length of every block
    for mode in ('area', '11points', 'step'):
        whole = average_precision(scores, targets, valid, mode)
        monkeypatch.setattr(module, '_BLOCK_ENTRIES', 3 * len(scores))  # blocks of 3 columns, the last of 2
        blocked = average_precision(scores, targets, valid, mode)
        monkeypatch.undo()
        np.testing.assert_array_equal(blocked, whole)

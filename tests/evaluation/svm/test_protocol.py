import numpy as np
import pytest

from mmssl.evaluation.svm import (COST_PRESETS, SVMProtocol, cv_fold_ids, evaluation_mask, resolve_costs, select_cost,
                                  train_targets)


def test_cost_presets_are_the_public_lists():
    assert len(COST_PRESETS['voc07_19']) == 19 and COST_PRESETS['voc07_19'][:4] == (1.0, 10.0, 100.0, 2**-4)
    assert COST_PRESETS['voc07_19'][-1] == 2**-19
    assert len(COST_PRESETS['voc07_26']) == 26 and COST_PRESETS['voc07_26'][0] == pytest.approx(1e-7)
    assert COST_PRESETS['voc07_11'] == (0.01, 0.1, 1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 50.0, 100.0, 1000.0)
    assert resolve_costs('0.5, 2') == (0.5, 2.0)
    for bad, message in (('fast', 'unknown cost list'), ('1,-1', 'positive'), ('1,1', 'distinct'), ('', 'empty')):
        with pytest.raises(ValueError, match=message):
            resolve_costs(bad)


def test_protocol_settings_and_class_weights():
    protocol = SVMProtocol()
    assert protocol.positive_weight == 2.0 and protocol.negative_weight == 1.0
    assert protocol.tol == 1e-4 and protocol.max_iter == 2000 and protocol.cv_folds == 3
    assert protocol.intercept_scaling == 1.0 and protocol.test_metric == 'area'
    description = protocol.to_dict()
    assert description['loss'] == 'squared_hinge' and description['regularised_bias'] is True
    with pytest.raises(ValueError, match='class_weight'):
        SVMProtocol(class_weight=((1, 2.0), ))
    with pytest.raises(ValueError, match='cv_folds'):
        SVMProtocol(cv_folds=1)


def test_difficult_is_negative_in_training_and_ignored_at_test():
    labels = np.array([[1, 0], [0, -1], [-1, 1]], dtype=np.int8)
    np.testing.assert_array_equal(train_targets(labels), [[1, -1], [-1, -1], [-1, 1]])
    np.testing.assert_array_equal(evaluation_mask(labels), [[True, False], [False, True], [True, True]])


def test_fold_assignment_is_stratified_and_unshuffled():
    # Three positives and six negatives: each fold gets one positive and two negatives, in row order.
    targets = np.array([1, -1, 1, -1, -1, 1, -1, -1, -1], dtype=np.int8)[:, None]
    np.testing.assert_array_equal(cv_fold_ids(targets, 3)[:, 0], [0, 0, 1, 0, 1, 2, 1, 2, 2])
    # Columns are assigned independently.
    both = np.concatenate([targets, -targets], axis=1)
    folds = cv_fold_ids(both, 3)
    for fold in range(3):
        assert (both[folds[:, 1] == fold, 1] == 1).sum() == 2


def test_ties_go_to_the_first_cost_in_list_order():
    scores = np.array([[50.0, 60.0, 60.0], [70.0, 10.0, 70.0]])
    index, costs = select_cost(scores, (1.0, 10.0, 0.5))
    np.testing.assert_array_equal(index, [1, 0])
    np.testing.assert_array_equal(costs, [10.0, 1.0])

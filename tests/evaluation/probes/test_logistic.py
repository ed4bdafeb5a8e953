"""The L-BFGS logistic probe reaches scikit-learn's LogisticRegression optimum: same accuracy on the same features
and C (multinomial), same per-class solution and mAP (one-vs-rest binary); a non-positive C is refused."""
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from mmssl.evaluation.probes import check_costs, fit_logistic, probe_metrics, probe_scores


def blobs(rows: int, classes: int = 6, dim: int = 32, seed: int = 0, centers=None):
    """L2-normalised Gaussian blobs, overlapping enough that C matters."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(classes, dim)) if centers is None else centers
    labels = rng.integers(0, classes, rows)
    features = 0.4 * centers[labels] + rng.normal(size=(rows, dim))
    return features / np.linalg.norm(features, axis=1, keepdims=True), labels, centers


@pytest.mark.parametrize('cost', [1e-2, 1.0, 100.0])
def test_multinomial_accuracy_agrees_with_sklearn(cost):
    train, train_labels, centers = blobs(600)
    val, val_labels, _ = blobs(400, seed=1, centers=centers)
    probe = fit_logistic(train, train_labels, cost, num_classes=6)
    ours = probe_metrics(probe_scores(probe, val), val_labels, multi_label=False)['top1']
    reference = LogisticRegression(C=cost, solver='lbfgs', tol=1e-10, max_iter=10000).fit(train, train_labels)
    assert abs(ours - 100 * reference.score(val, val_labels)) <= 0.1
    assert np.abs(probe.weight.numpy() - reference.coef_.T).max() < 1e-3


def test_one_vs_rest_equals_binary_sklearn_per_class():
    train, classes, _ = blobs(300, classes=3)
    labels = np.where(np.eye(3)[classes] == 1, 1, -1)
    labels[::7, 0] = 0  # difficult: a negative at training time, as the VOC07 SVM trains
    probe = fit_logistic(train, labels, 1.0, num_classes=3, multi_label=True)
    for k in range(3):
        reference = LogisticRegression(C=1.0, tol=1e-10, max_iter=10000).fit(train, labels[:, k] == 1)
        assert np.abs(probe.weight[:, k].numpy() - reference.coef_[0]).max() < 1e-3
        assert abs(probe.bias[k].item() - reference.intercept_[0]) < 1e-3
    ap = probe_metrics(probe_scores(probe, train), labels, multi_label=True)['mAP']
    assert 0 < ap <= 100


def multi_label_blobs(rows: int, classes: int = 4, seed: int = 0, centers=None):
    """Rows that mix one to three classes' centres (VOC-style 1 / -1 labels, some difficult 0s)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(classes, 24)) if centers is None else centers
    present = rng.random((rows, classes)) < 0.35
    present[~present.any(1), 0] = True
    features = 0.5 * present.astype(float) @ centers + rng.normal(size=(rows, 24))
    labels = np.where(present, 1, -1)
    labels[rng.random((rows, classes)) < 0.05] = 0
    return features / np.linalg.norm(features, axis=1, keepdims=True), labels, centers


@pytest.mark.parametrize('cost', [1e-2, 1.0, 100.0])
def test_one_vs_rest_map_agrees_with_sklearn(cost):
    # The same features and C: one binary scikit-learn fit per class (difficult rows negative), scored with the
    # same AP, gives the same mAP within 0.1 points.
    train, train_labels, centers = multi_label_blobs(400)
    val, val_labels, _ = multi_label_blobs(200, seed=1, centers=centers)
    probe = fit_logistic(train, train_labels, cost, num_classes=4, multi_label=True)
    ours = probe_metrics(probe_scores(probe, val), val_labels, multi_label=True)['mAP']
    reference = np.stack([LogisticRegression(C=cost, tol=1e-10, max_iter=10000).fit(
        train, train_labels[:, k] == 1).decision_function(val) for k in range(4)], axis=1)
    assert abs(ours - probe_metrics(reference, val_labels, multi_label=True)['mAP']) <= 0.1


def test_top5_is_clipped_to_the_class_count():
    scores = np.array([[0.1, 0.9], [0.8, 0.2]])
    assert probe_metrics(scores, np.array([1, 1]), multi_label=False) == dict(top1=50.0, top5=100.0)


@pytest.mark.parametrize('costs, message', [
    ([1.0, 0.0], 'every C must be a finite number > 0, got 0.0'),
    ([-3], 'every C must be a finite number > 0, got -3'),
    ([float('inf')], 'every C must be a finite number > 0, got inf'),
    ([], r'must be a non-empty list of numbers > 0, got \[\]'),
])
def test_non_positive_costs_are_refused(costs, message):
    with pytest.raises(ValueError, match=message):
        check_costs(costs)

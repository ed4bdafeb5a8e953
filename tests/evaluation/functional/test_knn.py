import pytest
import torch
import torch.nn.functional as F

from mmssl.evaluation import knn_classify


def test_weighted_votes_hand_computed():
    # Cosine similarities to the query: 0.95 (class 0), 0.90 and 0.80 (class 1).
    train = torch.tensor([[0.95, 0.3122499], [0.9, -0.4358899], [0.8, 0.6]])
    query = torch.tensor([[1.0, 0.0]])
    labels = torch.tensor([0, 1, 1])
    # T = 0.07: e^(0.95/0.07) = 7.8e5 > e^(0.90/0.07) + e^(0.80/0.07) = 3.8e5 + 0.9e5, so class 0 wins at k = 3.
    sharp = knn_classify(train, labels, query, torch.tensor([0]), num_classes=2, ks=(1, 3))
    assert sharp['k1/top1'] == 100.0 and sharp['k3/top1'] == 100.0
    assert sharp['k1/top5'] == 100.0  # top-5 clipped to the 2 classes
    # T = 1: e^0.95 = 2.59 < e^0.90 + e^0.80 = 4.69, so the two class-1 neighbours outvote it.
    flat = knn_classify(train, labels, query, torch.tensor([1]), num_classes=2, ks=(1, 3), temperature=1.0)
    assert flat['k1/top1'] == 0.0 and flat['k3/top1'] == 100.0


def test_separable_clusters_and_chunking():
    torch.manual_seed(0)
    centres = F.normalize(torch.randn(4, 16), dim=1)
    train_labels = torch.arange(4).repeat_interleave(25)
    train = F.normalize(centres[train_labels] + 0.05 * torch.randn(100, 16), dim=1)
    test_labels = torch.arange(4).repeat(5)
    test = F.normalize(centres[test_labels] + 0.05 * torch.randn(20, 16), dim=1)
    whole = knn_classify(train, train_labels, test, test_labels, 4, ks=(10, 200))
    chunked = knn_classify(train, train_labels, test, test_labels, 4, ks=(10, 200), chunk_size=3)
    assert whole == chunked and whole['k10/top1'] == 100.0
    with pytest.raises(ValueError, match='same number of rows'):
        knn_classify(train, train_labels[:5], test, test_labels, 4)

import pytest
import torch

from mmssl.evaluation import Accuracy, topk_accuracy


def test_topk_hand_computed():
    scores = torch.tensor([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    labels = torch.tensor([1, 1, 0, 0])
    result = topk_accuracy(scores, labels, (1, 2, 5))
    assert result[1] == 50.0 and result[2] == 75.0 and result[5] == 100.0


def test_labels_out_of_range_rejected():
    with pytest.raises(ValueError, match='outside 0..2'):
        topk_accuracy(torch.zeros(2, 3), torch.tensor([0, 3]), (1, ))


def test_metric_counts_every_pair_and_every_head():
    metric = Accuracy(topk=(1, ))
    metric.process(None, [dict(pred_score=torch.eye(8), gt_label=torch.arange(8))])
    metric.process(None, [dict(pred_score=torch.eye(8), gt_label=torch.zeros(8, dtype=torch.long))])
    assert metric.evaluate(2) == {'accuracy/top1': pytest.approx(100 * 9 / 16)}

    metric = Accuracy(topk=(1, 2))
    metric.process(None, [dict(pred_scores={'feature1': torch.tensor([0.2, 0.8, 0.0]),
                                            'avgpool': torch.tensor([0.8, 0.1, 0.1])},
                               gt_label=torch.tensor([0]))])
    result = metric.evaluate(1)
    assert result['accuracy/feature1/top1'] == 0.0 and result['accuracy/feature1/top2'] == 100.0
    assert result['accuracy/avgpool/top1'] == 100.0

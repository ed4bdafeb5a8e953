import numpy as np
import pytest
import torch

from mmssl.evaluation import VOCMultiLabelMetric


def run(scores, labels, **kwargs):
    metric = VOCMultiLabelMetric(**kwargs)
    metric.process(None, [dict(pred_score=torch.tensor(s), gt_label=torch.tensor(l)) for s, l in zip(scores, labels)])
    return metric.evaluate(len(scores))


def test_difficult_is_ignored_and_ap_is_all_point():
    # Class 0 ranking: pos 0.9, neg 0.8, difficult 0.7, pos 0.6 -> precision 1 at r=0.5, 2/3 at r=1 -> AP 5/6.
    scores = [[0.9, 0.1], [0.8, 0.2], [0.7, 0.4], [0.6, 0.3]]
    labels = [[1, -1], [-1, -1], [0, 1], [1, -1]]
    result = run(scores, labels)
    assert result['voc/AP/0'] == pytest.approx(100 * 5 / 6)
    assert result['voc/AP/1'] == pytest.approx(100.0)
    assert result['voc/mAP'] == pytest.approx(100 * (5 / 6 + 1) / 2)
    # Counted as a negative, the difficult sample would lower the AP.
    assert run(scores, [[1, -1], [-1, -1], [-1, 1], [1, -1]])['voc/AP/0'] < result['voc/AP/0']


def test_class_names_and_bad_labels():
    assert 'voc/AP/cat' in run([[0.5, 0.5]], [[1, -1]], classes=['cat', 'dog'])
    with pytest.raises(ValueError, match=r'must be 1, -1 or 0.*\[2\]'):
        run([[0.5, 0.5]], [[2, -1]])
    assert np.isfinite(run([[0.5, 0.5]], [[1, -1]])['voc/mAP'])

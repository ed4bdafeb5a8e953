import copy

import pytest
import torch
from mmengine.optim import build_optim_wrapper

from mmssl.registry import MODELS
from mmssl.structures import DataSample
from mmssl.utils import register_all_modules

register_all_modules()


def small_cfg(mode):
    return dict(
        type='RelativeLoc',
        backbone_mode=mode,
        backbone=dict(type='ResNet', depth=18, out_indices=[4]),
        neck=dict(type='RelativeLocNeck', in_channels=512, out_channels=64),
        head=dict(type='ClsHead', in_channels=64, num_classes=8,
                  init_cfg=dict(type='Normal', std=0.005, layer='Linear')))


def batch(num=2, patch=32):
    inputs = [torch.randint(0, 255, (9, 3, patch, patch), dtype=torch.uint8) for _ in range(num)]
    samples = [DataSample().set_gt_label(torch.arange(8)) for _ in range(num)]
    return dict(inputs=inputs, data_samples=samples)


def test_exact_and_dedup_give_identical_pairs_in_eval_mode():
    torch.manual_seed(0)
    exact = MODELS.build(small_cfg('exact'))
    exact.init_weights()
    dedup = MODELS.build(small_cfg('dedup'))
    dedup.load_state_dict(exact.state_dict())
    exact.eval(), dedup.eval()
    data = exact.data_preprocessor(batch())
    with torch.no_grad():
        a = exact.pair_features(data['inputs'])
        b = dedup.pair_features(data['inputs'])
    assert a.shape == (16, 1024, 1, 1)
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_pairs_are_centre_then_neighbour_in_label_order():
    model = MODELS.build(small_cfg('dedup')).eval()
    data = model.data_preprocessor(batch(num=1))
    patches = data['inputs'][0]
    with torch.no_grad():
        pairs = model.pair_features(data['inputs'])
        per_patch = model.backbone(patches)[-1]
    for label, position in enumerate((0, 1, 2, 3, 5, 6, 7, 8)):
        torch.testing.assert_close(pairs[label, :512], per_patch[4], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(pairs[label, 512:], per_patch[position], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize('mode', ['exact', 'dedup'])
def test_train_step_reduces_loss_on_a_fixed_batch(mode):
    torch.manual_seed(0)
    model = MODELS.build(small_cfg(mode))
    model.init_weights()
    optim = build_optim_wrapper(model, dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9)))
    data = batch(num=4)
    losses = [model.train_step(copy.deepcopy(data), optim)['loss'].item() for _ in range(15)]
    assert losses[0] == pytest.approx(torch.log(torch.tensor(8.)).item(), abs=0.3)
    assert losses[-1] < 0.5 * losses[0]


def test_predict_gives_eight_pair_scores_per_sample():
    model = MODELS.build(small_cfg('exact')).eval()
    outputs = model.val_step(batch(num=3))
    assert len(outputs) == 3
    assert outputs[0].pred_score.shape == (8, 8)
    assert outputs[0].pred_label.shape == (8, )
    torch.testing.assert_close(outputs[0].pred_score.sum(-1), torch.ones(8))


def test_tensor_mode_returns_backbone_taps_and_rejects_bad_shapes():
    model = MODELS.build(small_cfg('exact')).eval()
    (feats, ) = model(torch.randn(2, 3, 64, 64), mode='tensor')
    assert feats.shape == (2, 512, 2, 2)
    with pytest.raises(ValueError, match=r'\(B, 9, C, p, p\)'):
        model.pair_features(torch.randn(2, 3, 32, 32))
    with pytest.raises(ValueError, match='backbone_mode'):
        MODELS.build({**small_cfg('exact'), 'backbone_mode': 'fast'})

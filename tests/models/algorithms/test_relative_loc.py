import copy

import pytest
import torch
from mmengine.optim import build_optim_wrapper

from mmssl.registry import MODELS
from mmssl.structures import DataSample
from mmssl.utils import register_all_modules

register_all_modules()


def small_cfg(mode, **kwargs):
    return dict(
        type='RelativeLoc',
        backbone_mode=mode,
        **kwargs,
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


@pytest.mark.parametrize('mode', ['exact', 'dedup'])
def test_default_pairs_are_neighbour_then_centre_in_1x_label_order(mode):
    """mmselfsup 1.x: cat(backbone(neighbours), backbone(centre)); label k = k-th cell of a column-major walk."""
    model = MODELS.build(small_cfg(mode)).eval()
    assert (model.pair_order, model.label_layout) == ('neighbour_first', '1.x')
    data = model.data_preprocessor(batch(num=1))
    patches = data['inputs'][0]
    with torch.no_grad():
        pairs = model.pair_features(data['inputs'])
        per_patch = model.backbone(patches)[-1]
    # row-major grid positions of 1.x labels 0..7: (col 0: rows 0, 1, 2), (col 1: rows 0, 2), (col 2: rows 0, 1, 2)
    for label, position in enumerate((0, 3, 6, 1, 7, 2, 5, 8)):
        torch.testing.assert_close(pairs[label, :512], per_patch[position], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(pairs[label, 512:], per_patch[4], atol=1e-5, rtol=1e-5)


def test_centre_first_row_major_is_the_paper_and_old_mmssl_layout():
    model = MODELS.build(small_cfg('dedup', pair_order='centre_first', label_layout='row_major')).eval()
    data = model.data_preprocessor(batch(num=1))
    with torch.no_grad():
        pairs = model.pair_features(data['inputs'])
        per_patch = model.backbone(data['inputs'][0])[-1]
    for label, position in enumerate((0, 1, 2, 3, 5, 6, 7, 8)):
        torch.testing.assert_close(pairs[label, :512], per_patch[4], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(pairs[label, 512:], per_patch[position], atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="pair_order must be 'neighbour_first' or 'centre_first'"):
        MODELS.build(small_cfg('dedup', pair_order='centre'))
    with pytest.raises(ValueError, match='label_layout must be one of'):
        MODELS.build(small_cfg('dedup', label_layout='0x'))


def test_exact_mode_runs_neighbours_then_centres_like_the_toolbox():
    model = MODELS.build(small_cfg('exact')).eval()
    data = model.data_preprocessor(batch(num=2))
    seen = []
    original = model.backbone.forward
    model.backbone.forward = lambda x: (seen.append(x.clone()), original(x))[1]
    with torch.no_grad():
        model.pair_features(data['inputs'])
    assert len(seen) == 2 and seen[0].shape[0] == seen[1].shape[0] == 16
    inputs = data['inputs']
    torch.testing.assert_close(seen[0], inputs[:, list((0, 3, 6, 1, 7, 2, 5, 8))].flatten(0, 1))
    torch.testing.assert_close(seen[1], inputs[:, 4:5].expand(-1, 8, -1, -1, -1).flatten(0, 1))


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


def test_toolbox_model_config_uses_plain_bn_in_the_backbone(repo_root):
    """mmselfsup 0.x and 1.x configs/selfsup/_base_/models/relative-loc.py: norm_cfg=dict(type='BN')."""
    from mmengine.config import Config
    cfg = Config.fromfile(str(repo_root / 'configs/_base_/models/relative-loc.py'))
    assert cfg.model.backbone.norm_cfg == dict(type='BN')
    model = MODELS.build(cfg.model)
    norms = [m for m in model.backbone.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert norms and all(type(m) is torch.nn.BatchNorm2d for m in norms)

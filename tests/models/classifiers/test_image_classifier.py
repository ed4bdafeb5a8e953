import torch
from mmengine.optim import build_optim_wrapper

from mmssl.registry import MODELS
from mmssl.structures import DataSample
from mmssl.utils import register_all_modules

register_all_modules()


def classifier(frozen, head=None):
    return MODELS.build(dict(
        type='ImageClassifier', frozen_backbone=frozen,
        backbone=dict(type='ResNet', depth=18, out_indices=[4]),
        head=head or dict(type='ClsHead', in_channels=512, num_classes=3, with_avg_pool=True)))


def batch(num=4):
    return dict(inputs=[torch.randint(0, 255, (3, 32, 32), dtype=torch.uint8) for _ in range(num)],
                data_samples=[DataSample().set_gt_label(i % 3) for i in range(num)])


def test_linear_evaluation_keeps_backbone_and_its_bn_statistics_fixed():
    model = classifier(frozen=True)
    model.train()
    assert not model.backbone.training and model.head.training
    before = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    optim = build_optim_wrapper(model, dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)))
    head_before = model.head.fc.weight.clone()
    model.train_step(batch(), optim)
    for key, value in model.backbone.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert not torch.equal(model.head.fc.weight, head_before)


def test_fine_tuning_trains_the_backbone_with_a_head_lr_multiplier():
    model = classifier(frozen=False)
    optim = build_optim_wrapper(model, dict(optimizer=dict(type='SGD', lr=0.01),
                                            paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=10)})))
    lrs = {group['lr'] for group in optim.optimizer.param_groups}
    assert lrs == {0.01, 0.1}
    before = model.backbone.conv1.weight.clone()
    model.train_step(batch(), optim)
    assert not torch.equal(model.backbone.conv1.weight, before)


def test_predict_single_and_multi_head():
    outputs = classifier(frozen=True).eval().val_step(batch(2))
    assert outputs[0].pred_score.shape == (3, ) and outputs[0].pred_label.shape == (1, )
    multi = classifier(frozen=True, head=dict(type='MultiClsHead', num_classes=3, pool_type='adaptive'))
    outputs = multi.eval().val_step(batch(2))
    assert set(outputs[0].pred_scores) == {'feature5', 'avgpool'}
    assert outputs[0].pred_scores['avgpool'].shape == (3, )


def test_a_multi_head_gets_the_backbone_out_taps_unless_its_config_gives_taps():
    model = classifier(frozen=True, head=dict(type='MultiClsHead', num_classes=3, pool_type='adaptive'))
    assert model.head.taps == model.backbone.out_taps and list(model.head.heads) == ['feature5', 'avgpool']
    taps = [dict(name='last', channels=512, stride=32, adaptive_size=1)]
    model = classifier(frozen=True, head=dict(type='MultiClsHead', taps=taps, num_classes=3, pool_type='adaptive'))
    assert [tap.name for tap in model.head.taps] == ['last'] and model.head.heads['last'].fc.in_features == 512

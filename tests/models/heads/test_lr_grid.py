"""A learning-rate grid of MultiClsHead: one frozen forward, one head per (tap, lr), each trained as if alone."""
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import MultiStepLR, build_optim_wrapper

import mmssl.benchmarks.linear as linear
from mmssl.benchmarks import cli
from mmssl.benchmarks.linear import add_lr_grid_param_groups
from mmssl.benchmarks.records import read_result
from mmssl.engine.train import train as engine_train
from mmssl.models.heads.multi_cls_head import grid_head_name, lr_grid_custom_keys
from mmssl.registry import MODELS
from mmssl.structures import DataSample
from mmssl.utils import register_all_modules

BASE_LR = 0.01
GRID = [0.1, 1, 10]
TAPS = ('feature4', 'feature5', 'avgpool')
GRID_CONFIG = 'configs/benchmarks/classification/fashion_mnist/resnet18_mhead-grid_1xb64-steplr-4e_fmnist-demo.py'


def build_classifier(lr_grid=None, wd_grid=None):
    """A frozen random ResNet-18 with heads on feature4/5 and avgpool, initialised from the same global seed."""
    register_all_modules()
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='ImageClassifier', frozen_backbone=True,
        backbone=dict(type='ResNet', depth=18, out_indices=[3, 4]),
        head=dict(type='MultiClsHead', num_classes=4, in_size=32, pool_type='adaptive', lr_grid=lr_grid,
                  wd_grid=wd_grid)))
    model.init_weights()
    return model


def train(model, lr, lr_grid=None, steps=4, weight_decay=1e-4, wd_grid=None):
    """SGD (momentum, nesterov, weight decay) with a step schedule, on the same batches every call."""
    paramwise_cfg = dict(custom_keys=lr_grid_custom_keys(lr_grid, wd_grid)) if lr_grid or wd_grid else None
    wrapper = build_optim_wrapper(model, dict(
        type='OptimWrapper', optimizer=dict(type='SGD', lr=lr, momentum=0.9, weight_decay=weight_decay,
                                            nesterov=True),
        paramwise_cfg=paramwise_cfg))
    scheduler = MultiStepLR(wrapper, milestones=[2], gamma=0.1, by_epoch=False)
    batches = torch.Generator().manual_seed(1)
    model.train()
    for _ in range(steps):
        inputs = torch.randn(6, 3, 32, 32, generator=batches)
        labels = torch.randint(0, 4, (6, ), generator=batches)
        samples = [DataSample().set_gt_label(int(label)) for label in labels]
        losses = model(inputs, samples, mode='loss')
        wrapper.update_params(sum(losses.values()))
        scheduler.step()
    return model


def head_state(model, name):
    module_key = name.replace('.', '_')
    return {key: value.clone() for key, value in model.head.heads[module_key].state_dict().items()}


def test_grid_heads_are_named_by_lr_and_start_from_the_single_run_weights():
    single, grid = build_classifier(), build_classifier(GRID)
    assert list(single.head.heads) == list(TAPS)
    # The plain heads (the fixed protocol) draw the same init as without a grid; every grid point starts there.
    for tap in TAPS:
        for mult in GRID:
            for key, value in head_state(single, tap).items():
                torch.testing.assert_close(head_state(grid, grid_head_name(tap, mult))[key], value, rtol=0, atol=0)
    torch.testing.assert_close(grid.backbone.state_dict(), single.backbone.state_dict(), rtol=0, atol=0)
    logits = grid.eval()(torch.randn(2, 3, 32, 32))
    assert list(logits) == [grid_head_name(tap, mult) for tap in TAPS for mult in GRID]
    assert 'feature5@lrx0.1' in logits and 'feature5' in logits and 'avgpool@lrx10' in logits


def test_each_grid_head_ends_as_its_single_point_run():
    grid = train(build_classifier(GRID), BASE_LR, GRID)
    for mult in GRID:
        # mmengine gives a custom key's group base_lr * lr_mult; the single run uses that lr as its own.
        single = train(build_classifier(), BASE_LR * mult)
        for tap in TAPS:
            expected = head_state(single, tap)
            got = head_state(grid, grid_head_name(tap, mult))
            assert set(got) == set(expected)
            for key in expected:  # fc weight / bias, BN running mean / var / batch count
                torch.testing.assert_close(got[key].float(), expected[key].float(), rtol=0, atol=1e-6,
                                           msg=f'{grid_head_name(tap, mult)} {key}')
        # The grid points differ from each other: the lr reaches each head.
        assert not torch.allclose(head_state(grid, grid_head_name('feature5', mult))['fc.weight'],
                                  head_state(grid, 'feature5')['fc.weight']) or mult == 1


def test_each_weight_decay_point_ends_as_its_single_point_run():
    """A 2 x 2 grid of (lr, weight decay): the point at 10x the lr and 100x the weight decay (a decay strong enough
    to show) ends as a single run at those values, and differs from the point at the config's weight decay."""
    weight_decay, lr_grid, wd_grid = 1e-3, [1, 10], [1, 100]
    grid = train(build_classifier(lr_grid, wd_grid), BASE_LR, lr_grid, steps=3, weight_decay=weight_decay,
                 wd_grid=wd_grid)
    assert [name for name in grid.head.head_names('feature5')] == [
        'feature5', 'feature5@lrx1_wdx100', 'feature5@lrx10', 'feature5@lrx10_wdx100']
    single = train(build_classifier(), BASE_LR * 10, steps=3, weight_decay=weight_decay * 100)
    for tap in TAPS:
        expected, got = head_state(single, tap), head_state(grid, grid_head_name(tap, 10, 100))
        for key in expected:
            torch.testing.assert_close(got[key].float(), expected[key].float(), rtol=0, atol=1e-6, msg=f'{tap} {key}')
    assert not torch.allclose(head_state(grid, 'feature5@lrx10')['fc.weight'],
                              head_state(grid, 'feature5@lrx10_wdx100')['fc.weight'])


def test_grid_custom_keys_give_each_point_its_lr_and_decay_multiplier():
    assert lr_grid_custom_keys([0.1, 1], [1, 10]) == {
        '@lrx1_wdx10.': dict(lr_mult=1, decay_mult=10), '@lrx0_1.': dict(lr_mult=0.1),
        '@lrx0_1_wdx10.': dict(lr_mult=0.1, decay_mult=10)}
    # No key matches the parameters of another point's head (mmengine matches a key anywhere in the name).
    heads = [f'head.heads.feature5{grid_head_name("", lr, wd).replace(".", "_")}.fc.weight'
             for lr in (0.1, 1, 10) for wd in (0.1, 1, 10)]
    for key in lr_grid_custom_keys([0.1, 1, 10], [0.1, 1, 10]):
        assert len([name for name in heads if key in name]) == 1, key


@pytest.mark.parametrize('wd_grid, expected', [([0.1, 10], 'must contain 1'), ([1, 0], r'not positive: \[0\]'),
                                               ([1, -1e-5], 'positive'), ([1, 10, 10.0], r'repeated: \[10\]')])
def test_bad_weight_decay_grids_are_refused_naming_the_values(wd_grid, expected):
    with pytest.raises(ValueError, match=expected) as error:
        build_classifier(None, wd_grid)
    assert 'wd_grid' in str(error.value) and str(wd_grid[-1]) in str(error.value)


@pytest.mark.parametrize('lr_grid, expected', [([0.1, 10], 'must contain 1'), ([1, 0], 'positive'),
                                               ([1, -2], 'positive'), ([1, 1.0], 'distinct')])
def test_bad_grids_are_refused_naming_the_values(lr_grid, expected):
    with pytest.raises(ValueError, match=expected) as error:
        build_classifier(lr_grid)
    assert str(lr_grid[-1]) in str(error.value)


def test_linear_benchmark_adds_the_grid_param_groups(repo_root):
    cfg = Config.fromfile(str(repo_root / GRID_CONFIG))
    keys = dict(cfg.optim_wrapper.paramwise_cfg.custom_keys)
    assert keys == lr_grid_custom_keys(cfg.model.head.lr_grid)
    # From a config without the keys, the benchmark adds them; a conflicting key is refused.
    del cfg.optim_wrapper['paramwise_cfg']
    assert dict(add_lr_grid_param_groups(cfg).optim_wrapper.paramwise_cfg.custom_keys) == keys
    first = next(iter(keys))
    cfg.optim_wrapper.paramwise_cfg.custom_keys[first] = dict(lr_mult=3)
    with pytest.raises(ValueError, match=r"custom_keys\['@lrx"):
        add_lr_grid_param_groups(cfg)
    plain = Config(dict(model=dict(head=dict(type='MultiClsHead')), optim_wrapper=dict(type='OptimWrapper')))
    assert 'paramwise_cfg' not in add_lr_grid_param_groups(plain).optim_wrapper


@pytest.mark.slow  # one tiny epoch of the demo through the benchmark CLI
def test_linear_benchmark_trains_and_records_the_grid(tmp_path, fmnist_tiny, repo_root, monkeypatch):
    """The plain demo config with a grid from the command line: the benchmark gives the Runner the grid's param
    groups and records every head, the plain-named ones being the fixed protocol's."""
    monkeypatch.chdir(repo_root)
    trained = []
    monkeypatch.setattr(linear, 'train', lambda cfg: trained.append(cfg.copy()) or engine_train(cfg))
    overrides = {f'{split}_dataloader.{key}': value for split in ('train', 'val')
                 for key, value in dict(num_workers=0, persistent_workers=False).items()}
    overrides.update({f'{split}_dataloader.dataset.data_root': fmnist_tiny['data_root'] for split in ('train', 'val')})
    overrides.update({'train_dataloader.batch_size': 4, 'train_cfg.max_epochs': 1, 'train_cfg.val_interval': 1,
                      'model.head.lr_grid': '[0.1,1,10]'})
    demo = 'configs/benchmarks/classification/fashion_mnist/resnet18_mhead_1xb64-steplr-4e_fmnist-demo.py'
    cli.main('linear', [demo, 'none', '--work-dir', str(tmp_path / 'work'), '--cfg-options',
                        *[f'{key}={value}' for key, value in overrides.items()]])
    assert dict(trained[0].optim_wrapper.paramwise_cfg.custom_keys) == lr_grid_custom_keys(GRID)
    metrics = read_result(linear.LinearEval.record_path(str(tmp_path / 'work')))['metrics']
    for head in ('feature1', 'feature5', 'avgpool'):
        for mult in GRID:
            assert f'accuracy/{grid_head_name(head, mult)}/top1' in metrics

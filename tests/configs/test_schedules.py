"""The shipped full-scale configs build the exact protocol schedules (not only something that runs)."""
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import PARAM_SCHEDULERS

from mmssl.registry import MODELS
from mmssl.utils import convert_sync_bn_cfg, register_all_modules


def build_config(path, epoch_length: int = 100):
    """The config file at ``path`` with its model, optimizer wrapper and parameter schedulers built (epoch-based
    schedulers converted to iterations with ``epoch_length``)."""
    register_all_modules()
    cfg = Config.fromfile(str(path))
    model = MODELS.build(convert_sync_bn_cfg(cfg.model))
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    schedulers = []
    for scheduler in cfg.param_scheduler:
        scheduler = dict(scheduler, optimizer=optim_wrapper.optimizer)
        if scheduler.pop('convert_to_iter_based', False):
            cls = PARAM_SCHEDULERS.get(scheduler.pop('type'))
            schedulers.append(cls.build_iter_from_epoch(**scheduler, epoch_length=epoch_length))
        else:
            schedulers.append(PARAM_SCHEDULERS.build(scheduler))
    return cfg, model, optim_wrapper, schedulers


@pytest.fixture
def build(repo_root):
    """``build(config)``: :func:`build_config` of a shipped config named relative to ``configs/``."""
    return lambda config, **kwargs: build_config(repo_root / 'configs' / config, **kwargs)


def weight_decay_by_prefix(model, optimizer):
    names = {id(param): name for name, param in model.named_parameters()}
    result = {}
    for group in optimizer.param_groups:
        for param in group['params']:
            result.setdefault(names[id(param)].split('.')[0], set()).add(group['weight_decay'])
    return result


def test_relative_loc_70e_schedule(build):
    cfg, model, optim_wrapper, schedulers = build('selfsup/relative_loc/relative-loc_resnet50_8xb64-steplr-70e_in1k.py')
    optimizer = optim_wrapper.optimizer
    assert isinstance(optimizer, torch.optim.SGD)
    assert all(g['lr'] == pytest.approx(0.2 * 0.1) for g in optimizer.param_groups)  # warm-up starts at 0.1x
    assert all(g['initial_lr'] == pytest.approx(0.2) for g in optimizer.param_groups)
    assert {g['momentum'] for g in optimizer.param_groups} == {0.9}
    decay = weight_decay_by_prefix(model, optimizer)
    assert decay['backbone'] == {1e-4}
    assert decay['neck'] == {5e-4} and decay['head'] == {5e-4}
    warmup, steps = schedulers
    assert (warmup.begin, warmup.end, warmup.start_factor) == (0, 500, 0.1)  # 5 epochs of 100 iterations
    assert steps.by_epoch and dict(steps.milestones) == {30: 1, 50: 1}
    assert steps.gamma == 0.1
    assert cfg.train_cfg.max_epochs == 70 and cfg.train_dataloader.batch_size == 64
    assert cfg.auto_scale_lr.base_batch_size == 512
    assert model.backbone.depth == 50 and model.backbone_mode == 'exact'
    assert model.neck.bn.momentum == 0.003 and model.neck.drop.p == 0.5
    assert model.head.fc_cls.out_features == 8  # mmselfsup's key name, head.fc_cls.*


MHEAD = dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-4, batch_size=32)
CLASSIFICATION = {
    'benchmarks/classification/imagenet/resnet50_mhead_8xb32-steplr-90e_in1k.py':
    dict(MHEAD, epochs=90, milestones={30: 1, 60: 1}, gamma=0.1, num_classes=1000),
    'benchmarks/classification/places205/resnet50_mhead_8xb32-steplr-28e_places205.py':
    dict(MHEAD, epochs=28, milestones={7: 1, 14: 1, 21: 1}, gamma=0.1, num_classes=205),
    'benchmarks/classification/inaturalist2018/resnet50_mhead_8xb32-steplr-84e_inat18.py':
    dict(MHEAD, epochs=84, milestones={24: 1, 48: 1, 72: 1}, gamma=0.1, num_classes=8142),
    'benchmarks/classification/imagenet/resnet50_linear-8xb32-steplr-100e_in1k.py':
    dict(lr=30., momentum=0.9, nesterov=False, weight_decay=0., batch_size=32, epochs=100,
         milestones={60: 1, 80: 1}, gamma=0.1, num_classes=1000),
}


@pytest.mark.parametrize('config', sorted(CLASSIFICATION))
def test_linear_evaluation_schedules(config, build):
    expected = CLASSIFICATION[config]
    cfg, model, optim_wrapper, (scheduler, ) = build(config)
    trainable = [g for g in optim_wrapper.optimizer.param_groups if any(p.requires_grad for p in g['params'])]
    assert trainable and all(g['lr'] == expected['lr'] for g in trainable)
    for group in trainable:
        assert (group['momentum'], group['nesterov'], group['weight_decay']) == (
            expected['momentum'], expected['nesterov'], expected['weight_decay'])
    assert scheduler.by_epoch and dict(scheduler.milestones) == expected['milestones']
    assert scheduler.gamma == expected['gamma']
    assert cfg.train_cfg.max_epochs == expected['epochs'] and cfg.train_dataloader.batch_size == expected['batch_size']
    assert model.frozen_backbone and not any(p.requires_grad for p in model.backbone.parameters())
    assert cfg.auto_scale_lr.base_batch_size == 256
    heads = model.head.heads.values() if hasattr(model.head, 'heads') else [model.head]
    assert all(list(head.modules())[-1].out_features == expected['num_classes'] for head in heads)


SEMI_SUP_GLOB = 'benchmarks/classification/imagenet/imagenet_*percent/*.py'
# The grid as the protocol defines it; the test below shows that the shipped configs are exactly these.
SEMI_SUP = sorted(f'benchmarks/classification/imagenet/imagenet_{pct}percent/'
                  f'resnet50_8xb32-steplr-20e_in1k-{pct}pct_lr-{lr}_head{head}.py'
                  for pct in (1, 10) for lr in ('1e-1', '1e-2', '1e-3') for head in (1, 10, 100))


def test_semi_supervised_grid_is_complete(repo_root):
    shipped = sorted(str(p.relative_to(repo_root / 'configs')) for p in (repo_root / 'configs').glob(SEMI_SUP_GLOB))
    names = {p.split('/')[-1] for p in shipped}
    for pct in (1, 10):
        for lr in ('1e-1', '1e-2', '1e-3'):
            for head in (1, 10, 100):
                assert f'resnet50_8xb32-steplr-20e_in1k-{pct}pct_lr-{lr}_head{head}.py' in names
    assert len(shipped) == 18
    assert shipped == SEMI_SUP


@pytest.mark.parametrize('config', SEMI_SUP)
def test_semi_supervised_schedules(config, build):
    pct = 1 if '-1pct_' in config else 10
    lr = float(config.split('_lr-')[1].split('_')[0])
    head_mult = int(config.split('_head')[1].split('.')[0])
    cfg, model, optim_wrapper, (scheduler, ) = build(config)
    names = {id(p): n for n, p in model.named_parameters()}
    for group in optim_wrapper.optimizer.param_groups:
        is_head = names[id(group['params'][0])].startswith('head.')
        assert group['lr'] == pytest.approx(lr * (head_mult if is_head else 1))
        assert group['weight_decay'] == (5e-4 if pct == 1 else 1e-4)
        assert group['momentum'] == 0.9
    assert scheduler.by_epoch and dict(scheduler.milestones) == {12: 1, 16: 1} and scheduler.gamma == 0.2
    assert cfg.train_cfg.max_epochs == 20 and cfg.train_dataloader.batch_size == 32
    assert cfg.train_dataloader.dataset.subset_file == f'meta/{pct}percent.txt'
    assert cfg.randomness.deterministic is True
    assert not model.frozen_backbone and all(p.requires_grad for p in model.backbone.parameters())

"""The shipped full-scale configs build the exact protocol schedules (not only something that runs)."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import PARAM_SCHEDULERS

from mmssl.registry import MODELS
from mmssl.utils import convert_sync_bn_cfg, register_all_modules

CONFIG_ROOT = Path(__file__).resolve().parents[2] / 'configs'


def build(config: str, epoch_length: int = 100):
    register_all_modules()
    cfg = Config.fromfile(str(CONFIG_ROOT / config))
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


def weight_decay_by_prefix(model, optimizer):
    names = {id(param): name for name, param in model.named_parameters()}
    result = {}
    for group in optimizer.param_groups:
        for param in group['params']:
            result.setdefault(names[id(param)].split('.')[0], set()).add(group['weight_decay'])
    return result


def test_relative_loc_70e_schedule():
    cfg, model, optim_wrapper, schedulers = build('selfsup/relative_loc/relative-loc_resnet50_8xb64-steplr-70e_in1k.py')
    optimizer = optim_wrapper.optimizer
    assert isinstance(optimizer, torch.optim.SGD)
    assert {g['lr'] for g in optimizer.param_groups} == {pytest.approx(0.2 * 0.1)}  # warm-up starts at 0.1x
    assert {g['momentum'] for g in optimizer.param_groups} == {0.9}
    decay = weight_decay_by_prefix(model, optimizer)
    assert decay['backbone'] == {pytest.approx(1e-4)}
    assert decay['neck'] == {pytest.approx(5e-4)} and decay['head'] == {pytest.approx(5e-4)}
    warmup, steps = schedulers
    assert (warmup.begin, warmup.end, warmup.start_factor) == (0, 500, 0.1)  # 5 epochs of 100 iterations
    assert steps.by_epoch and dict(steps.milestones) == {30: 1, 50: 1}
    assert steps.gamma == 0.1
    assert cfg.train_cfg.max_epochs == 70 and cfg.train_dataloader.batch_size == 64
    assert cfg.auto_scale_lr.base_batch_size == 512
    assert model.backbone.depth == 50 and model.backbone_mode == 'exact'
    assert model.neck.bn.momentum == 0.003 and model.neck.drop.p == 0.5
    assert model.head.fc.out_features == 8

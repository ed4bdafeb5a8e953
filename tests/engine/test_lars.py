"""LARS: MAE's util/lars.py update rule, checked against steps computed by hand."""
import pytest
import torch
from mmengine.optim import build_optim_wrapper
from torch import nn

from mmssl.engine.optimizers import LARS
from mmssl.utils import register_all_modules


def _step(optimizer, params, grads):
    for param, grad in zip(params, grads):
        param.grad = grad.clone()
    optimizer.step()


def test_two_steps_by_hand():
    # W = 5 * u with u = (0.6, 0.8); its gradient u is parallel to W, so every norm below is a sum of lengths.
    weight = nn.Parameter(torch.tensor([[3., 4.]], dtype=torch.float64))
    bias = nn.Parameter(torch.tensor([1.], dtype=torch.float64))
    unit = torch.tensor([[0.6, 0.8]], dtype=torch.float64)
    optimizer = LARS([weight, bias], lr=1., weight_decay=0.1, momentum=0.9, trust_coefficient=0.001)
    grads = [unit, torch.tensor([0.5], dtype=torch.float64)]
    _step(optimizer, [weight, bias], grads)
    # d = u + 0.1 W = 1.5 u; ratio = 0.001 * 5 / 1.5; step = 0.005 u. The bias: plain momentum SGD, no decay.
    torch.testing.assert_close(weight.data, 4.995 * unit)
    torch.testing.assert_close(bias.data, torch.tensor([0.5], dtype=torch.float64))
    _step(optimizer, [weight, bias], grads)
    # ||W|| = 4.995, d = 1.4995 u scaled to 0.001 * 4.995 = 0.004995 u; mu = 0.9 * 0.005 u + 0.004995 u.
    torch.testing.assert_close(weight.data, (4.995 - 0.009495) * unit)
    torch.testing.assert_close(bias.data, torch.tensor([0.5 - (0.9 * 0.5 + 0.5)], dtype=torch.float64))


def test_zero_weight_is_not_rescaled():
    weight = nn.Parameter(torch.zeros(2, 2))
    optimizer = LARS([weight], lr=0.5, weight_decay=0.)
    _step(optimizer, [weight], [torch.ones(2, 2)])
    torch.testing.assert_close(weight.data, torch.full((2, 2), -0.5))


def test_bad_setting_refused():
    with pytest.raises(ValueError, match='LARS: lr must be a number >= 0, got -1'):
        LARS([nn.Parameter(torch.zeros(1))], lr=-1)


def test_built_from_an_optim_wrapper_config():
    register_all_modules()
    model = nn.Linear(3, 2)
    wrapper = build_optim_wrapper(model, dict(type='OptimWrapper', optimizer=dict(type='LARS', lr=0.4)))
    assert isinstance(wrapper.optimizer, LARS) and wrapper.optimizer.param_groups[0]['trust_coefficient'] == 0.001

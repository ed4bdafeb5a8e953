"""LARS (layer-wise adaptive rate scaling) as the MAE linear probe trains its head with it."""
from typing import Iterable, Optional, Union

import torch

from mmssl.registry import OPTIMIZERS


@OPTIMIZERS.register_module()
class LARS(torch.optim.Optimizer):
    """SGD with momentum whose step of every parameter of two or more dimensions is rescaled by a trust ratio.

    The update rule of MAE's ``util/lars.py`` (taken there from MoCo v3), which ``main_linprobe.py`` uses for the
    linear head. For a parameter ``p`` with gradient ``g``:

    - ``p.ndim > 1`` (a weight matrix or kernel): ``d = g + weight_decay * p``, then
      ``d = d * trust_coefficient * ||p|| / ||d||``, unless ``||p||`` or ``||d||`` is 0 (then ``d`` is kept);
    - otherwise (biases, norm scales and shifts): ``d = g``, no weight decay and no scaling;
    - ``mu = momentum * mu + d`` (``mu`` starts at 0), ``p = p - lr * mu``.

    Unlike torch's SGD the momentum buffer starts at zero and adds ``d`` from the first step on (so the first
    step equals SGD's), there is no dampening and no Nesterov variant.

    Args:
        params: parameters or parameter groups, as every torch optimizer.
        lr: learning rate (MAE: base lr 0.1 x batch size / 256).
        weight_decay: added to the gradient of multi-dimensional parameters only (MAE's linear probe: 0).
        momentum: momentum factor.
        trust_coefficient: the trust ratio's factor (``eta`` of the LARS paper).
    """

    def __init__(self, params: Iterable[Union[torch.Tensor, dict]], lr: float = 0., weight_decay: float = 0.,
                 momentum: float = 0.9, trust_coefficient: float = 0.001):
        for name, value in (('lr', lr), ('weight_decay', weight_decay), ('momentum', momentum),
                            ('trust_coefficient', trust_coefficient)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f'LARS: {name} must be a number >= 0, got {value!r}')
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, trust_coefficient=trust_coefficient)
        super().__init__(params, defaults)

    @staticmethod
    def _direction(param: torch.Tensor, grad: torch.Tensor, group: dict) -> torch.Tensor:
        """The step direction before momentum: decayed and trust-scaled for multi-dimensional parameters."""
        if param.ndim <= 1:
            return grad
        direction = grad.add(param, alpha=group['weight_decay'])
        param_norm, update_norm = torch.norm(param), torch.norm(direction)
        # A zero norm on either side leaves the direction as it is (ratio 1) instead of dividing by zero.
        ratio = torch.where((param_norm > 0) & (update_norm > 0),
                            group['trust_coefficient'] * param_norm / update_norm.clamp_min(1e-30),
                            torch.ones_like(param_norm))
        return direction.mul(ratio)

    @torch.no_grad()
    def step(self, closure: Optional[callable] = None) -> Optional[torch.Tensor]:
        """One update of every parameter that has a gradient; ``closure`` (optional) re-evaluates the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for param in group['params']:
                if param.grad is None:
                    continue
                direction = self._direction(param, param.grad, group)
                state = self.state[param]
                if 'mu' not in state:
                    state['mu'] = torch.zeros_like(param)
                state['mu'].mul_(group['momentum']).add_(direction)
                param.add_(state['mu'], alpha=-group['lr'])
        return loss

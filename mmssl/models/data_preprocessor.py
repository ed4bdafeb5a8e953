from typing import Optional, Sequence

import torch
from mmengine.model import BaseDataPreprocessor

from mmssl.registry import MODELS


@MODELS.register_module()
class SelfSupDataPreprocessor(BaseDataPreprocessor):
    """Stack, convert BGR→RGB and normalise images or patch stacks.

    Accepts what :class:`~mmssl.datasets.transforms.PackInputs` produces: a list of B tensors of equal shape,
    (C, H, W) for images or (P, C, H, W) for P patches per sample, any dtype. Returns float tensors of shape
    (B, C, H, W) or (B, P, C, H, W).

    Args:
        mean, std: per-channel statistics in the model's channel order (RGB after conversion).
        to_rgb: swap the channel order; mmcv loads images as BGR.
    """

    def __init__(self,
                 mean: Optional[Sequence[float]] = (123.675, 116.28, 103.53),
                 std: Optional[Sequence[float]] = (58.395, 57.12, 57.375),
                 to_rgb: bool = True,
                 non_blocking: bool = False):
        super().__init__(non_blocking)
        if (mean is None) != (std is None):
            raise ValueError('SelfSupDataPreprocessor: give both mean and std, or neither')
        self.normalize = mean is not None
        if self.normalize:
            self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1), False)
            self.register_buffer('std', torch.tensor(std, dtype=torch.float32).view(-1, 1, 1), False)
        self.to_rgb = to_rgb

    def stack_inputs(self, inputs) -> torch.Tensor:
        if isinstance(inputs, torch.Tensor):
            return inputs
        shapes = {tuple(x.shape) for x in inputs}
        if len(shapes) != 1:
            raise ValueError(f'SelfSupDataPreprocessor: samples of one batch must have one shape, got {sorted(shapes)}'
                             '; add a crop or resize to a fixed size in the pipeline')
        return torch.stack(list(inputs))

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        batch = self.stack_inputs(data['inputs']).float()
        channels = batch.shape[-3]
        if self.to_rgb:
            if channels != 3:
                raise ValueError(f'SelfSupDataPreprocessor: to_rgb needs 3 channels, inputs have {channels}')
            batch = batch.flip(-3)
        if self.normalize:
            if self.mean.shape[0] not in (1, channels):
                raise ValueError(f'SelfSupDataPreprocessor: mean/std have {self.mean.shape[0]} values for '
                                 f'{channels}-channel inputs')
            batch = (batch - self.mean) / self.std
        return dict(inputs=batch, data_samples=data.get('data_samples'))

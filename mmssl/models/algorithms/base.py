from typing import List, Optional, Tuple, Union

import torch
from mmengine.model import BaseModel

from mmssl.registry import MODELS
from mmssl.structures import DataSample


class BaseSelfSupervisor(BaseModel):
    """Backbone + optional neck + optional head, with mmengine's three forward modes.

    ``forward(inputs, data_samples, mode)``:

    - ``'tensor'``: backbone taps of a batch of images (B, C, H, W) — what feature extraction uses;
    - ``'loss'``: dict of losses for a training step (subclasses implement :meth:`loss`);
    - ``'predict'``: the data samples with predictions, for validation metrics (subclasses that have one).

    Args:
        backbone, neck, head: configs built from ``MODELS``.
        data_preprocessor: defaults to :class:`SelfSupDataPreprocessor` with ImageNet statistics.
        init_cfg: initialisation of the whole algorithm.
    """

    def __init__(self,
                 backbone: dict,
                 neck: Optional[dict] = None,
                 head: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[dict, List[dict]]] = None):
        if data_preprocessor is None:
            data_preprocessor = dict(type='SelfSupDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck) if neck is not None else None
        self.head = MODELS.build(head) if head is not None else None

    def extract_feat(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Backbone taps for (B, C, H, W) images."""
        return self.backbone(inputs)

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor'):
        if mode == 'tensor':
            return self.extract_feat(inputs)
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        raise ValueError(f"{type(self).__name__}: mode must be 'tensor', 'loss' or 'predict', got {mode!r}")

    def loss(self, inputs: torch.Tensor, data_samples: List[DataSample]) -> dict:
        raise TypeError(f'{type(self).__name__} must implement loss()')

    def predict(self, inputs: torch.Tensor, data_samples: List[DataSample]) -> List[DataSample]:
        raise TypeError(f'{type(self).__name__} has no predict mode, so it cannot be validated; '
                        'remove val_dataloader/val_evaluator from the config')

import inspect
from typing import List, Optional, Tuple

import torch
from mmengine.model import BaseModel

from mmssl.registry import MODELS
from mmssl.structures import DataSample

from ..utils.taps import TapsMixin


def _takes_taps(head: dict) -> bool:
    """Whether the head that config ``head`` builds describes its inputs by their taps (a ``taps`` argument)."""
    head_type = head.get('type')
    head_cls = MODELS.get(head_type) if isinstance(head_type, str) else head_type
    return inspect.isclass(head_cls) and 'taps' in inspect.signature(head_cls).parameters


@MODELS.register_module()
class ImageClassifier(BaseModel):
    """Backbone + classification head for linear evaluation (frozen backbone) or fine-tuning.

    Inputs (B, C, H, W); labels are each sample's ``gt_label`` (one class index). The head is a
    :class:`ClsHead` (one set of logits; predictions in ``pred_score``) or a :class:`MultiClsHead`
    (``{head: logits}``; predictions in ``pred_scores``, so :class:`Accuracy` reports every head).

    With ``frozen_backbone=True`` the backbone runs in eval mode (BatchNorm uses its pre-trained statistics)
    without gradients and its parameters are excluded from training, as the linear-evaluation protocols
    require. With ``False`` the whole network trains; give the head a larger learning rate through
    ``optim_wrapper.paramwise_cfg.custom_keys={'head': dict(lr_mult=10)}``.

    Args:
        backbone: backbone config; its ``out_indices`` must be what the head expects.
        head: head config. A head with a ``taps`` argument (:class:`MultiClsHead`) that the config does not set
            gets the backbone's ``out_taps``.
        frozen_backbone: linear evaluation (True) or fine-tuning (False).
        data_preprocessor: defaults to :class:`SelfSupDataPreprocessor` (ImageNet statistics, BGR→RGB).
        init_cfg: e.g. ``dict(type='Pretrained', checkpoint=..., prefix='backbone.')`` on the backbone.
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 frozen_backbone: bool = True,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor or dict(type='SelfSupDataPreprocessor'),
                         init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        taps = isinstance(self.backbone, TapsMixin) and _takes_taps(head)
        self.head = MODELS.build(head, default_args=dict(taps=self.backbone.out_taps) if taps else None)
        self.frozen_backbone = frozen_backbone
        if frozen_backbone:
            self.backbone.requires_grad_(False)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.frozen_backbone:
            self.backbone.eval()
        return self

    def extract_feat(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        if self.frozen_backbone:
            with torch.no_grad():
                return self.backbone(inputs)
        return self.backbone(inputs)

    def forward(self, inputs: torch.Tensor, data_samples: Optional[List[DataSample]] = None, mode: str = 'tensor'):
        if mode == 'tensor':
            return self.head(self.extract_feat(inputs))
        if mode == 'loss':
            labels = torch.cat([sample.gt_label for sample in data_samples]).to(inputs.device)
            return self.head.loss(self.extract_feat(inputs), labels)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        raise ValueError(f"ImageClassifier: mode must be 'tensor', 'loss' or 'predict', got {mode!r}")

    def predict(self, inputs: torch.Tensor, data_samples: List[DataSample]) -> List[DataSample]:
        logits = self.head(self.extract_feat(inputs))
        if isinstance(logits, dict):
            scores = {name: value.softmax(dim=-1) for name, value in logits.items()}
            for i, sample in enumerate(data_samples):
                sample.set_field({name: value[i] for name, value in scores.items()}, 'pred_scores')
        else:
            for sample, score in zip(data_samples, logits.softmax(dim=-1)):
                sample.set_pred_score(score)
        return data_samples

from typing import List

import torch

from mmssl.models import BaseSelfSupervisor
from mmssl.registry import MODELS
from mmssl.structures import DataSample


@MODELS.register_module()
class RotationPred(BaseSelfSupervisor):
    """Predict which of 4 rotations was applied to an image.

    Inputs (B, 4, C, H, W) from :class:`RandomRotationStack`; the backbone runs on all 4B images and the head
    (e.g. ``ClsHead(with_avg_pool=True, num_classes=4)``) classifies each, with labels 0..3 per sample.
    """

    def loss(self, inputs: torch.Tensor, data_samples: List[DataSample]) -> dict:
        labels = torch.cat([sample.gt_label for sample in data_samples]).to(inputs.device)
        return self.head.loss(self.backbone(inputs.flatten(0, 1)), labels)

    def predict(self, inputs: torch.Tensor, data_samples: List[DataSample]) -> List[DataSample]:
        scores = self.head(self.backbone(inputs.flatten(0, 1))).softmax(dim=-1)
        for sample, sample_scores in zip(data_samples, scores.view(len(data_samples), 4, -1)):
            sample.set_pred_score(sample_scores)
        return data_samples

from typing import List, Optional, Tuple

import torch

from mmssl.datasets.transforms.relative_loc import CENTRE, NEIGHBOURS
from mmssl.registry import MODELS
from mmssl.structures import DataSample

from .base import BaseSelfSupervisor


@MODELS.register_module()
class RelativeLoc(BaseSelfSupervisor):
    """Relative-location prediction (Doersch et al., ICCV 2015): which of 8 positions a patch has around the centre.

    Inputs are patch stacks (B, 9, C, p, p) from :class:`RelativeLocPatches` (grid row-major, centre at 4); each
    sample gives 8 (centre, neighbour) pairs with labels 0..7. One shared backbone embeds every patch; the
    neck takes the two feature5 maps concatenated on channels, (8B, 2·C5, h, w); the head classifies 8 ways.

    Two equivalent ways to run the backbone:

    - ``'exact'`` (the OpenMMLab toolbox): the centre is repeated for each of its 8 pairs and the backbone runs
      once on the 8B centre copies and once on the 8B neighbours (16B patch forwards; BatchNorm statistics per
      call, as in the toolbox).
    - ``'dedup'``: the 9B distinct patches go through the backbone once and the pairs are built from the
      cached features (9B forwards, ~44% fewer backbone FLOPs; BatchNorm sees a different batch, so the
      training dynamics are close to but not identical with ``'exact'``).

    Args:
        backbone_mode: ``'exact'`` or ``'dedup'``.
        Other args as in :class:`BaseSelfSupervisor`.
    """

    def __init__(self, backbone: dict, neck: dict, head: dict, backbone_mode: str = 'exact',
                 data_preprocessor: Optional[dict] = None, init_cfg=None):
        if backbone_mode not in ('exact', 'dedup'):
            raise ValueError(f"RelativeLoc backbone_mode must be 'exact' or 'dedup', got {backbone_mode!r}")
        super().__init__(backbone, neck, head, data_preprocessor, init_cfg)
        self.backbone_mode = backbone_mode

    @staticmethod
    def _check_patches(inputs: torch.Tensor) -> None:
        if inputs.dim() != 5 or inputs.shape[1] != 9:
            raise ValueError(f'RelativeLoc expects patch stacks of shape (B, 9, C, p, p), got {tuple(inputs.shape)}; '
                             'use RelativeLocPatches in the pipeline')

    def _last_tap(self, patches: torch.Tensor) -> torch.Tensor:
        return self.backbone(patches)[-1]

    def pair_features(self, inputs: torch.Tensor) -> torch.Tensor:
        """(B, 9, C, p, p) patches → (8B, 2·C5, h, w) centre‖neighbour feature maps, pair-major per sample."""
        self._check_patches(inputs)
        batch = inputs.shape[0]
        num_pairs = len(NEIGHBOURS)
        neighbour_idx = torch.tensor(NEIGHBOURS, device=inputs.device)
        if self.backbone_mode == 'exact':
            centres = inputs[:, CENTRE:CENTRE + 1].expand(-1, num_pairs, -1, -1, -1).flatten(0, 1)
            neighbours = inputs[:, neighbour_idx].flatten(0, 1)
            centre_feats = self._last_tap(centres)
            neighbour_feats = self._last_tap(neighbours)
        else:
            feats = self._last_tap(inputs.flatten(0, 1))
            feats = feats.view(batch, 9, *feats.shape[1:])
            centre_feats = feats[:, CENTRE:CENTRE + 1].expand(-1, num_pairs, -1, -1, -1).flatten(0, 1)
            neighbour_feats = feats[:, neighbour_idx].flatten(0, 1)
        return torch.cat([centre_feats, neighbour_feats], dim=1)

    def pair_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """(B, 9, C, p, p) patches → (8B, 8) position logits."""
        return self.head(self.neck((self.pair_features(inputs), )))

    @staticmethod
    def _pair_labels(data_samples: List[DataSample]) -> torch.Tensor:
        return torch.cat([sample.gt_label for sample in data_samples])

    def loss(self, inputs: torch.Tensor, data_samples: List[DataSample]) -> dict:
        pair_embeddings = self.neck((self.pair_features(inputs), ))
        return self.head.loss(pair_embeddings, self._pair_labels(data_samples).to(inputs.device))

    def predict(self, inputs: torch.Tensor, data_samples: List[DataSample]) -> List[DataSample]:
        scores = self.pair_logits(inputs).softmax(dim=-1).view(len(data_samples), len(NEIGHBOURS), -1)
        for sample, sample_scores in zip(data_samples, scores):
            sample.set_pred_score(sample_scores)
        return data_samples

    def extract_feat(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Backbone taps of images (B, C, H, W), or of every patch of (B, 9, C, p, p) stacks (9B first dim)."""
        return self.backbone(inputs.flatten(0, 1) if inputs.dim() == 5 else inputs)

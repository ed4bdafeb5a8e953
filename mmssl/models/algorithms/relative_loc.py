from typing import List, Optional, Tuple

import torch

from mmssl.datasets.transforms.relative_loc import CENTRE, label_positions
from mmssl.registry import MODELS
from mmssl.structures import DataSample

from .base import BaseSelfSupervisor


@MODELS.register_module()
class RelativeLoc(BaseSelfSupervisor):
    """Relative-location prediction (Doersch et al., ICCV 2015): which of 8 positions a patch has around the centre.

    Inputs are patch stacks (B, 9, C, p, p) from :class:`RelativeLocPatches` (grid row-major, centre at 4); each
    sample gives 8 (neighbour, centre) pairs with labels 0..7. One shared backbone embeds every patch; the
    neck takes the two feature5 maps concatenated on channels, (8B, 2·C5, h, w); the head classifies 8 ways.

    Pair layout (what a checkpoint's neck and head weights mean):

    - ``pair_order='neighbour_first'`` (mmselfsup 0.x and 1.x: ``torch.cat((x1[0], x2[0]), dim=1)`` with x1 the
      neighbours) or ``'centre_first'`` (the paper's deepcontext ``train.py``, and mmssl checkpoints written
      before this option existed).
    - ``label_layout='1.x'``: label k is the k-th neighbour of mmselfsup 1.x's column-major cell walk
      (``NEIGHBOURS_1X``); ``'row_major'``: the k-th neighbour in row-major order (mmselfsup 0.x, the paper,
      and older mmssl checkpoints). Learning is the same up to a permutation of the classes; the layout only
      decides which head row is which position.

    Two equivalent ways to run the backbone:

    - ``'exact'`` (the OpenMMLab toolbox): the centre is repeated for each of its 8 pairs and the backbone runs
      once on the 8B neighbours and then once on the 8B centre copies (16B patch forwards; BatchNorm statistics
      per call, in the toolbox's call order).
    - ``'dedup'``: the 9B distinct patches go through the backbone once and the pairs are built from the
      cached features (9B forwards, ~44% fewer backbone FLOPs; BatchNorm sees a different batch, so the
      training dynamics are close to but not identical with ``'exact'``).

    Args:
        backbone_mode: ``'exact'`` or ``'dedup'``.
        pair_order: ``'neighbour_first'`` or ``'centre_first'``.
        label_layout: ``'1.x'`` or ``'row_major'``.
        Other args as in :class:`BaseSelfSupervisor`.
    """

    def __init__(self, backbone: dict, neck: dict, head: dict, backbone_mode: str = 'exact',
                 pair_order: str = 'neighbour_first', label_layout: str = '1.x',
                 data_preprocessor: Optional[dict] = None, init_cfg=None):
        if backbone_mode not in ('exact', 'dedup'):
            raise ValueError(f"RelativeLoc backbone_mode must be 'exact' or 'dedup', got {backbone_mode!r}")
        if pair_order not in ('neighbour_first', 'centre_first'):
            raise ValueError(f"RelativeLoc pair_order must be 'neighbour_first' or 'centre_first', got {pair_order!r}")
        super().__init__(backbone, neck, head, data_preprocessor, init_cfg)
        self.backbone_mode = backbone_mode
        self.pair_order = pair_order
        self.label_layout = label_layout
        self.neighbours = label_positions(label_layout)

    @staticmethod
    def _check_patches(inputs: torch.Tensor) -> None:
        if inputs.dim() != 5 or inputs.shape[1] != 9:
            raise ValueError(f'RelativeLoc expects patch stacks of shape (B, 9, C, p, p), got {tuple(inputs.shape)}; '
                             'use RelativeLocPatches in the pipeline')

    def _last_tap(self, patches: torch.Tensor) -> torch.Tensor:
        return self.backbone(patches)[-1]

    def pair_features(self, inputs: torch.Tensor) -> torch.Tensor:
        """(B, 9, C, p, p) patches → (8B, 2·C5, h, w) pair feature maps, sample-major, label order per sample.

        Channels are neighbour‖centre (``pair_order='neighbour_first'``) or centre‖neighbour.
        """
        self._check_patches(inputs)
        batch = inputs.shape[0]
        num_pairs = len(self.neighbours)
        neighbour_idx = torch.tensor(self.neighbours, device=inputs.device)
        if self.backbone_mode == 'exact':
            # mmselfsup 1.x RelativeLocDataPreprocessor / RelativeLoc.loss: neighbours first, then the centres.
            neighbours = inputs[:, neighbour_idx].flatten(0, 1)
            centres = inputs[:, CENTRE:CENTRE + 1].expand(-1, num_pairs, -1, -1, -1).flatten(0, 1)
            neighbour_feats = self._last_tap(neighbours)
            centre_feats = self._last_tap(centres)
        else:
            feats = self._last_tap(inputs.flatten(0, 1))
            feats = feats.view(batch, 9, *feats.shape[1:])
            centre_feats = feats[:, CENTRE:CENTRE + 1].expand(-1, num_pairs, -1, -1, -1).flatten(0, 1)
            neighbour_feats = feats[:, neighbour_idx].flatten(0, 1)
        if self.pair_order == 'neighbour_first':
            return torch.cat([neighbour_feats, centre_feats], dim=1)
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
        scores = self.pair_logits(inputs).softmax(dim=-1).view(len(data_samples), len(self.neighbours), -1)
        for sample, sample_scores in zip(data_samples, scores):
            sample.set_pred_score(sample_scores)
        return data_samples

    def extract_feat(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Backbone taps of images (B, C, H, W), or of every patch of (B, 9, C, p, p) stacks (9B first dim)."""
        return self.backbone(inputs.flatten(0, 1) if inputs.dim() == 5 else inputs)

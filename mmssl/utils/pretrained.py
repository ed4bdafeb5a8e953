from typing import Optional

from mmengine.config import Config

from .checkpoint import load_checkpoint_state_dict


def infer_backbone_prefix(checkpoint: str) -> Optional[str]:
    """``'backbone.'`` for a full pre-training checkpoint, ``None`` for a backbone-only file."""
    state_dict = load_checkpoint_state_dict(checkpoint)
    return 'backbone.' if any(key.startswith('backbone.') for key in state_dict) else None


def set_backbone_checkpoint(cfg: Config, checkpoint: Optional[str], min_match_ratio: float = 0.9) -> Config:
    """Point ``cfg.model.backbone`` at a pre-trained checkpoint (full or backbone-only), or at none.

    The load is the checked one (``Pretrained`` in the mmssl scope): it fails when fewer than
    ``min_match_ratio`` of the backbone's keys are found. ``checkpoint=None`` keeps a random initialisation
    (the baseline row of benchmark tables).
    """
    backbone = cfg.model.backbone
    if checkpoint is None:
        backbone.pop('init_cfg', None)
        return cfg
    backbone.init_cfg = dict(type='Pretrained', checkpoint=checkpoint, prefix=infer_backbone_prefix(checkpoint),
                             min_match_ratio=min_match_ratio)
    return cfg

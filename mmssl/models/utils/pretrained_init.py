from typing import Optional

from mmssl.registry import WEIGHT_INITIALIZERS
from mmssl.utils.checkpoint import load_checkpoint_checked


@WEIGHT_INITIALIZERS.register_module(name='Pretrained')
class CheckedPretrainedInit:
    """``init_cfg=dict(type='Pretrained', checkpoint=..., prefix=...)`` that refuses a checkpoint that does not fit.

    Same config keys as mmengine's ``PretrainedInit``, which it shadows inside the ``mmssl`` scope, plus
    ``min_match_ratio``: mmengine loads with ``strict=False`` and only warns, so a full algorithm checkpoint
    given without ``prefix='backbone.'`` silently leaves the network random. Here it raises instead.
    """

    def __init__(self, checkpoint: str, prefix: Optional[str] = None, map_location: str = 'cpu',
                 min_match_ratio: float = 0.9):
        self.checkpoint = checkpoint
        self.prefix = prefix
        self.min_match_ratio = min_match_ratio

    def __call__(self, module):
        load_checkpoint_checked(module, self.checkpoint, prefix=self.prefix, min_match_ratio=self.min_match_ratio)

    def _get_init_info(self):
        return f'{self.__class__.__name__}: load from {self.checkpoint}'

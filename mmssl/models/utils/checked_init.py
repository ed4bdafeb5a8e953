"""Weight initialisers of the ``mmssl`` scope that every benchmark backbone goes through.

``Pretrained`` shadows mmengine's initialiser of that name inside the ``mmssl`` scope and loads through the one
checked loader (:mod:`mmssl.utils.checkpoint`); ``SeededRandom`` draws the seeded random backbone of a baseline
row, the same network that :func:`mmssl.utils.init_random_backbone` gives the feature-extraction benchmarks.
"""
from typing import Optional

import torch

from mmssl.constants import RANDOM_INIT_SEED
from mmssl.registry import WEIGHT_INITIALIZERS
from mmssl.utils.checkpoint import load_backbone


@WEIGHT_INITIALIZERS.register_module(name='Pretrained')
class CheckedPretrainedInit:
    """``init_cfg=dict(type='Pretrained', checkpoint=..., prefix=...)`` on a ResNet backbone: loads a checkpoint of
    any supported layout and refuses one that does not fit (:func:`mmssl.utils.load_backbone`).

    Same config keys as mmengine's ``PretrainedInit``, plus ``checkpoint_format`` / ``key_path`` (layout overrides)
    and ``min_match_ratio``: mmengine loads with ``strict=False`` and only warns, so a full algorithm checkpoint
    given without ``prefix='backbone.'`` silently leaves the network random. Here the layout is detected, and a
    checkpoint that does not fit raises instead.
    """

    def __init__(self, checkpoint: str, prefix: Optional[str] = None, map_location: str = 'cpu',
                 min_match_ratio: float = 0.9, checkpoint_format: Optional[str] = None,
                 key_path: Optional[str] = None):
        self.checkpoint = checkpoint
        self.options = dict(prefix=prefix, checkpoint_format=checkpoint_format, key_path=key_path,
                            min_match_ratio=min_match_ratio)

    def __call__(self, module):
        load_backbone(module, self.checkpoint, **self.options)

    def _get_init_info(self):
        return f'{self.__class__.__name__}: load from {self.checkpoint}'


@WEIGHT_INITIALIZERS.register_module(name='SeededRandom')
class SeededRandomInit:
    """``init_cfg=dict(type='SeededRandom', seed=0)``: the module's own default initialisation drawn from ``seed``.

    The global random state is left as it was, so the baseline backbone does not depend on the Runner's seed or
    on what was initialised before it.
    """

    def __init__(self, seed: int = RANDOM_INIT_SEED):
        self.seed = seed

    def __call__(self, module):
        init_cfg, module.init_cfg = module.init_cfg, None
        try:
            with torch.random.fork_rng():
                torch.manual_seed(self.seed)
                module.init_weights()
        finally:
            module.init_cfg = init_cfg

    def _get_init_info(self):
        return f'{self.__class__.__name__}: default initialisation drawn from seed {self.seed}'

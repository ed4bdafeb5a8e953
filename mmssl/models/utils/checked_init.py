"""Weight initialisers of the ``mmssl`` scope that every benchmark backbone goes through.

``Pretrained`` shadows mmengine's initialiser of that name inside the ``mmssl`` scope and loads through the one
checked loader (:mod:`mmssl.utils.checkpoint`); ``SeededRandom`` draws the seeded random backbone of a baseline
row, the same network that :meth:`mmssl.utils.BackboneWeights.load_into` gives the feature-extraction benchmarks.
Both can write the :class:`~mmssl.utils.LoadReport` of what they did to a JSON file (``report_file``): the Runner
initialises the model in its own process(es), and the benchmark reads that file back for its result record.
"""
from typing import Optional

import torch

from mmssl.constants import RANDOM_INIT_SEED
from mmssl.registry import WEIGHT_INITIALIZERS
from mmssl.utils.checkpoint import BackboneWeights, LoadReport, write_load_report

__all__ = ['CheckedPretrainedInit', 'SeededRandomInit']


@WEIGHT_INITIALIZERS.register_module(name='Pretrained')
class CheckedPretrainedInit:
    """``init_cfg=dict(type='Pretrained', checkpoint=..., prefix=...)`` on a ResNet backbone: loads a checkpoint of
    any supported layout and refuses one that does not fit (:meth:`mmssl.utils.BackboneWeights.load_into`).

    Same config keys as mmengine's ``PretrainedInit``, plus ``checkpoint_format`` / ``key_path`` (layout overrides),
    ``min_match_ratio`` and ``report_file`` (where the main process writes the load report, JSON): mmengine loads
    with ``strict=False`` and only warns, so a full algorithm checkpoint given without ``prefix='backbone.'``
    silently leaves the network random. Here the layout is detected, and a checkpoint that does not fit raises
    instead.
    """

    def __init__(self, checkpoint: str, prefix: Optional[str] = None, map_location: str = 'cpu',
                 min_match_ratio: float = 0.9, checkpoint_format: Optional[str] = None,
                 key_path: Optional[str] = None, report_file: Optional[str] = None):
        self.checkpoint = checkpoint
        self.options = dict(prefix=prefix, checkpoint_format=checkpoint_format, key_path=key_path)
        self.min_match_ratio = min_match_ratio
        self.report_file = report_file

    def __call__(self, module):
        weights = BackboneWeights.from_checkpoint(self.checkpoint, **self.options)
        write_load_report(weights.load_into(module, self.min_match_ratio), self.report_file)

    def _get_init_info(self):
        return f'{self.__class__.__name__}: load from {self.checkpoint}'


@WEIGHT_INITIALIZERS.register_module(name='SeededRandom')
class SeededRandomInit:
    """``init_cfg=dict(type='SeededRandom', seed=0)``: the module's own default initialisation drawn from ``seed``.

    The global random state is left as it was, so the baseline backbone does not depend on the Runner's seed or
    on what was initialised before it. ``report_file``: where the main process writes the load report (JSON).
    """

    def __init__(self, seed: int = RANDOM_INIT_SEED, report_file: Optional[str] = None):
        self.seed = seed
        self.report_file = report_file

    def __call__(self, module):
        init_cfg, module.init_cfg = module.init_cfg, None
        try:
            with torch.random.fork_rng():
                torch.manual_seed(self.seed)
                module.init_weights()
        finally:
            module.init_cfg = init_cfg
        write_load_report(LoadReport.random_init(self.seed), self.report_file)

    def _get_init_info(self):
        return f'{self.__class__.__name__}: default initialisation drawn from seed {self.seed}'

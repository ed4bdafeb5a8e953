"""Linear evaluation / fine-tuning benchmark (``linear``): train a head (or the whole network) with the Runner.

The multi-head configs (``MultiClsHead``) report top-1 / top-5 per head (``accuracy/feature1/top1`` …
``accuracy/avgpool/top1``); single-head configs report ``accuracy/top1``, which the tables show in the AvgPool
column (a single-head linear benchmark classifies the global-average-pooled feature5).
"""
import re
from typing import Optional

from mmengine.config import Config

from mmssl.apis.train import add_train_options, apply_train_options, split_timing, train
from mmssl.registry import BENCHMARKS

from .base import Benchmark
from .protocol import LAYERS, RANDOM_INIT_SEED

_HEAD_TOP1 = re.compile(r'accuracy/(?:(?P<head>feature[1-5]|avgpool)/)?top1')


def set_backbone_checkpoint(cfg: Config, checkpoint: Optional[str], checkpoint_format: Optional[str] = None,
                            prefix: Optional[str] = None, key_path: Optional[str] = None) -> Config:
    """Point ``cfg.model.backbone`` at a pre-trained checkpoint of any supported layout, or at the seeded random
    backbone of the baseline row (``None``).

    The load is the checked one (``Pretrained`` in the mmssl scope, :func:`mmssl.utils.load_backbone`); the random
    backbone is ``SeededRandom``, the same network that the feature-extraction benchmarks evaluate. A ``prefix`` /
    ``key_path`` that the config's own ``init_cfg`` sets is kept unless one is given here.
    """
    backbone = cfg.model.backbone
    if checkpoint is None:
        backbone.init_cfg = dict(type='SeededRandom', seed=RANDOM_INIT_SEED)
        return cfg
    own = backbone.get('init_cfg') or {}
    backbone.init_cfg = dict(type='Pretrained', checkpoint=checkpoint, checkpoint_format=checkpoint_format,
                             prefix=prefix or own.get('prefix'), key_path=key_path or own.get('key_path'))
    return cfg


@BENCHMARKS.register_module()
class LinearEval(Benchmark):
    """Linear evaluation (frozen backbone) or fine-tuning, with the config's schedule.

    Metrics: the last validation metrics (``accuracy/<head>/top1`` …); loop timings go to ``extra``.
    """
    name = 'linear'
    record_name = 'linear_eval'
    title = 'Linear evaluation / fine-tuning'
    task = 'Linear Evaluation'
    columns = tuple((layer.capitalize(), layer) for layer in LAYERS) + (('AvgPool', 'avgpool'), )

    @classmethod
    def add_arguments(cls, parser):
        add_train_options(parser)

    @classmethod
    def table_metrics(cls, metrics):
        mapped = {}
        for name, value in metrics.items():
            match = _HEAD_TOP1.fullmatch(name)
            if match:
                mapped[match['head'] or 'avgpool'] = value
        return mapped

    def run(self, cfg, checkpoint, work_dir, pretrain_config=None, launcher='none', resume=None, amp=False,
            auto_scale_lr=False, no_validate=False):
        apply_train_options(cfg, work_dir, resume, amp, auto_scale_lr, no_validate, launcher)
        metrics, timing = split_timing(train(set_backbone_checkpoint(cfg, checkpoint, **self.checkpoint_options)))
        self.write_record(cfg.work_dir, metrics, cfg, checkpoint, pretrain_config=pretrain_config,
                          seeds=dict(cfg.get('randomness', {})), extra=dict(timing=timing))
        return metrics

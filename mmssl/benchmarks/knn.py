"""kNN benchmark (``knn``): weighted k-nearest-neighbour classification of one frozen, globally pooled tap
(``knn.tap``: feature5 by default, a ViT's class token ``cls_last1``).

The features of both splits are written to the work dir with a ``meta.json`` recording their identity
(:mod:`mmssl.evaluation.folder_identity`); a later run reuses them only for the same weights read the same way, the
same resolved config and the same list files, and refuses any other unless ``--recompute``.
"""
from typing import Optional

import numpy as np
import torch
from mmengine.dist import is_main_process

from mmssl.constants import KNN_KS, KNN_TEMPERATURE
from mmssl.evaluation import knn_classify
from mmssl.evaluation.feature_folder import ensure_feature_folder, feature_path, open_features, read_meta
from mmssl.evaluation.folder_identity import identity_record
from mmssl.registry import BENCHMARKS, DATASETS
from mmssl.utils import BackboneWeights, init_distributed, teardown_distributed

from .base import Benchmark
from .feature_extraction import add_amp_argument, as_weights, extract_feature_splits, feature_source, use_amp

KNN_SPLITS = ('train', 'val')
#: The tap kNN reads when the config's ``knn`` dict names none (a ResNet's last stage).
KNN_LAYER = 'feature5'


def _labels(dataloader_cfg: dict) -> tuple:
    dataset = DATASETS.build(dataloader_cfg['dataset'])
    return torch.as_tensor(dataset.get_gt_labels(), dtype=torch.long), dataset.metainfo['classes']


def knn_settings(cfg) -> tuple:
    """``(ks, temperature)`` of the config's ``knn`` dict, checked before any work: every k a positive integer,
    the temperature a positive number; the error names the config file and key."""
    knn_cfg = cfg.get('knn', {})
    ks, temperature = knn_cfg.get('ks', KNN_KS), knn_cfg.get('temperature', KNN_TEMPERATURE)
    ks = [ks] if isinstance(ks, int) else ks
    if (not isinstance(ks, (list, tuple)) or not ks
            or not all(isinstance(k, int) and not isinstance(k, bool) and k >= 1 for k in ks)):
        raise ValueError(f'{cfg.filename}: knn.ks must be a non-empty list of integers >= 1, got {ks!r}')
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature > 0:
        raise ValueError(f'{cfg.filename}: knn.temperature must be a number > 0, got {temperature!r}')
    return list(ks), float(temperature)


def knn_tap(cfg) -> str:
    """The backbone tap of the config's ``knn.tap`` (default :data:`KNN_LAYER`); anything but a name is refused,
    naming the config (an unknown name is refused by the backbone, with its taps, before extraction)."""
    tap = cfg.get('knn', {}).get('tap', KNN_LAYER)
    if not isinstance(tap, str) or not tap:
        raise ValueError(f'{cfg.filename}: knn.tap must be the name of one backbone tap, got {tap!r}')
    return tap


def _folder_source(feature_dir: str) -> dict:
    """What a feature folder's ``meta.json`` records of its extraction."""
    return read_meta(feature_dir).get('source') or {}


@BENCHMARKS.register_module()
class KNN(Benchmark):
    """kNN evaluation of a frozen backbone (a global-average-pooled tap, cosine similarity, Wu et al. 2018).

    The config holds ``model.backbone`` (and optionally ``model.data_preprocessor``), a labelled
    ``train_dataloader`` (the neighbours) and ``val_dataloader`` (the queries), both with test-time pipelines,
    and ``knn=dict(ks=..., temperature=..., tap=...)`` (``tap`` default ``feature5``). Features are written to the
    work dir and reused by a later run on the same checkpoint and config.

    Metrics: ``k<k>/top1`` and ``k<k>/top5`` (%).
    """
    name = 'knn'
    record_name = 'knn'
    title = 'k-nearest-neighbour classification'
    task = 'kNN'
    columns = tuple((f'k={k}', f'k{k}') for k in KNN_KS)

    @classmethod
    def add_arguments(cls, parser):
        add_amp_argument(parser)

    @classmethod
    def table_metrics(cls, metrics):
        return {name[:-len('/top1')]: value for name, value in metrics.items() if name.endswith('/top1')}

    def run(self, cfg, weights, work_dir, pretrain_config=None, launcher='none', recompute=False, amp=False):
        use_amp(cfg, amp)
        ks, temperature = knn_settings(cfg)
        tap = knn_tap(cfg)
        device = init_distributed(cfg, launcher)
        try:
            metrics = self.evaluate(cfg, weights, work_dir, device, recompute)
        finally:
            teardown_distributed()
        source = _folder_source(work_dir)
        identity = {key: value for key, value in identity_record(source).items() if key != 'config'}
        # kNN itself draws nothing at random; a random backbone is drawn from a fixed seed.
        self.write_record(work_dir, metrics, cfg, weights, source.get('checkpoint_load'),
                          pretrain_config=pretrain_config, seeds=dict(cfg.get('randomness', {})),
                          extra=dict(ks=ks, temperature=temperature, tap=tap, **identity))
        return metrics

    def evaluate(self, cfg, weights: BackboneWeights, work_dir: str, device: str = 'cpu',
                 recompute: bool = False) -> dict:
        """Extract both splits (unless the work dir holds them for these weights and config) and classify; the
        metrics on the main process, an empty dict elsewhere."""
        ks, temperature = knn_settings(cfg)
        tap = knn_tap(cfg)
        weights = as_weights(weights)
        source = feature_source(cfg, weights, KNN_SPLITS, pooling='global')
        if ensure_feature_folder(work_dir, source, [tap], KNN_SPLITS, recompute=recompute) == 'extract':
            self.extract(cfg, weights, work_dir, device, source)
        if not is_main_process():
            return {}
        train_labels, classes = _labels(cfg.train_dataloader)
        val_labels, _ = _labels(cfg.val_dataloader)
        features = {}
        for split, labels in zip(KNN_SPLITS, (train_labels, val_labels)):
            path = feature_path(work_dir, split, tap)
            features[split] = torch.from_numpy(np.array(open_features(path)))
            if len(features[split]) != len(labels):
                raise ValueError(f'{path} has {len(features[split])} rows but the {split} data set has {len(labels)} '
                                 'samples; pass --recompute to extract the features again')
        return knn_classify(features['train'], train_labels, features['val'], val_labels, len(classes), ks=ks,
                            temperature=temperature)

    def extract(self, cfg, weights: BackboneWeights, work_dir: str, device: str = 'cpu',
                source: Optional[dict] = None) -> None:
        """Write both splits' features into ``work_dir`` (the free space of both checked first), then ``meta.json``
        (the mark of a complete folder: ``source``, the folder's identity, default :func:`feature_source`, and
        the report of the load)."""
        source = source or feature_source(cfg, weights, KNN_SPLITS, pooling='global')
        extract_feature_splits(cfg, weights, work_dir, [knn_tap(cfg)], KNN_SPLITS, source, 'global', device)

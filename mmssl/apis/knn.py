import os.path as osp
from typing import Dict, Optional

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dist import is_main_process
from mmengine.registry import DATASETS

from mmssl.evaluation import knn_classify

from .feature_extraction import FeatureExtractor, extract_features, load_backbone


def _labels(dataloader_cfg: dict) -> tuple:
    dataset = DATASETS.build(dataloader_cfg['dataset'])
    labels = [dataset.get_data_info(i).get('gt_label') for i in range(len(dataset))]
    if any(label is None for label in labels):
        raise ValueError(f"kNN needs a labelled data set; {dataloader_cfg['dataset']['type']} gave samples without "
                         'gt_label')
    return torch.as_tensor(np.asarray(labels), dtype=torch.long), len(dataset.metainfo['classes'])


def run_knn(cfg: Config, checkpoint: Optional[str], work_dir: str, device: str = 'cpu') -> Dict[str, float]:
    """kNN evaluation of a frozen backbone (global-average-pooled feature5, cosine similarity).

    ``cfg`` holds ``model.backbone`` (and optionally ``model.data_preprocessor``), a labelled
    ``train_dataloader`` (the neighbours) and ``val_dataloader`` (the queries), both with test-time pipelines,
    and ``knn=dict(ks=..., temperature=...)``. ``checkpoint`` is a full or backbone-only file, or ``None`` for a
    random backbone. Features are written to ``work_dir``; the metrics are returned on the main process (an
    empty dict elsewhere); ``tools/benchmarks/classification/knn.py`` turns them into a result record.
    """
    extractor = FeatureExtractor(cfg.model.backbone, ['feature5'], cfg.model.get('data_preprocessor'),
                                 pooling='global')
    load_backbone(extractor, checkpoint)
    paths = {split: extract_features(extractor, cfg[f'{split}_dataloader'], osp.join(work_dir, split),
                                     device)['feature5'] for split in ('train', 'val')}
    if not is_main_process():
        return {}
    train_labels, num_classes = _labels(cfg.train_dataloader)
    val_labels, _ = _labels(cfg.val_dataloader)
    knn_cfg = cfg.get('knn', {})
    return knn_classify(torch.from_numpy(np.load(paths['train'])), train_labels,
                        torch.from_numpy(np.load(paths['val'])), val_labels, num_classes,
                        ks=knn_cfg.get('ks', (10, 20, 100, 200)), temperature=knn_cfg.get('temperature', 0.07))

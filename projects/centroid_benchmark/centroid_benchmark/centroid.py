"""A benchmark defined outside mmssl: nearest-class-centroid accuracy of frozen, globally pooled feature5.

The worked example of docs/en/add_new_benchmark.md. Each class is represented by the L2-normalised mean of its
training features; a validation image is assigned to the class whose centroid is most similar (cosine).
"""
import numpy as np

from mmssl.benchmarks.base import Benchmark
from mmssl.benchmarks.feature_extraction import FeatureExtractor, extract_features
from mmssl.evaluation.feature_folder import l2_normalize
from mmssl.registry import BENCHMARKS, DATASETS


def class_labels(dataloader_cfg: dict) -> np.ndarray:
    """(N, ) int64 class index of every image of the loader's data set, in dataset order."""
    dataset = DATASETS.build(dataloader_cfg['dataset'])
    return np.asarray([dataset.get_data_info(i)['gt_label'] for i in range(len(dataset))], dtype=np.int64)


@BENCHMARKS.register_module()
class NearestCentroid(Benchmark):
    """Nearest-centroid classification; the config names ``model.backbone``, ``train_dataloader`` (the centroids)
    and ``val_dataloader`` (the queries). Metrics: ``top1`` (%)."""
    name = 'centroid'
    record_name = 'nearest_centroid'
    title = 'Nearest-centroid classification'
    task = 'Nearest Centroid'
    columns = (('Top-1', 'top1'), )

    def run(self, cfg, weights, work_dir, pretrain_config=None, launcher='none'):
        extractor = FeatureExtractor(cfg.model.backbone, ['feature5'], cfg.model.get('data_preprocessor'),
                                     pooling='global')
        load_report = weights.load_into(extractor.backbone)  # any layout, checked; or the seeded random backbone
        features = {split: np.load(extract_features(extractor, cfg[f'{split}_dataloader'], work_dir,
                                                    split)['feature5'])
                    for split in ('train', 'val')}
        train_labels, val_labels = class_labels(cfg.train_dataloader), class_labels(cfg.val_dataloader)
        classes = np.unique(train_labels)
        centroids = l2_normalize(np.stack([features['train'][train_labels == c].mean(axis=0) for c in classes]))
        predicted = classes[np.argmax(features['val'] @ centroids.T, axis=1)]
        metrics = {'top1': 100.0 * float(np.mean(predicted == val_labels))}
        self.write_record(work_dir, metrics, cfg, weights, load_report, pretrain_config=pretrain_config)
        return metrics

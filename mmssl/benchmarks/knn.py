"""kNN benchmark (``knn``): weighted k-nearest-neighbour classification of frozen, globally pooled feature5."""
import numpy as np
import torch
from mmengine.dist import is_main_process

from mmssl.evaluation import knn_classify
from mmssl.registry import BENCHMARKS, DATASETS
from mmssl.utils import init_distributed, teardown_distributed

from .base import Benchmark
from .feature_extraction import FeatureExtractor, extract_features
from .protocol import KNN_KS, KNN_TEMPERATURE


def _labels(dataloader_cfg: dict) -> tuple:
    dataset = DATASETS.build(dataloader_cfg['dataset'])
    labels = [dataset.get_data_info(i).get('gt_label') for i in range(len(dataset))]
    if any(label is None for label in labels):
        raise ValueError(f"kNN needs a labelled data set; {dataloader_cfg['dataset']['type']} gave samples without "
                         'gt_label')
    return torch.as_tensor(np.asarray(labels), dtype=torch.long), len(dataset.metainfo['classes'])


@BENCHMARKS.register_module()
class KNN(Benchmark):
    """kNN evaluation of a frozen backbone (global-average-pooled feature5, cosine similarity, Wu et al. 2018).

    The config holds ``model.backbone`` (and optionally ``model.data_preprocessor``), a labelled
    ``train_dataloader`` (the neighbours) and ``val_dataloader`` (the queries), both with test-time pipelines,
    and ``knn=dict(ks=..., temperature=...)``. Features are written to the work dir.

    Metrics: ``k<k>/top1`` and ``k<k>/top5`` (%).
    """
    name = 'knn'
    record_name = 'knn'
    title = 'k-nearest-neighbour classification'
    task = 'kNN'
    columns = tuple((f'k={k}', f'k{k}') for k in KNN_KS)

    @classmethod
    def table_metrics(cls, metrics):
        return {name[:-len('/top1')]: value for name, value in metrics.items() if name.endswith('/top1')}

    def run(self, cfg, checkpoint, work_dir, pretrain_config=None, launcher='none'):
        device = init_distributed(cfg, launcher)
        try:
            metrics = self.evaluate(cfg, checkpoint, work_dir, device)
        finally:
            teardown_distributed()
        knn_cfg = cfg.get('knn', {})
        # kNN itself draws nothing at random; a random backbone is drawn from a fixed seed.
        self.write_record(work_dir, metrics, cfg, checkpoint, pretrain_config=pretrain_config,
                          seeds=dict(cfg.get('randomness', {})),
                          extra=dict(ks=list(knn_cfg.get('ks', KNN_KS)),
                                     temperature=knn_cfg.get('temperature', KNN_TEMPERATURE)))
        return metrics

    def evaluate(self, cfg, checkpoint, work_dir: str, device: str = 'cpu') -> dict:
        """Extract both splits and classify; the metrics on the main process, an empty dict elsewhere."""
        extractor = FeatureExtractor(cfg.model.backbone, ['feature5'], cfg.model.get('data_preprocessor'),
                                     pooling='global')
        self.load_backbone(extractor.backbone, checkpoint)
        paths = {split: extract_features(extractor, cfg[f'{split}_dataloader'], work_dir, split, device)['feature5']
                 for split in ('train', 'val')}
        if not is_main_process():
            return {}
        train_labels, num_classes = _labels(cfg.train_dataloader)
        val_labels, _ = _labels(cfg.val_dataloader)
        knn_cfg = cfg.get('knn', {})
        return knn_classify(torch.from_numpy(np.load(paths['train'])), train_labels,
                            torch.from_numpy(np.load(paths['val'])), val_labels, num_classes,
                            ks=knn_cfg.get('ks', KNN_KS), temperature=knn_cfg.get('temperature', KNN_TEMPERATURE))

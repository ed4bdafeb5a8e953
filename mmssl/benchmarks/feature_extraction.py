"""Frozen-backbone feature extraction for the SVM and kNN benchmarks.

Every tap is average-pooled (the benchmark pooling for the SVMs, a global pool for kNN), flattened and
L2-normalised (:func:`mmssl.evaluation.svm.features.l2_normalize`), then written as float32 rows into the feature
folder (:mod:`mmssl.evaluation.svm.features`) at the sample's dataset index. Each process writes its own rows into
the same memory-mapped files, so distributed extraction lands in dataset order without gathering gigabytes of
features in memory (the output folder must be shared by all processes, as work dirs are).
"""
import os
import os.path as osp
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.dist import barrier, get_dist_info, is_main_process
from mmengine.utils import ProgressBar
from torch.utils.data import DataLoader

from mmssl.constants import RANDOM_INIT_SEED
from mmssl.evaluation.svm.features import (META_FILE, SPLITS, checkpoint_source, create_feature_files, describe_weights,
                                           feature_path, l2_normalize, open_features, read_meta, weights_identity,
                                           write_labels, write_meta)
from mmssl.models.utils.taps import require_taps
from mmssl.registry import DATA_SAMPLERS, DATASETS, MODELS
from mmssl.utils import load_backbone

__all__ = ['FeatureExtractor', 'extract_features', 'extract_split', 'extract_svm_features', 'features_mismatch',
           'stale_features_message']


class FeatureExtractor(torch.nn.Module):
    """Backbone taps → pooling → flatten → L2 normalisation, one (N, D) tensor per layer.

    Args:
        backbone: backbone config; the built backbone declares its taps (:class:`mmssl.models.utils.TapsMixin`)
            and returns the requested layers.
        layers: names of the backbone's taps (``feature1`` … ``feature5`` on a ResNet).
        data_preprocessor: config of the normalisation (ImageNet statistics by default).
        pooling: ``'benchmark'`` (the SVM / linear-probe pooling the tap declares, its ``'specified'`` pooling)
            or ``'global'`` (average over all positions: one value per channel, as kNN evaluation uses).
    """

    def __init__(self, backbone: dict, layers: Sequence[str], data_preprocessor: Optional[dict] = None,
                 pooling: str = 'benchmark'):
        super().__init__()
        if pooling not in ('benchmark', 'global'):
            raise ValueError(f"pooling must be 'benchmark' or 'global', got {pooling!r}")
        self.layers = tuple(layers)
        self.backbone = MODELS.build(backbone)
        taps = require_taps(self.backbone).select_taps(self.layers, what='layer')
        self.pools = torch.nn.ModuleList(tap.pooling('specified' if pooling == 'benchmark' else 'global')
                                         for tap in taps)
        self.data_preprocessor = MODELS.build(data_preprocessor or dict(type='SelfSupDataPreprocessor'))

    @torch.no_grad()
    def forward(self, data: dict) -> Dict[str, torch.Tensor]:
        inputs = self.data_preprocessor(data)['inputs']
        return {layer: l2_normalize(torch.flatten(pool(tap), 1))
                for layer, pool, tap in zip(self.layers, self.pools, self.backbone(inputs))}


def _build_loader(dataloader_cfg: dict, dataset=None) -> DataLoader:
    cfg = dict(dataloader_cfg)
    dataset_cfg = cfg.pop('dataset')
    dataset = DATASETS.build(dataset_cfg) if dataset is None else dataset
    sampler = DATA_SAMPLERS.build(dict(type='DefaultSampler', shuffle=False), default_args=dict(dataset=dataset))
    return DataLoader(dataset, batch_size=cfg.get('batch_size', 32), sampler=sampler,
                      num_workers=cfg.get('num_workers', 0), collate_fn=pseudo_collate)


def _labels_and_ids(dataset) -> tuple:
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    labels = np.stack([np.asarray(info['gt_label'], dtype=np.int8) for info in infos])
    ids = [str(info.get('img_id', osp.splitext(osp.basename(info['img_path']))[0])) for info in infos]
    return labels, ids


def extract_features(extractor: FeatureExtractor, dataloader_cfg: dict, out_dir: str, split: str,
                     device: str = 'cpu', dataset=None) -> Dict[str, str]:
    """Run ``extractor`` over a data set; row i of ``out_dir/{split}_{layer}.npy`` is sample i. Returns the paths.

    All processes write their rows into the same memory-mapped files (created by rank 0), so distributed
    extraction needs no gathering and the rows end up in dataset order.
    """
    loader = _build_loader(dataloader_cfg, dataset)  # ``dataset``: the loader's data set, when already built
    dataset = loader.dataset
    extractor = extractor.to(device).eval()
    probe = extractor(pseudo_collate([dataset[0]]))
    if is_main_process():
        shapes = {layer: (len(dataset), probe[layer].shape[1]) for layer in extractor.layers}
        create_feature_files(out_dir, split, shapes)  # space checked and allocated before any row is written
    barrier()
    paths = {layer: feature_path(out_dir, split, layer) for layer in extractor.layers}
    outputs = {layer: np.load(path, mmap_mode='r+') for layer, path in paths.items()}
    rank, world_size = get_dist_info()
    progress = ProgressBar(len(dataset)) if rank == 0 else None
    for data in loader:
        rows = [sample.sample_idx for sample in data['data_samples']]
        for layer, features in extractor(data).items():
            outputs[layer][rows] = features.cpu().numpy()
        if progress is not None:
            progress.update(len(rows) * world_size)
    for array in outputs.values():
        array.flush()
    barrier()
    return paths


def extract_split(extractor: FeatureExtractor, dataloader_cfg: dict, split: str, out_dir: str,
                  device: str = 'cpu', prepared: Optional[tuple] = None) -> list:
    """Extract one labelled split (features, labels, ids) into the SVM feature folder ``out_dir``.

    Args:
        prepared: ``(dataset, labels, ids)`` to extract instead of the config's data set and its ``gt_label``
            vectors (e.g. a subset of a list in another label encoding).

    Returns:
        list: the data set's class names (for ``meta.json``).
    """
    dataset = DATASETS.build(dataloader_cfg['dataset']) if prepared is None else prepared[0]
    if is_main_process():
        write_labels(out_dir, split, *(_labels_and_ids(dataset) if prepared is None else prepared[1:]))
    extract_features(extractor, dataloader_cfg, out_dir, split, device, dataset)
    return dataset.metainfo['classes']


def extract_svm_features(cfg, checkpoint: Optional[str], out_dir: str, layers: Optional[Sequence[str]] = None,
                         splits: Sequence[str] = ('trainval', 'test'), device: str = 'cpu',
                         pretrain_config: Optional[str] = None, checkpoint_options: Optional[dict] = None,
                         random_init_seed: int = RANDOM_INIT_SEED,
                         prepared: Optional[Dict[str, tuple]] = None) -> None:
    """Extract the SVM feature folder of an SVM benchmark config (``cfg.layers``, ``{split}_dataloader``).

    Args:
        cfg: the loaded benchmark config.
        checkpoint: checkpoint (full or backbone-only; checked) or ``None`` for the seeded random backbone.
        out_dir: the feature folder.
        layers: default ``cfg.layers``.
        splits: splits to extract.
        device: where the backbone runs (the rank's device under DDP).
        pretrain_config: recorded in ``meta.json`` (written last, with the config) as the features' source.
        checkpoint_options: how to read ``checkpoint`` (:func:`mmssl.utils.load_backbone`).
        random_init_seed: the seed of the random backbone (``checkpoint=None``), recorded in ``meta.json``.
        prepared: split -> ``(dataset, labels, ids)`` that replaces the config's data set of that split
            (:func:`extract_split`).

    ``meta.json`` records the checkpoint as :func:`~mmssl.evaluation.svm.features.checkpoint_source` does (absolute
    path and sha256, or the random backbone's seed) and the config's absolute path.
    """
    extractor = FeatureExtractor(cfg.model.backbone, layers or cfg.layers, cfg.model.get('data_preprocessor'))
    if is_main_process() and osp.exists(osp.join(out_dir, META_FILE)):
        # meta.json marks a complete folder: it must not stand beside half-rewritten features.
        os.remove(osp.join(out_dir, META_FILE))
    report = load_backbone(extractor.backbone, checkpoint, random_init_seed, **(checkpoint_options or {}))
    classes = [extract_split(extractor, cfg[f'{split}_dataloader'], split, out_dir, device,
                             (prepared or {}).get(split)) for split in splits]
    if is_main_process():  # written last: its presence marks a complete folder
        write_meta(out_dir, classes[0], extractor.layers,
                   dict(config=cfg.filename and osp.abspath(cfg.filename),
                        **checkpoint_source(checkpoint, random_init_seed), pretrain_config=pretrain_config,
                        dataset=cfg.get('dataset_name'), checkpoint_format=report and report.format))


def features_mismatch(feature_dir: str, cfg, checkpoint: Optional[str], layers: Sequence[str],
                      splits: Sequence[str] = SPLITS, random_init_seed: int = RANDOM_INIT_SEED) -> Optional[str]:
    """Why a complete feature folder (``meta.json`` present) cannot serve ``checkpoint`` / ``cfg`` / ``layers``
    (``None``: it can): other weights (by sha256 or random-init seed), another config, missing layers, or a feature
    file whose size disagrees with its header."""
    meta = read_meta(feature_dir)
    source = meta.get('source') or {}
    wanted = checkpoint_source(checkpoint, random_init_seed)
    problems = []
    if weights_identity(source) != weights_identity(wanted):
        problems.append(f'they were extracted from {describe_weights(source)}, not {describe_weights(wanted)}')
    config = cfg.filename and osp.abspath(cfg.filename)
    if source.get('config') != config:
        problems.append(f'they were extracted with config {source.get("config")}, not {config}')
    missing = [layer for layer in layers if layer not in meta['layers']]
    if missing:
        problems.append(f'they lack layers {missing} (it has {meta["layers"]})')
    for layer in [layer for layer in layers if layer not in missing]:
        for split in splits:
            try:
                open_features(feature_path(feature_dir, split, layer))  # reads the header only
            except (OSError, ValueError) as error:
                problems.append(str(error))
    return '; '.join(problems) or None


def stale_features_message(feature_dir: str, mismatch: str) -> str:
    """The refusal of a feature folder that :func:`features_mismatch` found unfit."""
    return (f'{feature_dir} holds other features: {mismatch}. Pass --recompute to extract them again (and recompute '
            'the results), or use another work dir')

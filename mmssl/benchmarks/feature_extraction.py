"""Frozen-backbone feature extraction for the SVM and kNN benchmarks.

Every tap is average-pooled (the benchmark pooling for the SVMs, a global pool for kNN), flattened and
L2-normalised (:func:`mmssl.evaluation.feature_folder.l2_normalize`), then written as float32 rows into the feature
folder (:mod:`mmssl.evaluation.feature_folder`) at the sample's dataset index. Each process writes its own rows into
the same memory-mapped files, so distributed extraction lands in dataset order without gathering gigabytes of
features in memory (the output folder must be shared by all processes, as work dirs are).
"""
import os
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.dist import barrier, get_dist_info, is_main_process
from mmengine.utils import ProgressBar
from torch.utils.data import DataLoader

from mmssl.evaluation.feature_folder import (META_FILE, check_free_space, checkpoint_source, create_feature_files,
                                             feature_path, l2_normalize, write_labels, write_meta)
from mmssl.evaluation.folder_identity import config_identity, reading_identity
from mmssl.models.utils.taps import require_taps
from mmssl.registry import DATA_SAMPLERS, DATASETS, MODELS
from mmssl.utils import BackboneWeights, LoadReport

from .base import config_overrides

__all__ = ['FeatureExtractor', 'extract_features', 'extract_split', 'extract_svm_features', 'feature_source',
           'feature_shapes', 'prepare_extraction', 'invalidate_folder', 'build_extractor', 'extraction_amp',
           'use_amp', 'add_amp_argument', 'extract_feature_splits']

SVM_SPLITS = ('trainval', 'test')


class FeatureExtractor(torch.nn.Module):
    """Backbone taps → pooling → flatten → L2 normalisation, one (N, D) tensor per layer.

    Args:
        backbone: backbone config; the built backbone declares its taps (:class:`mmssl.models.utils.TapsMixin`)
            and returns the requested layers.
        layers: names of the backbone's taps (``feature1`` … ``feature5`` on a ResNet).
        data_preprocessor: config of the normalisation (ImageNet statistics by default).
        pooling: ``'benchmark'`` (the SVM / linear-probe pooling the tap declares, its ``'specified'`` pooling)
            or ``'global'`` (average over all positions: one value per channel, as kNN evaluation uses).
        amp: run the backbone under bfloat16 autocast (on the CPU or a GPU); pooling and normalisation stay float32.
            bfloat16 rather than float16: its float32 range cannot overflow in a deep, unnormalised stem.
    """

    def __init__(self, backbone: dict, layers: Sequence[str], data_preprocessor: Optional[dict] = None,
                 pooling: str = 'benchmark', amp: bool = False):
        super().__init__()
        self.amp = amp
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
        with torch.autocast(inputs.device.type, dtype=torch.bfloat16, enabled=self.amp):
            taps = self.backbone(inputs)
        return {layer: l2_normalize(torch.flatten(pool(tap.float()), 1))
                for layer, pool, tap in zip(self.layers, self.pools, taps)}


def extraction_amp(cfg) -> bool:
    """Whether a benchmark config extracts under autocast (``extraction_amp = True``, or the ``--amp`` option);
    anything but a bool is refused, naming the config."""
    value = cfg.get('extraction_amp', False)
    if not isinstance(value, bool):
        raise ValueError(f'{cfg.filename}: extraction_amp must be True or False, got {value!r}')
    return value


def use_amp(cfg, amp: bool):
    """``cfg`` with ``extraction_amp`` set when the command line asked for ``--amp``."""
    if amp:
        cfg.extraction_amp = True
    return cfg


def add_amp_argument(parser):
    """``--amp``: feature extraction under bfloat16 autocast (a folder records its precision)."""
    parser.add_argument('--amp', action='store_true', help='extract features with the backbone under bfloat16 '
                        'autocast (faster on GPUs; the folder records it, so it is never mixed with float32 features)')
    return parser


def build_extractor(cfg, layers: Sequence[str], pooling: str = 'benchmark') -> FeatureExtractor:
    """The :class:`FeatureExtractor` of a benchmark config: its backbone, data preprocessor and precision."""
    return FeatureExtractor(cfg.model.backbone, layers, cfg.model.get('data_preprocessor'), pooling,
                            amp=extraction_amp(cfg))


def _build_loader(dataloader_cfg: dict, dataset=None) -> DataLoader:
    cfg = dict(dataloader_cfg)
    dataset_cfg = cfg.pop('dataset')
    dataset = DATASETS.build(dataset_cfg) if dataset is None else dataset
    sampler = DATA_SAMPLERS.build(dict(type='DefaultSampler', shuffle=False), default_args=dict(dataset=dataset))
    return DataLoader(dataset, batch_size=cfg.get('batch_size', 32), sampler=sampler,
                      num_workers=cfg.get('num_workers', 0), collate_fn=pseudo_collate)


def _labels_and_ids(dataset) -> tuple:
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    ids = [str(info.get('img_id', osp.splitext(osp.basename(info['img_path']))[0])) for info in infos]
    return dataset.get_gt_labels().astype(np.int8), ids


def feature_shapes(extractor: FeatureExtractor, dataset) -> Dict[str, Tuple[int, int]]:
    """Layer -> (rows, dim) of the feature files of ``dataset``: one sample is run through ``extractor``."""
    probe = extractor(pseudo_collate([dataset[0]]))
    return {layer: (len(dataset), probe[layer].shape[1]) for layer in extractor.layers}


def extract_features(extractor: FeatureExtractor, dataloader_cfg: dict, out_dir: str, split: str,
                     device: str = 'cpu', dataset=None, shapes: Optional[Dict[str, Tuple[int, int]]] = None
                     ) -> Dict[str, str]:
    """Run ``extractor`` over a data set; row i of ``out_dir/{split}_{layer}.npy`` is sample i. Returns the paths.

    All processes write their rows into the same memory-mapped files (created by rank 0), so distributed
    extraction needs no gathering and the rows end up in dataset order.

    Args:
        dataset: the loader's data set, when already built.
        shapes: :func:`feature_shapes` of the data set, when already probed.
    """
    loader = _build_loader(dataloader_cfg, dataset)
    dataset = loader.dataset
    extractor = extractor.to(device).eval()
    shapes = shapes or feature_shapes(extractor, dataset)
    if is_main_process():
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


def prepare_extraction(extractor: FeatureExtractor, datasets: Dict[str, object], out_dir: str,
                       device: str = 'cpu') -> Dict[str, Dict[str, Tuple[int, int]]]:
    """Probe every split's feature shapes and check that all their files fit on disk, before any feature file is
    written.

    Args:
        datasets: split -> its built data set.

    Returns:
        dict: split -> layer -> (rows, dim).

    Raises:
        OSError: ``ENOSPC``, naming the folder, the bytes needed and the bytes free.
    """
    extractor.to(device).eval()
    shapes = {split: feature_shapes(extractor, dataset) for split, dataset in datasets.items()}
    if is_main_process():
        check_free_space(out_dir, shapes)
    barrier()
    return shapes


def invalidate_folder(out_dir: str) -> None:
    """Remove ``meta.json`` before a folder is extracted again: it marks a complete folder and must not vouch for
    half-rewritten features, or for old ones once their extraction was asked for again."""
    if is_main_process() and osp.exists(osp.join(out_dir, META_FILE)):
        os.remove(osp.join(out_dir, META_FILE))


def extract_feature_splits(cfg, weights: BackboneWeights, out_dir: str, layers: Sequence[str], splits: Sequence[str],
                           source: dict, pooling: str = 'benchmark', device: str = 'cpu') -> None:
    """Extract the features of ``splits`` (``{split}_dataloader`` of ``cfg``) into ``out_dir``, the free space of
    all checked first, then write ``meta.json`` last (it marks a complete folder): ``source``, the folder's
    identity (:func:`feature_source`), with the report of the load. Features only: the labels stay in the data sets
    (the kNN and probe folders)."""
    invalidate_folder(out_dir)  # before the load: a failed re-extraction leaves no complete-looking folder
    extractor = build_extractor(cfg, layers, pooling)
    report = weights.load_into(extractor.backbone)
    datasets = {split: DATASETS.build(cfg[f'{split}_dataloader']['dataset']) for split in splits}
    shapes = prepare_extraction(extractor, datasets, out_dir, device)
    for split, dataset in datasets.items():
        extract_features(extractor, cfg[f'{split}_dataloader'], out_dir, split, device, dataset, shapes[split])
    if is_main_process():
        write_meta(out_dir, datasets[splits[0]].metainfo['classes'], list(layers),
                   dict(source, checkpoint_load=report.to_record()))
    barrier()


def extract_split(extractor: FeatureExtractor, dataloader_cfg: dict, split: str, out_dir: str,
                  device: str = 'cpu', prepared: Optional[tuple] = None,
                  shapes: Optional[Dict[str, Tuple[int, int]]] = None) -> list:
    """Extract one labelled split (features, labels, ids) into the SVM feature folder ``out_dir``.

    Args:
        prepared: ``(dataset, labels, ids)`` to extract instead of the config's data set and its ``gt_label``
            vectors (e.g. a subset of a list in another label encoding).
        shapes: the split's :func:`feature_shapes`, when already probed.

    Returns:
        list: the data set's class names (for ``meta.json``).
    """
    dataset = DATASETS.build(dataloader_cfg['dataset']) if prepared is None else prepared[0]
    if is_main_process():
        write_labels(out_dir, split, *(_labels_and_ids(dataset) if prepared is None else prepared[1:]))
    extract_features(extractor, dataloader_cfg, out_dir, split, device, dataset, shapes)
    return dataset.metainfo['classes']


def as_weights(weights: Union[BackboneWeights, str, None]) -> BackboneWeights:
    """``weights``, or the checkpoint file (layout detected) or ``None`` (the random backbone) read as such."""
    return weights if isinstance(weights, BackboneWeights) else BackboneWeights.from_checkpoint(weights)


def feature_source(cfg, weights: Union[BackboneWeights, str, None], splits: Sequence[str] = SVM_SPLITS,
                   pooling: str = 'benchmark', **recorded) -> dict:
    """The ``source`` of ``meta.json`` for features of ``weights`` with benchmark config ``cfg``: what a folder
    is reused for (:mod:`mmssl.evaluation.folder_identity`: the weights and how they were read, the config's
    absolute path, its resolved parts of the extracted ``splits`` and their list files' sha256, the
    ``pooling``), the ``--cfg-options`` the config was loaded with, and ``recorded`` (e.g. the load report).
    ``weights`` may also be a checkpoint file (layout detected) or ``None`` (the random backbone)."""
    weights = as_weights(weights)
    return dict(config=cfg.filename and osp.abspath(cfg.filename), **checkpoint_source(weights),
                checkpoint_format=weights.layout, checkpoint_reading=reading_identity(weights),
                **config_identity(cfg, [f'{split}_dataloader' for split in splits]), pooling=pooling,
                precision='bfloat16-autocast' if extraction_amp(cfg) else 'float32', cfg_options=config_overrides(cfg),
                **recorded)


def extract_svm_features(cfg, weights: Union[BackboneWeights, str, None], out_dir: str,
                         layers: Optional[Sequence[str]] = None, splits: Sequence[str] = SVM_SPLITS,
                         device: str = 'cpu', pretrain_config: Optional[str] = None,
                         prepared: Optional[Dict[str, tuple]] = None, source: Optional[dict] = None) -> LoadReport:
    """Extract the SVM feature folder of an SVM benchmark config (``cfg.layers``, ``{split}_dataloader``).

    Args:
        cfg: the loaded benchmark config.
        weights: the backbone (:class:`mmssl.utils.BackboneWeights`); a checkpoint file (layout detected) or
            ``None`` (the random backbone of the default seed) is read here.
        out_dir: the feature folder.
        layers: default ``cfg.layers``.
        splits: splits to extract.
        device: where the backbone runs (the rank's device under DDP).
        pretrain_config: recorded in ``meta.json`` (written last, with the config) as the features' source.
        prepared: split -> ``(dataset, labels, ids)`` that replaces the config's data set of that split
            (:func:`extract_split`).
        source: the folder's :func:`feature_source`, when the caller computed it to decide on extracting (default
            computed here, before any work).

    ``meta.json`` records the folder's identity (:func:`feature_source`: the weights as
    :func:`~mmssl.evaluation.feature_folder.checkpoint_source` names them, how they were read, the resolved config
    and its list files' hashes), the report of their load and the pretraining config, so that a record written
    from the folder alone says what its features come from. The free space of every split's files is checked
    before any work.

    Returns:
        LoadReport: the load into the extraction backbone.
    """
    weights = as_weights(weights)
    source = source or feature_source(cfg, weights, splits)
    extractor = build_extractor(cfg, layers or cfg.layers)
    invalidate_folder(out_dir)
    report = weights.load_into(extractor.backbone)
    prepared = dict(prepared or {})
    datasets = {split: prepared[split][0] if split in prepared
                else DATASETS.build(cfg[f'{split}_dataloader']['dataset']) for split in splits}
    shapes = prepare_extraction(extractor, datasets, out_dir, device)
    classes = [extract_split(extractor, cfg[f'{split}_dataloader'], split, out_dir, device,
                             prepared.get(split) or (dataset, *_labels_and_ids(dataset)), shapes[split])
               for split, dataset in datasets.items()]
    if is_main_process():  # written last: its presence marks a complete folder
        write_meta(out_dir, classes[0], extractor.layers,
                   dict(source, pretrain_config=pretrain_config, dataset=cfg.get('dataset_name'),
                        checkpoint_load=report.to_record()))
    return report

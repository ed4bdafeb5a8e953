"""The feature folder: frozen features of a backbone on disk, shared by feature extraction, the SVM benchmarks
(VOC07, both low-shot protocols, COCO2014) and kNN.

Layout of a feature directory (all names fixed)::

    meta.json                 {"classes": [20 names], "layers": ["feature1", ...],
                               "source": {"config": ..., "checkpoint": ABSOLUTE PATH or null,
                                          "checkpoint_sha256": ... | "random_init_seed": 0,
                                          "checkpoint_format": ..., "checkpoint_load": {...}, ...}}
                                                                               (source optional)
    {split}_{layer}.npy       float32 (N, D), rows L2-normalised as x / (‖x‖ + 1e-5)
    {split}_labels.npy        int8 (N, num_classes): 1 positive, -1 negative, 0 difficult
    {split}_ids.txt           N lines, one image id per line, in row order

``split`` is ``trainval`` or ``test`` (the kNN benchmark writes ``train`` / ``val`` feature files the same way).
Feature files are opened memory-mapped, so a layer is read from disk once and never copied into worker processes.
This module is the folder's only reader and writer: feature extraction (in the benchmark layer) writes through
:func:`create_features`, :func:`write_labels` and :func:`write_meta`. :func:`ensure_feature_folder` is the one guard
of a folder that a run wants to reuse: it is reused only for the same weights, config and layers, else extracted
again on request or refused.
"""
import errno
import io
import json
import os
import os.path as osp
import shutil
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.logging import MMLogger

from mmssl.constants import FEATURE_NORM_EPS, RANDOM_INIT_SEED
from mmssl.utils.checkpoint import BackboneWeights, checkpoint_record

from .folder_identity import identity_differences

META_FILE = 'meta.json'
SPLITS = ('trainval', 'test')
_SCAN_ROWS = 1024  # rows per chunk when scanning a memory-mapped file for NaN/inf


@dataclass
class FeatureSplit:
    """One split of one layer.

    Attributes:
        features: (N, D) float32, possibly a read-only memory map.
        labels: (N, P) int8 VOC labels (1 / -1 / 0 = difficult).
        ids: N image ids.
        classes: P class names.
        layer: layer name, e.g. ``'feature5'``.
        split: ``'trainval'`` or ``'test'``.
        source: the ``source`` of the folder's ``meta.json`` (what the features were extracted from), if known.
    """
    features: np.ndarray
    labels: np.ndarray
    ids: List[str]
    classes: List[str]
    layer: str
    split: str
    source: Optional[dict] = None

    def __len__(self) -> int:
        return len(self.labels)


def l2_normalize(features):
    """Row-wise ``x / (‖x‖ + 1e-5)`` in float32, the normalisation the protocol prescribes.

    Args:
        features: (N, D) tensor (normalised in torch, e.g. on the extraction device) or array.

    Returns:
        torch.Tensor or np.ndarray (as given): (N, D) float32.
    """
    if isinstance(features, torch.Tensor):
        features = features.float()
        return features / (features.norm(dim=1, keepdim=True) + FEATURE_NORM_EPS)
    return l2_normalize(torch.from_numpy(np.asarray(features, dtype=np.float32))).numpy()


def feature_path(feature_dir: str, split: str, layer: str) -> str:
    return osp.join(feature_dir, f'{split}_{layer}.npy')


def labels_path(feature_dir: str, split: str) -> str:
    return osp.join(feature_dir, f'{split}_labels.npy')


def ids_path(feature_dir: str, split: str) -> str:
    return osp.join(feature_dir, f'{split}_ids.txt')


def read_meta(feature_dir: str) -> dict:
    """Load and check ``meta.json``.

    Returns:
        dict: with ``classes`` (list of str) and ``layers`` (list of str).
    """
    path = osp.join(feature_dir, META_FILE)
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} not found: is {feature_dir!r} a feature directory?')
    with open(path) as f:
        meta = json.load(f)
    for key in ('classes', 'layers'):
        value = meta.get(key)
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise ValueError(f'{path}: "{key}" must be a non-empty list of strings, got {value!r}')
    return meta


def checkpoint_source(checkpoint: Union[BackboneWeights, str, None], random_init_seed: int = RANDOM_INIT_SEED) -> dict:
    """How ``meta.json`` names the weights features come from: the checkpoint's absolute path and sha256, or the
    seed of the random backbone (``None``); ``checkpoint`` is a file or the weights a command line built."""
    if isinstance(checkpoint, BackboneWeights):
        if checkpoint.is_random:
            return dict(checkpoint=None, random_init_seed=checkpoint.random_init_seed)
        return dict(checkpoint=checkpoint.path, checkpoint_sha256=checkpoint.sha256)
    if checkpoint is None:
        return dict(checkpoint=None, random_init_seed=random_init_seed)
    record = checkpoint_record(checkpoint)
    return dict(checkpoint=record['path'], checkpoint_sha256=record['sha256'])


def weights_identity(source: Optional[dict]) -> dict:
    """What decides the features of a ``source``: the checkpoint's sha256 or the random backbone's seed (a folder
    without a source counts as the random backbone, as its record does)."""
    source = source or {}
    if source.get('checkpoint') is None:
        return dict(random_init_seed=source.get('random_init_seed', RANDOM_INIT_SEED))
    return dict(checkpoint_sha256=source.get('checkpoint_sha256'))


def describe_weights(source: Optional[dict]) -> str:
    """``checkpoint PATH (sha256 …)`` or ``the random backbone (seed N)``, for messages."""
    source = source or {}
    if source.get('checkpoint') is None:
        return f'the random backbone (seed {weights_identity(source)["random_init_seed"]})'
    return f'checkpoint {source["checkpoint"]} (sha256 {source.get("checkpoint_sha256") or "not recorded"})'


def check_source_checkpoint(feature_dir: str, meta: dict) -> None:
    """Refuse a folder whose recorded checkpoint cannot vouch for it, before any SVM is trained.

    The path must be absolute (a relative one would be resolved against whatever directory the SVM runs in) and
    come with its sha256; if the file still exists, its content must still have that sha256. A file that is gone
    is fine: the record then names the path and sha256 of ``meta.json``.
    """
    path = osp.join(feature_dir, META_FILE)
    source = meta.get('source') or {}
    checkpoint = source.get('checkpoint')
    if checkpoint is None:
        return
    if not osp.isabs(checkpoint) or not source.get('checkpoint_sha256'):
        raise ValueError(f'{path}: source.checkpoint {checkpoint!r} must be an absolute path with its '
                         f'source.checkpoint_sha256 (got sha256 {source.get("checkpoint_sha256")!r}), as extraction '
                         'records them; extract the features again (extract.py, or --recompute of the benchmark)')
    if osp.isfile(checkpoint):
        current = checkpoint_record(checkpoint)['sha256']
        if current != source['checkpoint_sha256']:
            raise ValueError(f'{path}: the features were extracted from {checkpoint} with sha256 '
                             f'{source["checkpoint_sha256"]}, but that file now has sha256 {current}; extract the '
                             'features again (extract.py, or --recompute of the benchmark) or restore the checkpoint')


def check_layers(meta: dict, layers: Sequence[str], feature_dir: str) -> None:
    """Raise before any work if a requested layer is not in ``meta.json``."""
    unknown = [layer for layer in layers if layer not in meta['layers']]
    if unknown:
        raise ValueError(f'unknown layer(s) {unknown}: {osp.join(feature_dir, META_FILE)} lists '
                         f'{meta["layers"]}')


def load_split(feature_dir: str, split: str, layer: str, meta: Optional[dict] = None) -> FeatureSplit:
    """Open one split of one layer and validate it completely.

    Raises ``ValueError`` naming the file when rows disagree between files, labels hold values other
    than 1 / -1 / 0 or have the wrong number of classes, features are not a 2-D float array or hold
    NaN / inf, or the layer is not listed in ``meta.json``.

    Args:
        feature_dir: the feature directory.
        split: ``'trainval'`` or ``'test'``.
        layer: a layer listed in ``meta.json``.
        meta: ``read_meta(feature_dir)`` if already loaded.

    Returns:
        FeatureSplit: features memory-mapped read-only.
    """
    if split not in SPLITS:
        raise ValueError(f'unknown split {split!r}, expected one of {SPLITS}')
    meta = read_meta(feature_dir) if meta is None else meta
    check_layers(meta, [layer], feature_dir)
    labels = _load_labels(feature_dir, split, len(meta['classes']))
    ids = _load_ids(feature_dir, split, len(labels))
    features = _load_features(feature_path(feature_dir, split, layer), len(labels),
                              labels_path(feature_dir, split))
    return FeatureSplit(features, labels, ids, list(meta['classes']), layer, split, meta.get('source'))


def _require(path: str) -> str:
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} not found')
    return path


def _load_labels(feature_dir: str, split: str, num_classes: int) -> np.ndarray:
    path = _require(labels_path(feature_dir, split))
    labels = np.load(path)
    if labels.ndim != 2 or labels.shape[1] != num_classes:
        raise ValueError(f'{path}: expected shape (N, {num_classes}) to match the classes of '
                         f'{META_FILE}, got {labels.shape}')
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f'{path}: labels must be integers (1 / -1 / 0), got dtype {labels.dtype}')
    bad = ~np.isin(labels, (1, -1, 0))
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(f'{path}: label values must be 1 (positive), -1 (negative) or 0 '
                         f'(difficult); found {sorted(set(labels[bad].tolist()))[:5]}, first at '
                         f'row {row}, class {col}')
    # Labels in {0, 1} (a common encoding) would read 0 as "difficult": no negatives, and every AP would be 100.
    without_negatives = np.flatnonzero(~(labels == -1).any(axis=0))
    if len(without_negatives):
        raise ValueError(f'{path}: class index {without_negatives[0]} has no negative (-1) label in the {split} '
                         f'split ({len(without_negatives)} classes have none); labels must be 1 (positive), -1 '
                         '(negative) or 0 (difficult, ignored at test), not 1 / 0')
    return labels.astype(np.int8)


def _load_ids(feature_dir: str, split: str, num_rows: int) -> List[str]:
    path = _require(ids_path(feature_dir, split))
    with open(path) as f:
        ids = [line.strip() for line in f if line.strip()]
    if len(ids) != num_rows:
        raise ValueError(f'{path} has {len(ids)} ids but {labels_path(feature_dir, split)} has '
                         f'{num_rows} rows')
    if len(set(ids)) != len(ids):
        raise ValueError(f'{path}: image ids are not unique')
    return ids


def open_features(path: str) -> np.ndarray:
    """Memory-map a feature file read-only after checking that its size matches its header.

    A file cut short (a full disk, a killed copy) otherwise fails deep inside numpy ("mmap length is greater than
    file size") or, if longer, silently carries bytes the header does not describe.

    Raises:
        FileNotFoundError: ``path`` is missing.
        ValueError: not an ``.npy`` file, or its size disagrees with its header; names the file and both sizes.
    """
    with open(_require(path), 'rb') as f:
        try:
            version = np.lib.format.read_magic(f)
            read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                           (2, 0): np.lib.format.read_array_header_2_0}.get(version)
            if read_header is None:
                raise ValueError(f'.npy format version {version} is not one extraction writes')
            shape, _, dtype = read_header(f)
        except ValueError as error:
            raise ValueError(f'{path}: not a readable .npy file ({error}); extract the features again '
                             '(extract.py, or --recompute of the benchmark)') from None
        header_bytes = f.tell()
    expected = header_bytes + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = osp.getsize(path)
    if actual != expected:
        raise ValueError(f'{path}: {actual} bytes on disk, but its header ({shape} {dtype}) needs {expected}; the '
                         'file is truncated or damaged: extract the features again (extract.py, or '
                         '--recompute of the benchmark)')
    return np.load(path, mmap_mode='r')


def _load_features(path: str, num_rows: int, labels_file: str) -> np.ndarray:
    features = open_features(path)
    if features.ndim != 2 or not np.issubdtype(features.dtype, np.floating):
        raise ValueError(f'{path}: expected a 2-D float array, got shape {features.shape} and '
                         f'dtype {features.dtype}')
    if len(features) != num_rows:
        raise ValueError(f'{path} has {len(features)} rows but {labels_file} has {num_rows}')
    max_norm_error = 0.0
    for start in range(0, num_rows, _SCAN_ROWS):
        chunk = np.asarray(features[start:start + _SCAN_ROWS], dtype=np.float64)
        finite = np.isfinite(chunk)
        if not finite.all():
            row, col = np.argwhere(~finite)[0]
            raise ValueError(f'{path}: NaN or inf in the features, first at row {start + row}, '
                             f'column {col}')
        norms = np.linalg.norm(chunk, axis=1)
        if (norms == 0).any():
            row = start + int(np.flatnonzero(norms == 0)[0])
            raise ValueError(f'{path}: row {row} is all zeros, as rows never written are (an interrupted '
                             'extraction?); extract the features again')
        norms = norms[norms > 0]
        if len(norms):
            max_norm_error = max(max_norm_error, float(np.abs(norms - 1).max()))
    if max_norm_error > 1e-2:
        MMLogger.get_current_instance().warning(
            f'{path}: rows are not L2-normalised (largest |‖x‖ - 1| = {max_norm_error:.3g}); the '
            'protocol expects x / (‖x‖ + 1e-5)')
    return features


def _file_bytes(num_rows: int, dim: int) -> int:
    """Size of a (num_rows, dim) float32 ``.npy`` file (its header included)."""
    header = np.lib.format.header_data_from_array_1_0(np.empty((0, dim), np.float32))
    header['shape'] = (num_rows, dim)
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.tell() + num_rows * dim * 4


def check_free_space(feature_dir: str, shapes: Dict[str, Dict[str, Tuple[int, int]]]) -> None:
    """Raise ``OSError(ENOSPC)`` naming the folder, the bytes needed and the bytes free if the feature files of an
    extraction (split -> layer -> (rows, dim), every split it will write) do not fit; files they replace count as
    free. Called before any work, so that a second split that does not fit throws no first split away."""
    os.makedirs(feature_dir, exist_ok=True)
    files = [(feature_path(feature_dir, split, layer), shape)
             for split, layers in shapes.items() for layer, shape in layers.items()]
    needed = sum(_file_bytes(*shape) for _, shape in files)
    replaced = sum(osp.getsize(path) for path, _ in files if osp.isfile(path))
    free = shutil.disk_usage(feature_dir).free + replaced
    if needed > free:
        layers = ', '.join(dict.fromkeys(layer for split_layers in shapes.values() for layer in split_layers))
        raise OSError(errno.ENOSPC, f'{feature_dir}: the {" and ".join(shapes)} features of {layers} need '
                      f'{needed} bytes, only {free} are free; free space or extract elsewhere')


def create_features(feature_dir: str, split: str, layer: str, num_rows: int, dim: int) -> str:
    """Create the (``num_rows``, ``dim``) float32 feature file of one split and layer, zero-filled and fully
    allocated on disk; returns its path (open it with ``np.load(path, mmap_mode='r+')`` to fill rows).

    Raises:
        OSError: the disk cannot hold the file; names it (it is removed).
    """
    os.makedirs(feature_dir, exist_ok=True)
    path = feature_path(feature_dir, split, layer)
    np.lib.format.open_memmap(path, mode='w+', dtype=np.float32, shape=(num_rows, dim)).flush()
    _allocate(path)
    return path


def _allocate(path: str) -> None:
    """Reserve every block of a (sparse) file now: writing through a memory map into a block the full disk
    cannot provide kills the process with SIGBUS ("Bus error") instead of raising."""
    if not hasattr(os, 'posix_fallocate'):  # not on macOS / Windows: nothing to reserve with
        return
    size = osp.getsize(path)
    with open(path, 'r+b') as f:
        try:
            os.posix_fallocate(f.fileno(), 0, size)
        except OSError as error:
            if error.errno in (errno.EOPNOTSUPP, errno.EINVAL):  # a file system without allocation
                return
            f.close()
            os.remove(path)
            raise OSError(error.errno, f'{path}: cannot allocate {size} bytes for the features '
                          f'({os.strerror(error.errno)}); free space or extract elsewhere') from None


def create_feature_files(feature_dir: str, split: str, shapes: Dict[str, Tuple[int, int]]) -> Dict[str, str]:
    """Check the free space for every layer's file of ``split`` (layer -> (rows, dim)), then create and allocate
    them.

    Returns:
        dict: layer -> path.
    """
    check_free_space(feature_dir, {split: shapes})
    return {layer: create_features(feature_dir, split, layer, *shape) for layer, shape in shapes.items()}


def write_labels(feature_dir: str, split: str, labels: np.ndarray, ids: Sequence[str]) -> None:
    """Write ``{split}_labels.npy`` (int8 (N, P), 1 / -1 / 0) and ``{split}_ids.txt`` (N ids in row order)."""
    os.makedirs(feature_dir, exist_ok=True)
    np.save(labels_path(feature_dir, split), np.asarray(labels, dtype=np.int8))
    with open(ids_path(feature_dir, split), 'w') as f:
        f.write(''.join(f'{i}\n' for i in ids))


def write_meta(feature_dir: str, classes: Sequence[str], layers: Sequence[str],
               source: Optional[dict] = None) -> None:
    """Write ``meta.json``; ``source`` records where the features came from (config, checkpoint)."""
    meta = dict(classes=list(classes), layers=list(layers))
    if source is not None:
        meta['source'] = source
    with open(osp.join(feature_dir, META_FILE), 'w') as f:
        json.dump(meta, f, indent=2)


def features_mismatch(feature_dir: str, wanted: dict, layers: Sequence[str],
                      splits: Sequence[str] = SPLITS) -> Optional[str]:
    """Why a complete feature folder (``meta.json`` present) cannot serve the ``wanted`` source (``None``: it can):
    other weights (by sha256 or random-init seed), another config, missing layers, or a feature file whose size
    disagrees with its header.

    Args:
        wanted: the source a new extraction would record: ``config`` and the weights
            (:func:`checkpoint_source`).
    """
    meta = read_meta(feature_dir)
    source = meta.get('source') or {}
    problems = []
    if weights_identity(source) != weights_identity(wanted):
        problems.append(f'they were extracted from {describe_weights(source)}, not {describe_weights(wanted)}')
    if source.get('config') != wanted.get('config'):
        problems.append(f'they were extracted with config {source.get("config")}, not {wanted.get("config")}')
    problems += identity_differences(source, wanted)
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


def ensure_feature_folder(feature_dir: str, wanted: dict, layers: Sequence[str], splits: Sequence[str] = SPLITS,
                          recompute: bool = False) -> str:
    """The one guard of a feature folder a run wants: ``'reuse'`` a complete folder (``meta.json`` present) of the
    same weights, config and layers, ``'extract'`` a missing or incomplete one (or an unfit one with
    ``recompute``), and refuse any other before work starts.

    Args:
        feature_dir: the folder.
        wanted: the source a new extraction would record (``config`` and the weights, :func:`checkpoint_source`).
        layers: layers the run needs.
        splits: splits the run needs.
        recompute: extract an unfit folder again instead of refusing it.

    Raises:
        ValueError: the folder holds other features; names what differs (what it holds vs what is asked).
    """
    if not osp.isfile(osp.join(feature_dir, META_FILE)):
        return 'extract'
    mismatch = features_mismatch(feature_dir, wanted, layers, splits)
    if mismatch is None:
        return 'reuse'
    if recompute:
        return 'extract'
    raise ValueError(f'{feature_dir} holds other features: {mismatch}. Pass --recompute to extract them again (and '
                     'recompute the results), or use another work dir')

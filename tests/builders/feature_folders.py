"""Feature folders written directly from arrays, for tests of the SVM benchmarks and tools (extraction writes them
from a backbone in the package)."""
from typing import Dict, Sequence

import numpy as np

from mmssl.evaluation.feature_folder import SPLITS, create_feature_files, l2_normalize, write_labels


def write_split(feature_dir: str, split: str, features: Dict[str, np.ndarray], labels: np.ndarray,
                ids: Sequence[str]) -> None:
    """Write one split: every layer's features (normalised here), labels and ids.

    Args:
        feature_dir: an existing directory.
        split: ``'trainval'`` or ``'test'``.
        features: layer name -> (N, D) raw or normalised features.
        labels: (N, P) VOC labels (1 / -1 / 0).
        ids: N image ids.
    """
    if split not in SPLITS:
        raise ValueError(f'unknown split {split!r}, expected one of {SPLITS}')
    arrays = {layer: l2_normalize(array) for layer, array in features.items()}
    paths = create_feature_files(feature_dir, split, {layer: array.shape for layer, array in arrays.items()})
    for layer, array in arrays.items():
        np.load(paths[layer], mmap_mode='r+')[:] = array
    write_labels(feature_dir, split, labels, ids)

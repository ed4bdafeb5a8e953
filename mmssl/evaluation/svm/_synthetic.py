"""Synthetic VOC07-like features for speed benchmarks and tests (not part of the package's API).

Private to the package, yet here rather than beside the tests: ``speed_benchmarks/svm_speed.py`` runs as a plain
script and the tests import it too, and the installed package is the one place both import without path edits.

Multi-label targets with the class frequencies of VOC07 trainval, some difficult labels, and
non-negative (post-ReLU-like) features with a decaying spectrum: a latent vector carries the class
prototypes of an image plus power-law noise, is mixed into ``dim`` dimensions, passed through a ReLU
and L2-normalised. Classes are learnable but not separable, and the Gram matrix has the large mean
eigenvalue and long tail of real CNN features - the hard case for an SVM solver.
"""
from typing import Optional, Sequence, Tuple

import numpy as np

from ..feature_folder import l2_normalize

#: Images per class in VOC07 trainval (5,011 images), in the usual class order.
VOC07_CLASS_COUNTS = (238, 243, 330, 181, 244, 186, 713, 337, 445, 141, 200, 421, 287, 245, 2008,
                      245, 96, 229, 261, 256)


def _mixed_features(latent: np.ndarray, mixing: np.ndarray, bias: np.ndarray, rng: np.random.Generator,
                    chunk_rows: int = 4096) -> np.ndarray:
    """``l2_normalize(relu(latent @ mixing + bias + 0.35 * noise))`` as float32, drawn in row chunks.

    The float64 intermediates of a COCO2014-size draw (82,783 x 9,216) would take about 6 GB each; chunks keep
    them small. Row chunks draw the same noise as one draw of all rows (the generator fills arrays in order).
    """
    features = np.empty((len(latent), mixing.shape[1]), dtype=np.float32)
    for start in range(0, len(latent), chunk_rows):
        part = latent[start:start + chunk_rows]
        noise = rng.standard_normal((len(part), mixing.shape[1]))
        features[start:start + len(part)] = l2_normalize(np.maximum(part @ mixing + bias + 0.35 * noise, 0))
    return features


def make_voc_like_features(num_train: int = 5011,
                           num_test: int = 4952,
                           dim: int = 9216,
                           num_classes: int = 20,
                           latent_dim: int = 256,
                           difficult_rate: float = 0.05,
                           signal: float = 0.3,
                           min_positives: int = 8,
                           seed: int = 0,
                           class_counts: Optional[Sequence[int]] = None,
                           count_total: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Draw train and test features and VOC labels from one generative model.

    Args:
        num_train: trainval rows.
        num_test: test rows.
        dim: feature dimension.
        num_classes: number of classes (at most 20 keep VOC07 frequencies).
        latent_dim: rank of the structured part of the features.
        difficult_rate: fraction of positive labels turned into difficult (0).
        signal: scale of the class prototypes against unit latent noise; lower is harder.
        min_positives: every class gets at least this many non-difficult positives per split.
        seed: random seed.
        class_counts, count_total: images per class out of ``count_total`` images, whose frequencies
            the labels follow (default VOC07 trainval's); e.g. the counts of a real COCO annotation file.

    Returns:
        tuple: train features (num_train, dim) float32 L2-normalised, train labels
        (num_train, num_classes) int8, test features, test labels.
    """
    rng = np.random.default_rng(seed)
    if class_counts is None:
        class_counts, count_total = VOC07_CLASS_COUNTS, 5011
    counts = np.resize(np.asarray(class_counts, dtype=np.float64), num_classes)
    frequency = np.minimum(counts / count_total * 1.05, 0.9)
    prototypes = rng.standard_normal((num_classes, latent_dim)) * signal
    spectrum = np.arange(1, latent_dim + 1)**-0.5
    mixing = rng.standard_normal((latent_dim, dim)) / np.sqrt(latent_dim)
    bias = rng.standard_normal(dim) * 0.3

    def draw(n):
        present = rng.random((n, num_classes)) < frequency
        nothing = ~present.any(axis=1)
        present[nothing, rng.choice(num_classes, nothing.sum(), p=frequency / frequency.sum())] = True
        for c in range(num_classes):  # keep every class trainable on small draws
            missing = min_positives - present[:, c].sum()
            if missing > 0:
                present[rng.choice(np.flatnonzero(~present[:, c]), missing, replace=False), c] = True
        difficult = present & (rng.random((n, num_classes)) < difficult_rate)
        # Difficult objects are small or occluded: a weaker trace of the class in the image.
        strength = np.where(difficult, 0.4, 1.0) * present
        latent = (strength @ prototypes + rng.standard_normal((n, latent_dim))) * spectrum
        labels = np.where(present, 1, -1).astype(np.int8)
        labels[difficult] = 0
        return _mixed_features(latent, mixing, bias, rng), labels

    train_features, train_labels = draw(num_train)
    test_features, test_labels = draw(num_test)
    return train_features, train_labels, test_features, test_labels


def make_places_like_features(num_classes: int = 205,
                              train_per_class: int = 100,
                              test_per_class: int = 100,
                              dim: int = 9216,
                              latent_dim: int = 256,
                              signal: float = 0.3,
                              seed: int = 0) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Single-label (Places205-like) train and test features from the same model as above.

    Returns:
        tuple: train features (C·train_per_class, dim) float32 L2-normalised, train labels (N, C) int8 one-hot
        (1 / -1), test features, test labels.
    """
    rng = np.random.default_rng(seed)
    prototypes = rng.standard_normal((num_classes, latent_dim)) * signal
    spectrum = np.arange(1, latent_dim + 1)**-0.5
    mixing = rng.standard_normal((latent_dim, dim)) / np.sqrt(latent_dim)
    bias = rng.standard_normal(dim) * 0.3

    def draw(per_class):
        index = np.repeat(np.arange(num_classes), per_class)
        latent = (prototypes[index] + rng.standard_normal((len(index), latent_dim))) * spectrum
        labels = np.where(index[:, None] == np.arange(num_classes), 1, -1).astype(np.int8)
        return _mixed_features(latent, mixing, bias, rng), labels

    train_features, train_labels = draw(train_per_class)
    test_features, test_labels = draw(test_per_class)
    return train_features, train_labels, test_features, test_labels

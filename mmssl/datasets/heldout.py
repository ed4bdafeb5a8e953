"""A seeded, class-balanced held-out split of a training set, and the data set of either part.

The split draws only from the training set (the indices it returns are training rows), so no validation row can take
part in choosing a hyper-parameter (a probe's ``C``, a linear head's learning rate). It is stratified: single-label
rows by their class, VOC-style multi-label rows by their rarest positive class, each stratum giving the held-out split
its share of rows (largest remainder), and every class with two or more training rows at least one, so that a rare
class is not left out by rounding. :class:`HeldoutSubset` is either part of a training data set as a data set.
"""
import copy
from numbers import Integral, Real
from typing import List, Sequence, Tuple, Union

import numpy as np

from mmssl.registry import DATASETS

__all__ = ['HELDOUT_PARTS', 'heldout_count', 'heldout_split', 'HeldoutSubset']

#: The two parts of a split training set: the rows to fit on and the held-out rows to choose on.
HELDOUT_PARTS = ('fit', 'heldout')


def heldout_count(size: Union[int, float], num_rows: int, num_classes: int, where: str = 'probe.heldout.size') -> int:
    """The number of held-out rows ``size`` asks for: a count (int >= 1) or a fraction of ``num_rows`` (0 < f < 1).

    Raises:
        ValueError: ``size`` is neither, leaves no training row to fit on, or is smaller than ``num_classes`` (a
            held-out split needs a row of every class); the message names the value and what was expected.
    """
    if isinstance(size, bool) or not isinstance(size, Real):
        raise ValueError(f'{where} must be a count (integer >= 1) or a fraction (0 < f < 1), got {size!r}')
    if isinstance(size, Integral):
        count = int(size)
    elif 0 < size < 1:
        count = int(round(size * num_rows))
    else:
        raise ValueError(f'{where} must be a count (integer >= 1) or a fraction (0 < f < 1), got {size!r}')
    if count >= num_rows:
        raise ValueError(f'{where}={size!r} asks for {count} held-out rows, but the training set has {num_rows}: '
                         f'expected at most {num_rows - 1} (rows must remain to fit on)')
    if count < num_classes:
        raise ValueError(f'{where}={size!r} gives {count} held-out rows, fewer than the {num_classes} classes: '
                         f'expected at least {num_classes} (one per class)')
    return count


def _strata(labels: np.ndarray) -> np.ndarray:
    """Stratum of every row: its class, or for (N, K) VOC labels its rarest positive class (-1: no positive)."""
    if labels.ndim == 1:
        return labels.astype(np.int64)
    positives = labels == 1
    frequency = positives.sum(axis=0)
    rarity = np.where(positives, frequency[None, :], np.iinfo(np.int64).max)
    return np.where(positives.any(axis=1), rarity.argmin(axis=1), -1)


def _quotas(sizes: np.ndarray, count: int) -> np.ndarray:
    """Held-out rows per stratum: proportional to ``sizes`` (largest remainder), at least one of every stratum of
    two or more rows, never a whole stratum of two or more (a row stays to fit on)."""
    exact = count * sizes / sizes.sum()
    floor = np.floor(exact).astype(np.int64)
    cap = np.where(sizes >= 2, sizes - 1, sizes)
    quotas = np.clip(np.maximum(floor, (sizes >= 2).astype(np.int64)), 0, cap)
    remainder = exact - floor
    while quotas.sum() < count:
        room = quotas < cap
        if not room.any():
            room = quotas < sizes
        pick = int(np.argmax(np.where(room, remainder - (quotas - floor), -np.inf)))
        quotas[pick] += 1
    while quotas.sum() > count:
        pick = int(np.argmax(np.where(quotas > 1, quotas - exact, -np.inf)))
        quotas[pick] -= 1
    return quotas


def heldout_split(labels: np.ndarray, size: Union[int, float], seed: int, classes: Sequence[str],
                  where: str = 'probe.heldout') -> Tuple[np.ndarray, np.ndarray]:
    """Split the training rows into a part to fit on and a held-out part to choose ``C`` on.

    Args:
        labels: (N,) class indices or (N, K) VOC labels (1 / -1 / 0) of the training set.
        size: held-out rows, a count or a fraction (:func:`heldout_count`).
        seed: the split's seed; the same seed and labels give the same split.
        classes: the K class names (for messages).

    Returns:
        tuple: ``(fit_rows, heldout_rows)``, sorted int64 indices into the training set, disjoint, covering it.

    Raises:
        ValueError: a bad size (:func:`heldout_count`), or a class without a held-out row (a positive one for
            VOC labels), named with its number of training rows.
    """
    labels = np.asarray(labels)
    count = heldout_count(size, len(labels), len(classes), f'{where}.size')
    strata = _strata(labels)
    keys, inverse = np.unique(strata, return_inverse=True)
    quotas = _quotas(np.bincount(inverse, minlength=len(keys)), count)
    rng = np.random.default_rng(seed)
    chosen = [rng.permutation(np.flatnonzero(inverse == i))[:quota] for i, quota in enumerate(quotas)]
    heldout = np.sort(np.concatenate(chosen)).astype(np.int64)
    held = labels[heldout]
    present = (held == 1).any(axis=0) if labels.ndim == 2 else np.isin(np.arange(len(classes)), held)
    if not present.all():
        index = int(np.flatnonzero(~present)[0])
        rows = int((labels[:, index] == 1).sum()) if labels.ndim == 2 else int((labels == index).sum())
        what = 'positive row' if labels.ndim == 2 else 'row'
        raise ValueError(f'{where}: class {classes[index]!r} (index {index}) has no {what} in the held-out split of '
                         f'{count} rows (seed {seed}); it has {rows} training {what}s, expected at least 2 (one to '
                         'hold out, one to fit on), or a larger held-out size')
    fit = np.setdiff1d(np.arange(len(labels)), heldout).astype(np.int64)
    return fit, heldout


def _check_fit_classes(fit_labels: np.ndarray, labels: np.ndarray, classes: Sequence[str], where: str) -> None:
    """Refuse a split whose fit rows lack a class of single-label training data (its only rows were held out)."""
    if labels.ndim != 1:
        return
    missing = np.setdiff1d(np.unique(labels), fit_labels)
    if len(missing):
        index = int(missing[0])
        raise ValueError(f'{where}: class {classes[index]!r} (index {index}) has {int((labels == index).sum())} '
                         'training row(s), all in the held-out split: none is left to fit on; expected at least 2 '
                         'rows of every class')


@DATASETS.register_module()
class HeldoutSubset:
    """One part of a training data set split by :func:`heldout_split`: the rows to fit on or the held-out rows.

    Both parts of the same ``dataset``, ``size`` and ``seed`` are complementary and the same on every build (the
    split depends on the labels and the seed only), so a model trained on ``part='fit'`` never sees a row of
    ``part='heldout'``. Only training rows take part: a validation image is in neither part unless it is also listed
    in the training set.

    Args:
        dataset: a labelled data set, or its config (built through :data:`mmssl.registry.DATASETS`). For the
            held-out part it is usually the training set with the test-time pipeline.
        size: held-out rows, a count (int >= 1) or a fraction of the training rows (0 < f < 1).
        seed: seed of the split.
        part: ``'fit'`` or ``'heldout'``.
        where: how messages name the settings (e.g. ``'CONFIG: linear_selection.heldout'``).

    Raises:
        ValueError: an unknown ``part``, a bad ``size``, a class without a held-out row (:func:`heldout_split`) or
            one whose only training rows were all held out (nothing left to fit it on).
    """

    def __init__(self, dataset, size: Union[int, float], seed: int, part: str = 'fit', where: str = 'heldout'):
        if part not in HELDOUT_PARTS:
            raise ValueError(f'{where}: part must be one of {HELDOUT_PARTS}, got {part!r}')
        self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        self.part, self.size, self.seed = part, size, seed
        labels = self.dataset.get_gt_labels()
        classes = list(self.dataset.metainfo['classes'])
        fit, heldout = heldout_split(labels, size, seed, classes, where)
        _check_fit_classes(labels[fit], labels, classes, where)
        self.indices = fit if part == 'fit' else heldout
        self.num_rows = len(labels)

    @property
    def metainfo(self) -> dict:
        """The wrapped data set's meta information (classes ...)."""
        return copy.deepcopy(self.dataset.metainfo)

    def full_init(self) -> None:
        """The split is made on construction; nothing is left to initialise (mmengine's dataloader builder calls
        this)."""

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> dict:
        return self.dataset[int(self.indices[index])]

    def get_data_info(self, index: int) -> dict:
        """The annotation of row ``index`` of this part."""
        return self.dataset.get_data_info(int(self.indices[index]))

    def get_gt_labels(self) -> np.ndarray:
        """Labels of this part's rows, in order."""
        return np.asarray(self.dataset.get_gt_labels())[self.indices]

    def get_cat_ids(self, index: int) -> List[int]:
        """Class indices present in row ``index`` (class-balanced samplers)."""
        return self.dataset.get_cat_ids(int(self.indices[index]))

    def source_indices(self) -> np.ndarray:
        """The rows of the wrapped data set that this part holds (sorted)."""
        return self.indices.copy()

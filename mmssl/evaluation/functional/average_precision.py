"""Average precision for ranking scores, vectorised over columns.

All variants evaluate precision and recall once per *distinct* score (the end of each run of tied
scores), so the result does not depend on how tied samples happen to be ordered.
"""
from typing import Optional

import numpy as np

AP_MODES = ('area', '11points', 'step')
# Columns are ranked in blocks of about this many entries: each (P, N) temporary of a block then stays near 64 MB.
# COCO2014 cross-validation scores 82,783 rows x 4,560 (class, fold, cost) columns; unblocked, its float64
# temporaries took about 3 GB each, more than the 24 GB machine had left beside the features and the solver.
_BLOCK_ENTRIES = 1 << 23


def _as_columns(array: np.ndarray) -> np.ndarray:
    array = np.asarray(array)
    if array.ndim not in (1, 2):
        raise ValueError(f'expected a 1-D or 2-D array, got shape {array.shape}')
    return array.reshape(len(array), -1)


def _ranked_curve(scores, positives, valid):
    """Precision at every rank of the descending score order, one row per column of the input.

    Works on (P, N) arrays - column ``p`` of the caller's (N, P) input is row ``p`` - so that
    sorting, gathering and running sums all walk contiguous memory; along the strided axis of an
    (N, P) array they were several times slower (the low-shot protocol spent 17 s of 150 s there).

    Returns ``(is_pos, precision, recall, is_end, npos)``, where ``is_end`` marks the last rank of
    each run of tied scores - the only ranks where precision and recall are defined.
    """
    # The order inside a run of ties does not matter (only run ends are read), so the faster
    # unstable sort serves.
    order = np.argsort(-scores, axis=1)
    ranked = np.take_along_axis(scores, order, axis=1)
    is_valid = np.take_along_axis(valid, order, axis=1)
    is_pos = np.take_along_axis(positives, order, axis=1) & is_valid
    tp = np.cumsum(is_pos, axis=1)
    seen = np.cumsum(is_valid, axis=1)
    npos = tp[:, -1].astype(np.float64)
    is_end = np.ones_like(is_valid)
    is_end[:, :-1] = ranked[:, 1:] != ranked[:, :-1]
    with np.errstate(invalid='ignore', divide='ignore'):
        precision = np.where(seen > 0, tp / np.maximum(seen, 1), 0.0)
        recall = tp / npos[:, None]
    return is_pos, precision, recall, is_end, npos


def _valid_width(valid: np.ndarray) -> int:
    """The row length :func:`_valid_first` keeps for (P, N) ``valid``: N, or the most valid entries of a row."""
    width = int(valid.sum(axis=1).max(initial=0))
    return valid.shape[1] if 2 * width > valid.shape[1] else width


def _valid_first(scores, positives, valid, width: int):
    """Keep ``width`` entries per (P, N) row, the valid ones first (see :func:`_valid_width`).

    Cross-validation scores every row but validates a fold of them: ranking only the valid entries
    (moved to the front of each row, in order) sorts a third of the data. The invalid entries kept
    to fill a row are ranked last and count for nothing, as before.
    """
    if width == valid.shape[1]:
        return scores, positives, valid
    order = np.argsort(~valid, axis=1, kind='stable')[:, :width]
    valid = np.take_along_axis(valid, order, axis=1)
    scores = np.where(valid, np.take_along_axis(scores, order, axis=1), -np.inf)
    return scores, np.take_along_axis(positives, order, axis=1), valid


def _value_at_run_end(values: np.ndarray, is_end: np.ndarray) -> np.ndarray:
    """Spread the value at the end of each run of ties back over the whole run (rows of (P, N))."""
    n = values.shape[1]
    end_index = np.where(is_end, np.arange(n), n)
    end_index = np.minimum.accumulate(end_index[:, ::-1], axis=1)[:, ::-1]
    return np.take_along_axis(values, end_index, axis=1)


def average_precision(scores: np.ndarray,
                      targets: np.ndarray,
                      valid: Optional[np.ndarray] = None,
                      mode: str = 'area') -> np.ndarray:
    """Average precision of scores against binary targets, per column.

    Args:
        scores: (N,) or (N, P) real scores, higher means more confident positive.
        targets: same shape; an entry is positive when ``> 0`` (so both {0, 1} and {-1, 1} work).
        valid: optional bool mask of the same shape; rows with False are ignored (VOC difficult).
        mode: ``'area'`` - all-point interpolated AP of VOC2010+: the area under the precision
            envelope ``p(r) = max_{r' >= r} precision(r')``; ``'11points'`` - VOC2007 AP, the mean of
            the envelope at recall 0, 0.1, ..., 1; ``'step'`` - no interpolation,
            ``Σ_n (R_n - R_{n-1}) P_n``, equal to sklearn's ``average_precision_score``.

    Returns:
        np.ndarray: (P,) float64 AP (a 0-d array for 1-D input); NaN where a column has no valid
        positive.
    """
    if mode not in AP_MODES:
        raise ValueError(f'unknown AP mode {mode!r}, expected one of {AP_MODES}')
    one_d = np.ndim(scores) == 1
    scores = _as_columns(scores)
    positives = _as_columns(targets)
    valid = np.ones(positives.shape, dtype=bool) if valid is None else _as_columns(valid)
    if not (scores.shape == positives.shape == valid.shape):
        raise ValueError(f'shape mismatch: scores {scores.shape}, targets {positives.shape}, '
                         f'valid {valid.shape}')
    if not np.isfinite(scores).all():
        raise ValueError('scores contain NaN or inf')
    # Every block keeps the same row length, so a column's AP does not depend on the blocks (to the last bit).
    width = _valid_width(valid.T)
    step = max(1, _BLOCK_ENTRIES // max(1, len(scores)))
    ap = np.concatenate([
        _column_ap(scores[:, lo:lo + step], positives[:, lo:lo + step], valid[:, lo:lo + step], mode, width)
        for lo in range(0, scores.shape[1], step)
    ])
    return ap[0] if one_d else ap


def _column_ap(scores: np.ndarray, positives: np.ndarray, valid: np.ndarray, mode: str, width: int) -> np.ndarray:
    """:func:`average_precision` of the (N, P) columns, ``width`` entries ranked per column."""
    # One contiguous row per column, see _ranked_curve.
    rows = (np.ascontiguousarray(scores.T, dtype=np.float64), np.ascontiguousarray(positives.T > 0),
            np.ascontiguousarray(valid.T, dtype=bool))
    is_pos, precision, recall, is_end, npos = _ranked_curve(*_valid_first(*rows, width))
    # Only run ends are points of the curve; zero elsewhere so they never raise an envelope.
    precision = np.where(is_end, precision, 0.0)
    if mode == 'step':
        per_rank = _value_at_run_end(precision, is_end)
    else:
        per_rank = np.maximum.accumulate(precision[:, ::-1], axis=1)[:, ::-1]
    with np.errstate(invalid='ignore', divide='ignore'):
        if mode == '11points':
            ap = np.array([_eleven_point(*values) for values in zip(per_rank, recall, is_end)])
        else:
            # Each valid positive adds 1/npos of recall at the precision of its (envelope) point.
            ap = (per_rank * is_pos).sum(axis=1) / npos
    return np.where(npos > 0, ap, np.nan)


def _eleven_point(envelope: np.ndarray, recall: np.ndarray, is_end: np.ndarray) -> float:
    ends = np.flatnonzero(is_end)
    end_recall, end_envelope = recall[ends], envelope[ends]
    total = 0.0
    for r in np.linspace(0, 1, 11):
        reached = np.flatnonzero(end_recall >= r - 1e-12)
        total += end_envelope[reached[0]] if len(reached) else 0.0
    return total / 11

"""Honest selection of a probe's regularisation: a seeded, class-balanced held-out split of the training rows.

The split draws only from the training set (the indices it returns are training rows), so no validation row can
take part in choosing ``C``. It is stratified: single-label rows by their class, VOC-style multi-label rows by
their rarest positive class, each stratum giving the held-out split its share of rows (largest remainder), and
every class with two or more training rows at least one, so that a rare class is not left out by rounding. The split
itself is :mod:`mmssl.datasets.heldout` (the linear benchmark's held-out data set draws the same rows).
"""
from typing import Dict

from mmssl.datasets.heldout import heldout_count, heldout_split

__all__ = ['SELECTIONS', 'heldout_count', 'heldout_split', 'select_cost']

#: ``'heldout'``: C chosen on the held-out split of train (the default); ``'val'``: on the validation split, the
#: number it reports then being the one it was chosen on (an explicit option, written in the record).
SELECTIONS = ('heldout', 'val')


def select_cost(points: Dict[float, Dict[str, float]], metric: str) -> float:
    """The ``C`` of ``points`` (C -> metrics) with the best ``metric``; a tie goes to the smaller C (the stronger
    regularisation), so the choice does not depend on the order the grid was written in."""
    if not points:
        raise ValueError('no grid point to select from')
    return min(points, key=lambda cost: (-points[cost][metric], cost))

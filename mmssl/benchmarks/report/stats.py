"""Statistics of a comparison: mean ± 95 % confidence interval per cell, a t-test per compared cell."""
import math
import warnings
from dataclasses import dataclass
from typing import List, Optional

import numpy as np

from .data import Run

#: Confidence level of the intervals.
CONFIDENCE = 0.95
WELCH = "Welch's t-test"
PAIRED = 'paired t-test'


@dataclass
class Cell:
    """The runs of one row on one column: their values, mean and the half-width of the 95 % interval (``None``
    for a single run, which has no interval)."""
    values: List[float]
    seeds: List[str]

    @property
    def n(self) -> int:
        """Number of runs."""
        return len(self.values)

    @property
    def mean(self) -> float:
        """Mean over the runs."""
        return float(np.mean(self.values))

    @property
    def half_width(self) -> Optional[float]:
        """Half-width of the 95 % t-distribution confidence interval of the mean, ``t.ppf(0.975, n - 1) * sem``;
        ``None`` for ``n < 2``."""
        if self.n < 2:
            return None
        # Imported where used: scipy.stats takes about half a second, and every benchmark process imports this
        # module through the registry (mmssl.benchmarks.all).
        from scipy import stats

        # sem: the sample standard deviation (ddof=1) over sqrt(n)
        return float(stats.t.ppf((1 + CONFIDENCE) / 2, self.n - 1) * stats.sem(self.values))


@dataclass
class Test:
    """A significance test of one row against the baseline on one column; ``p`` is ``None`` (with ``reason``)
    where no test applies."""
    kind: Optional[str]
    p: Optional[float]
    reason: str = ''

    def significant(self, alpha: float) -> bool:
        """Whether the difference exceeds the noise at level ``alpha``."""
        return self.p is not None and self.p < alpha


def make_cell(runs: List[Run], metric: str) -> Cell:
    """The cell of ``runs`` on ``metric``, runs ordered by seed."""
    ordered = sorted(runs, key=lambda run: run.seed)
    return Cell([run.record['metrics'][metric] for run in ordered], [run.seed for run in ordered])


def pairs_by_seed(a: Cell, b: Cell) -> bool:
    """Whether the runs of two cells pair by seed: each pairing seed (:func:`~.data.pairing_seeds`) once in each,
    the same set of seeds in both."""
    return len(set(a.seeds)) == a.n and len(set(b.seeds)) == b.n and set(a.seeds) == set(b.seeds)


def compare_cells(cell: Cell, baseline: Cell) -> Test:
    """A paired t-test where the runs pair by seed, else Welch's t-test (unequal variances); no test for a single
    run or for runs without spread."""
    if cell.n < 2 or baseline.n < 2:
        return Test(None, None, 'no test: a row has a single run')
    paired = pairs_by_seed(cell, baseline)
    kind = PAIRED if paired else WELCH
    # both cells are ordered by seed, so equal positions of paired cells are runs of one seed
    differences = np.subtract(cell.values, baseline.values)
    noise = np.ptp(differences) if paired else max(np.ptp(cell.values), np.ptp(baseline.values))
    if noise == 0:
        # scipy would give p = 0 (a difference over zero estimated noise) or no p at all: the runs measure no noise
        return Test(kind, None, f'no test: no spread in the runs, so {kind} has no noise to measure against')
    from scipy import stats  # see Cell.half_width
    if paired:
        result = stats.ttest_rel(cell.values, baseline.values)
    else:
        with warnings.catch_warnings():
            # One row without spread (its runs scored the same, e.g. top-5 of a few hundred images) has a variance
            # of exactly 0, which Welch's test takes as it is (the other row carries the noise); scipy still warns
            # of precision loss for identical values.
            warnings.filterwarnings('ignore', message='Precision loss occurred in moment calculation',
                                    category=RuntimeWarning)
            result = stats.ttest_ind(cell.values, baseline.values, equal_var=False)
    if math.isnan(result.pvalue):
        return Test(kind, None, f'no test: {kind} is undefined for these runs')
    return Test(kind, float(result.pvalue))

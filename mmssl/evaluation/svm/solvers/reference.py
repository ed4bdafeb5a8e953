"""The reference solver: ``sklearn.svm.LinearSVC`` (liblinear) with exactly the protocol settings, one fit per
(problem, cost), spread over processes with joblib. Every fit is seeded with the protocol's ``random_state``, so
identical features give identical decisions."""
import time

import numpy as np
from joblib import Parallel, delayed

from ..protocol import SVMProtocol
from .base import BaseSVMSolver, SVMProblems, SVMSolution


def _chunked_decision(model, features, chunk_rows=8192):
    """``model.decision_function`` over row chunks, each converted to float64 on its own.

    A float64 copy of all evaluation rows at COCO2014 size (40,504 x 9,216) would take 3 GB beside the
    training rows and liblinear's own copy of them; row chunks give the same values.
    """
    return np.concatenate([model.decision_function(np.asarray(features[i:i + chunk_rows], dtype=np.float64))
                           for i in range(0, len(features), chunk_rows)])


def _fit_liblinear(features, rows, targets, train_mask, costs, protocol, eval_features):
    """One problem for all its costs with LinearSVC; runs in a worker process."""
    from sklearn.svm import LinearSVC  # here: see cv_fold_ids (scikit-learn's import time)
    start = time.process_time()
    group = np.asarray(features[rows], dtype=np.float64)
    # A refit trains on every row: indexing with the all-true mask would copy the group once more.
    train_x = group if train_mask.all() else group[train_mask]
    train_y = targets[train_mask]
    decision = np.empty((len(rows), len(costs)))
    eval_decision = None if eval_features is None else np.empty((len(costs), len(eval_features)))
    for k, cost in enumerate(costs):
        model = LinearSVC(C=cost, class_weight=dict(protocol.class_weight),
                          intercept_scaling=protocol.intercept_scaling, fit_intercept=True,
                          penalty='l2', loss='squared_hinge', dual=True, tol=protocol.tol,
                          max_iter=protocol.max_iter, random_state=protocol.random_state)
        model.fit(train_x, train_y)
        decision[:, k] = model.decision_function(group)
        if eval_decision is not None:
            eval_decision[k] = _chunked_decision(model, eval_features)
    return decision, eval_decision, time.process_time() - start


class SklearnSVMSolver(BaseSVMSolver):
    """Reference: ``LinearSVC`` (liblinear) with the protocol settings, one fit per (problem, cost).

    liblinear is single-threaded, so independent fits run in ``n_jobs`` processes. Features are
    passed as memory maps (joblib memory-maps large arrays), never copied into every worker.

    Args:
        protocol: the SVM settings.
        n_jobs: worker processes; -1 uses all cores.
    """

    def __init__(self, protocol: SVMProtocol, n_jobs: int = -1):
        super().__init__(protocol)
        self.n_jobs = n_jobs

    def solve(self, problems: SVMProblems) -> SVMSolution:
        self._check_ready(problems)
        b, n, m, c = problems.shape
        scored = np.flatnonzero(problems.evaluate)
        tasks = [(g, j) for g in range(b) for j in range(m)]
        start = time.perf_counter()
        outputs = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_liblinear)(self.train_features, problems.rows[g], problems.targets[g, :, j],
                                    problems.train_mask[g, :, j], problems.costs[j], self.protocol,
                                    self.eval_features if problems.evaluate[j] else None)
            for g, j in tasks)
        decision = np.empty((b, n, m, c))
        eval_decision = np.empty((b, len(scored), c, len(self.eval_features))) if len(scored) else None
        for (g, j), (dec, eval_dec, _) in zip(tasks, outputs):
            decision[g, :, j] = dec
            if eval_dec is not None:
                eval_decision[g, np.searchsorted(scored, j)] = eval_dec
        info = dict(fits=b * m * c, wall_time=time.perf_counter() - start,
                    cpu_time=sum(out[2] for out in outputs))
        self.history.append(info)
        return SVMSolution(decision, eval_decision, info)

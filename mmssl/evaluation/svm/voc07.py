"""The full VOC07 SVM protocol: per-class cost by 3-fold CV on trainval, refit, test AP."""
import os.path as osp
import time
from typing import List, Optional, Sequence

import numpy as np
from mmengine.logging import MMLogger
from mmengine.utils import ProgressBar

from mmssl.evaluation.functional import average_precision

from ..feature_folder import FeatureSplit
from .protocol import NEGATIVE, POSITIVE, cv_fold_ids, evaluation_mask, select_cost, train_targets
from .solvers import BaseSVMSolver, SVMProblems
from .store import PartialResults, data_signature, write_json

RESULT_FILE = 'voc07_svm.json'


def check_splits(train: FeatureSplit, test: FeatureSplit) -> None:
    """Raise if train and test cannot be used together (classes, layer or dimension differ)."""
    if train.classes != test.classes:
        raise ValueError(f'trainval and test list different classes: {train.classes} vs {test.classes}')
    if train.features.shape[1] != test.features.shape[1]:
        raise ValueError(f'{train.layer}: trainval has {train.features.shape[1]} dims, test has '
                         f'{test.features.shape[1]}')


def check_trainable(targets: np.ndarray, classes: Sequence[str], min_count: int, what: str) -> None:
    """Raise naming the class if it has fewer than ``min_count`` positives or negatives."""
    for p, name in enumerate(classes):
        counts = {label: int((targets[:, p] == label).sum()) for label in (POSITIVE, NEGATIVE)}
        if min(counts.values()) < min_count:
            raise ValueError(f'class {name!r} has {counts[POSITIVE]} positives and {counts[NEGATIVE]} '
                             f'negatives; {what} needs at least {min_count} of each')


def cross_validate(solver: BaseSVMSolver, targets: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """Validation AP of every (class, fold, cost) of the protocol.

    Args:
        solver: a prepared solver.
        targets: (N, p) ±1 training targets.
        folds: (N, p) fold ids from :func:`cv_fold_ids`.

    Returns:
        np.ndarray: (p, folds, costs) AP in percent on each held-out fold.
    """
    protocol = solver.protocol
    n, p = targets.shape
    num_folds, costs = protocol.cv_folds, protocol.costs
    # Column (class i, fold f) trains on the rows outside fold f and is scored on fold f.
    held_out = np.stack([folds[:, i] == f for i in range(p) for f in range(num_folds)], axis=1)
    problems = SVMProblems(rows=np.arange(n)[None], targets=np.repeat(targets, num_folds, axis=1)[None],
                           train_mask=~held_out[None], costs=np.tile(costs, (p * num_folds, 1)))
    decision = solver.solve(problems).decision[0]  # (n, p·folds, costs)
    columns = decision.reshape(n, -1)
    ap = average_precision(columns, np.repeat(problems.targets[0], len(costs), axis=1),
                           valid=np.repeat(held_out, len(costs), axis=1), mode=protocol.cv_metric)
    return 100 * ap.reshape(p, num_folds, len(costs))


def refit_and_test(solver: BaseSVMSolver, targets: np.ndarray, costs: np.ndarray,
                   test_labels: np.ndarray) -> np.ndarray:
    """Train each class on all of trainval at its cost and return its test AP in percent.

    Args:
        solver: a solver prepared with the test features as evaluation rows.
        targets: (N, p) ±1 training targets.
        costs: (p,) chosen costs.
        test_labels: (N_test, p) VOC labels; difficult rows are left out of the AP.

    Returns:
        np.ndarray: (p,) AP.
    """
    n, p = targets.shape
    problems = SVMProblems(rows=np.arange(n)[None], targets=targets[None],
                           train_mask=np.ones((1, n, p), dtype=bool), costs=costs[:, None],
                           evaluate=np.ones(p, dtype=bool))
    scores = solver.solve(problems).eval_decision[0, :, 0].T  # (N_test, p)
    return 100 * average_precision(scores, test_labels, valid=evaluation_mask(test_labels),
                                   mode=solver.protocol.test_metric)


def run_voc07_svm(train: FeatureSplit,
                  test: FeatureSplit,
                  solver: BaseSVMSolver,
                  work_dir: str,
                  class_batch: Optional[int] = None,
                  solver_name: Optional[str] = None,
                  recompute: bool = False) -> dict:
    """Run the VOC07 SVM protocol on one layer, resuming from finished classes in ``work_dir``.

    For every class: targets are 1 for positives and -1 for negatives and difficult images; the
    cost is chosen by stratified unshuffled k-fold CV on trainval (mean validation AP, first cost in
    list order on exact ties); the SVM is refit on all of trainval at that cost and its all-point AP
    on the test set, difficult images left out, is reported. Each finished class is written to
    ``work_dir/classes/<class>.json`` at once, so a killed run restarts with the unfinished ones.

    Args:
        train: trainval split of the layer.
        test: test split of the same layer.
        solver: a solver from :func:`build_svm_solver`; ``solver.protocol`` holds the settings.
        work_dir: output directory of this layer.
        class_batch: classes solved together (``None``: all remaining at once). Smaller batches lose
            less work when a run is killed; the fast solver is quickest with all classes together.
        solver_name: recorded in the results.
        recompute: delete partial results of another run (other features, weights or settings) instead of
            refusing them (:class:`~mmssl.evaluation.svm.store.PartialResults`).

    Returns:
        dict: the content of ``work_dir/voc07_svm.json`` - per class the chosen cost, mean CV AP per
        cost, per-fold CV AP and test AP; ``mAP`` over classes; all AP in percent.
    """
    logger = MMLogger.get_current_instance()
    protocol = solver.protocol
    check_splits(train, test)
    targets = train_targets(train.labels)
    check_trainable(targets, train.classes, protocol.cv_folds, f'{protocol.cv_folds}-fold CV')
    folds = cv_fold_ids(targets, protocol.cv_folds)
    signature = dict(protocol=protocol.to_dict(), solver=solver_name, **data_signature(train, test))
    store = PartialResults(osp.join(work_dir, 'classes'), signature, recompute)
    todo = [p for p, name in enumerate(train.classes) if store.get(name) is None]
    if len(todo) < len(train.classes):
        logger.info(f'{train.layer}: resuming, {len(train.classes) - len(todo)} classes already done')
    if todo:
        start = time.perf_counter()
        solver.prepare(train.features, test.features, num_scored=len(todo))  # one refit per class
        logger.info(f'{train.layer}: solver ready in {time.perf_counter() - start:.1f}s, '
                    f'{len(todo)} classes to train')
        progress = ProgressBar(len(todo))
        batch = class_batch or len(todo)
        for lo in range(0, len(todo), batch):
            _solve_classes(todo[lo:lo + batch], solver, train, test, targets, folds, store)
            progress.update(len(todo[lo:lo + batch]))
    results = _assemble(store, train.classes, signature)
    write_json(osp.join(work_dir, RESULT_FILE), results)
    logger.info(f'{train.layer}: VOC07 SVM mAP {results["mAP"]:.2f}')
    return results


def _solve_classes(index: List[int], solver, train, test, targets, folds, store) -> None:
    protocol = solver.protocol
    start = time.perf_counter()
    fold_ap = cross_validate(solver, targets[:, index], folds[:, index])
    mean_ap = fold_ap.mean(axis=1)
    chosen, costs = select_cost(mean_ap, protocol.costs)
    test_ap = refit_and_test(solver, targets[:, index], costs, test.labels[:, index])
    seconds = (time.perf_counter() - start) / len(index)
    for k, p in enumerate(index):
        store.put(train.classes[p], dict(
            chosen_cost=float(costs[k]),
            cv_ap={repr(c): float(v) for c, v in zip(protocol.costs, mean_ap[k])},
            cv_fold_ap=fold_ap[k].T.tolist(),
            test_ap=float(test_ap[k]),
            seconds=seconds))


def _assemble(store: PartialResults, classes: Sequence[str], signature: dict) -> dict:
    per_class = store.items(classes)
    return dict(per_class=per_class, mAP=float(np.mean([v['test_ap'] for v in per_class.values()])),
                classes=list(classes), **signature)

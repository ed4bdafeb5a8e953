"""Low-shot VOC07 SVMs (docs/en/benchmarks/svm_voc07.md).

For each shot count ``k`` and each of several independent samples, every class gets its own
training set: ``k`` positives and ``19·k`` negatives drawn from trainval, never a difficult image.
The SVMs use the full-protocol settings and are tested on the whole test set; per ``k`` the
mean / min / max / std of mAP over the samples is reported.

Cost selection. The published numbers use, for each ``k``, the cost with the best mean *test*
mAP over the samples (``legacy=True`` reproduces this, optimistic by construction). By default
the cost is chosen without the test set: stratified, unshuffled CV inside every low-shot training
set, with ``min(cv_folds, k)`` folds so that every validation fold holds a positive; the
validation AP is averaged over folds, classes and samples, and the best cost is used for all
classes at that ``k`` - one cost per ``k``, like the published protocol, but picked on training
data. With one positive no fold can hold a positive on both sides, so ``k = 1`` uses the cost
selected at the smallest ``k`` that allows CV.
"""
import glob
import hashlib
import json
import os.path as osp
import re
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.logging import MMLogger

from mmssl.constants import LOWSHOT_SHOTS
from mmssl.evaluation.functional import average_precision

from ..feature_folder import FeatureSplit
from .protocol import NEGATIVE, POSITIVE, cv_fold_ids, evaluation_mask, select_cost
from .solvers import BaseSVMSolver, SVMProblems
from .store import PartialResults, data_signature, write_json
from .voc07 import check_splits

DEFAULT_SHOTS = LOWSHOT_SHOTS
NEGATIVES_PER_POSITIVE = 19
SAMPLE_FORMAT = 'mmssl.lowshot_samples.v1'
#: File names of FAIR / mmselfsup sample files: ``<prefix>_sample<s>_k<k>.npy|json``.
FAIR_SAMPLE_NAME = re.compile(r'^(?P<prefix>.*)_sample(?P<sample>\d+)_k(?P<k>\d+)\.(?P<ext>npy|json)$')
#: Labels in FAIR / mmselfsup sample files.
FAIR_DRAWN_POSITIVE, FAIR_DRAWN_NEGATIVE, FAIR_NOT_DRAWN = 1, 0, -1
RESULT_FILE = 'lowshot_svm.json'


@dataclass
class LowShotSamples:
    """Training sets of every (shot count, sample, class).

    Attributes:
        classes: class names.
        rows: ``rows[k][s][c]`` - sorted trainval row indices (int64) of sample ``s`` of class ``c``
            at ``k`` shots, positives and negatives together.
        seed: the generating seed, ``None`` for samples loaded from elsewhere.
    """
    classes: List[str]
    rows: Dict[int, List[List[np.ndarray]]]
    seed: Optional[int] = None

    @property
    def shots(self) -> List[int]:
        return sorted(self.rows)

    @property
    def num_samples(self) -> int:
        return len(next(iter(self.rows.values())))

    def digest(self) -> str:
        """Short hash of all training sets, recorded with results."""
        sha = hashlib.sha1()
        for k in self.shots:
            for sample in self.rows[k]:
                for rows in sample:
                    sha.update(np.asarray(rows, dtype=np.int64).tobytes())
        return sha.hexdigest()


def generate_lowshot_samples(labels: np.ndarray,
                             classes: Sequence[str],
                             shots: Sequence[int] = DEFAULT_SHOTS,
                             num_samples: int = 5,
                             seed: int = 0,
                             negatives_per_positive: int = NEGATIVES_PER_POSITIVE,
                             allow_small_pools: bool = False) -> LowShotSamples:
    """Draw seeded low-shot training sets.

    Each (k, sample, class) has its own generator seeded with ``(seed, k, sample, class)``, so a
    training set does not change when other shot counts or classes are added.

    Args:
        labels: (N, P) trainval VOC labels; difficult (0) is never drawn.
        classes: P class names.
        shots: shot counts ``k``.
        num_samples: independent samples per ``k``.
        seed: base seed.
        negatives_per_positive: negatives drawn per positive (19 in the protocol).
        allow_small_pools: when a class has fewer than ``k`` positives (or ``19k`` negatives), use all of them
            (and log a warning) instead of raising. Off by default: such a training set is not a k-shot one, and
            the FAIR / mmselfsup samplers (``random.sample``) fail there too.

    Returns:
        LowShotSamples

    Raises:
        ValueError: a pool is too small and ``allow_small_pools`` is off; names the class, ``k`` and the counts.
    """
    logger = MMLogger.get_current_instance()
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) or num_samples < 1:
        raise ValueError(f'num_samples (--num-samples) must be an integer >= 1, got {num_samples!r}')
    if not len(shots):
        raise ValueError('no shot counts (--shots) given: expected integers >= 1')
    rows = {}
    for k in shots:
        if k < 1:
            raise ValueError(f'shot counts (--shots) must be integers >= 1, got {k!r} in {list(shots)}')
        rows[int(k)] = [[None] * len(classes) for _ in range(num_samples)]
        for c, name in enumerate(classes):
            pools = (np.flatnonzero(labels[:, c] == POSITIVE), np.flatnonzero(labels[:, c] == NEGATIVE))
            wanted = (k, negatives_per_positive * k)
            if any(len(pool) < want for pool, want in zip(pools, wanted)):
                counts = (f'class {name!r} has {len(pools[0])} positives and {len(pools[1])} negatives '
                          f'(difficult excluded); k={k} needs {wanted[0]} and {wanted[1]}')
                if not allow_small_pools:
                    raise ValueError(f'low-shot pool too small: {counts}. Drop k={k} from the shot counts, or '
                                     'allow_small_pools=True to train on all of them (then it is not a '
                                     f'{k}-shot result)')
                logger.warning(f'{counts}: using all of them (allow_small_pools)')
            for s in range(num_samples):
                rng = np.random.default_rng([seed, k, s, c])
                drawn = [rng.choice(pool, min(want, len(pool)), replace=False)
                         for pool, want in zip(pools, wanted)]
                rows[k][s][c] = np.sort(np.concatenate(drawn)).astype(np.int64)
    return LowShotSamples(list(classes), rows, seed)


def save_lowshot_samples(samples: LowShotSamples, path: str, ids: Sequence[str]) -> None:
    """Write samples as JSON with image ids (the rows of ``trainval_ids.txt``).

    Format::

        {"format": "mmssl.lowshot_samples.v1", "seed": 0, "classes": [...],
         "samples": {"<k>": [{"<class>": ["<image id>", ...], ...},   # sample 0
                             ...]}}                                   # one dict per sample

    Each list is the whole training set of that class - positives and negatives; the labels come
    from the feature directory.

    Args:
        samples: the samples.
        path: output file.
        ids: trainval image ids, in row order.
    """
    content = dict(format=SAMPLE_FORMAT, seed=samples.seed, classes=samples.classes, samples={
        str(k): [{name: [ids[i] for i in sample[c]] for c, name in enumerate(samples.classes)}
                 for sample in samples.rows[k]] for k in samples.shots})
    write_json(path, content)


def load_lowshot_samples(path: str, train: FeatureSplit) -> LowShotSamples:
    """Read low-shot training sets and check them against the trainval features.

    ``path`` is an mmssl sample file (:func:`save_lowshot_samples`), one FAIR / mmselfsup sample file
    (``*_sample{s}_k{k}.npy`` or ``.json``), or a folder of FAIR / mmselfsup sample files (every
    ``*_sample{s}_k{k}`` in it; ``.npy`` is read when both exist).

    Raises ``ValueError`` naming the file, shot count, sample and class when an id is unknown or
    repeated, an image is difficult for that class (or drawn as a positive / negative that the features label
    otherwise), a training set lacks a positive or a negative, classes differ from the features, a label is not
    in {1, 0, -1}, a FAIR array has the wrong shape, or samples per ``k`` differ in number.

    Args:
        path: the file or folder.
        train: the trainval split the ids refer to.

    Returns:
        LowShotSamples
    """
    if osp.isdir(path):
        return _load_fair_sample_dir(path, train)
    if FAIR_SAMPLE_NAME.match(osp.basename(path)) and (path.endswith('.npy') or not _is_mmssl_file(path)):
        match = FAIR_SAMPLE_NAME.match(osp.basename(path))
        k = int(match['k'])
        return LowShotSamples(list(train.classes), {k: [_read_fair_sample(path, k, 0, train)]})
    with open(path) as f:
        content = json.load(f)
    if content.get('format') != SAMPLE_FORMAT:
        raise ValueError(f'{path}: not a low-shot sample file (format {content.get("format")!r}, '
                         f'expected {SAMPLE_FORMAT!r})')
    if content.get('classes') != train.classes:
        raise ValueError(f'{path}: classes {content.get("classes")} differ from the features '
                         f'{train.classes}')
    row_of = {image_id: i for i, image_id in enumerate(train.ids)}
    rows, counts = {}, set()
    for key, sample_list in content['samples'].items():
        k = int(key)
        counts.add(len(sample_list))
        rows[k] = [[_rows_of(path, k, s, name, sample.get(name, []), row_of, train.labels[:, c])
                    for c, name in enumerate(train.classes)] for s, sample in enumerate(sample_list)]
    if not rows or len(counts) != 1 or 0 in counts:
        raise ValueError(f'{path}: every shot count needs the same, non-zero number of samples; '
                         f'found {sorted(counts)}')
    return LowShotSamples(list(train.classes), rows, content.get('seed'))


def _is_mmssl_file(path: str) -> bool:
    with open(path) as f:
        content = json.load(f)
    return isinstance(content, dict) and 'format' in content


def _load_fair_sample_dir(folder: str, train: FeatureSplit) -> LowShotSamples:
    """Every ``<prefix>_sample{s}_k{k}.npy|json`` in ``folder``; samples numbered in file order of ``s``."""
    found = {}
    for file in sorted(glob.glob(osp.join(folder, '*'))):
        match = FAIR_SAMPLE_NAME.match(osp.basename(file))
        if match:
            key = (int(match['k']), int(match['sample']))
            if key not in found or file.endswith('.npy'):  # the .npy twin of a .json holds the same sample
                found[key] = file
    if not found:
        raise ValueError(f'{folder}: no low-shot sample files named <prefix>_sample<s>_k<k>.npy or .json')
    prefixes = {FAIR_SAMPLE_NAME.match(osp.basename(file))['prefix'] for file in found.values()}
    if len(prefixes) != 1:
        raise ValueError(f'{folder}: sample files of several sets {sorted(prefixes)}; keep one set per folder')
    rows = {}
    for k in sorted({k for k, _ in found}):
        samples = sorted(s for kk, s in found if kk == k)
        rows[k] = [_read_fair_sample(found[(k, s)], k, index, train) for index, s in enumerate(samples)]
    counts = {len(sample_list) for sample_list in rows.values()}
    if len(counts) != 1:
        raise ValueError(f'{folder}: every shot count needs the same number of samples; found '
                         f'{ {k: len(v) for k, v in rows.items()} }')
    return LowShotSamples(list(train.classes), rows)


def _read_fair_sample(path: str, k: int, s: int, train: FeatureSplit) -> List[np.ndarray]:
    """Rows of every class's training set in one FAIR / mmselfsup sample file (labels 1 / 0 / -1)."""
    num_images, num_classes = len(train.ids), len(train.classes)
    if path.endswith('.npy'):
        targets = np.load(path, allow_pickle=False)
        if targets.shape != (num_images, num_classes):
            raise ValueError(f'{path}: a {targets.shape} array, expected ({num_images}, {num_classes}) for '
                             f'{num_images} trainval images and {num_classes} classes')
        # FAIR's create_voc_data_files.py sorts images by id and classes by name.
        image_order = np.argsort(np.asarray(train.ids), kind='stable')
        class_order = sorted(range(num_classes), key=lambda c: train.classes[c])
        table = np.full((num_images, num_classes), FAIR_NOT_DRAWN, dtype=np.int64)
        table[np.ix_(image_order, class_order)] = targets
    else:
        with open(path) as f:
            content = json.load(f)
        if not isinstance(content, dict) or not all(isinstance(v, dict) for v in content.values()):
            raise ValueError(f'{path}: expected {{image id: {{class: label}}}} (FAIR / mmselfsup sample JSON)')
        row_of = {image_id: i for i, image_id in enumerate(train.ids)}
        unknown = [image_id for image_id in content if image_id not in row_of]
        if unknown:
            raise ValueError(f'{path}: unknown image ids {unknown[:5]}')
        extra = sorted({name for labels in content.values() for name in labels} - set(train.classes))
        if extra:
            raise ValueError(f'{path}: classes {extra} are not among the features\' classes {train.classes}')
        table = np.full((num_images, num_classes), FAIR_NOT_DRAWN, dtype=np.int64)
        for image_id, labels in content.items():
            for c, name in enumerate(train.classes):
                value = labels.get(name, FAIR_NOT_DRAWN)
                if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
                    raise ValueError(f'{path}: image {image_id!r}, class {name!r}: label {value!r} is not 1, 0 or -1')
                table[row_of[image_id], c] = int(value)
    bad = sorted(set(np.unique(table).tolist()) - {FAIR_DRAWN_POSITIVE, FAIR_DRAWN_NEGATIVE, FAIR_NOT_DRAWN})
    if bad:
        raise ValueError(f'{path}: labels {bad[:5]} are not 1 (drawn positive), 0 (drawn negative) or -1 (not drawn)')
    sample, row_of = [], {image_id: i for i, image_id in enumerate(train.ids)}
    for c, name in enumerate(train.classes):
        where = f'{path}: k={k}, sample {s}, class {name!r}'
        for drawn, expected, word in ((FAIR_DRAWN_POSITIVE, POSITIVE, 'positive'),
                                      (FAIR_DRAWN_NEGATIVE, NEGATIVE, 'negative')):
            rows = np.flatnonzero(table[:, c] == drawn)
            wrong = rows[train.labels[rows, c] != expected]
            if len(wrong):
                actual = {POSITIVE: 'positive', NEGATIVE: 'negative'}.get(int(train.labels[wrong[0], c]), 'difficult')
                raise ValueError(f'{where}: image {train.ids[wrong[0]]!r} is drawn as a {word} but is {actual} in '
                                 'the features; the sample file belongs to other labels')
        rows = np.flatnonzero(table[:, c] != FAIR_NOT_DRAWN)
        sample.append(_rows_of(path, k, s, name, [train.ids[i] for i in rows], row_of, train.labels[:, c]))
    return sample


def _rows_of(path, k, s, name, image_ids, row_of, labels) -> np.ndarray:
    where = f'{path}: k={k}, sample {s}, class {name!r}'
    unknown = [i for i in image_ids if i not in row_of]
    if unknown:
        raise ValueError(f'{where}: unknown image ids {unknown[:5]}')
    rows = np.array([row_of[i] for i in image_ids], dtype=np.int64)
    if len(np.unique(rows)) != len(rows):
        raise ValueError(f'{where}: repeated image ids')
    if (labels[rows] == 0).any():
        raise ValueError(f'{where}: difficult images cannot be drawn, e.g. '
                         f'{image_ids[int(np.flatnonzero(labels[rows] == 0)[0])]!r}')
    if not ((labels[rows] == POSITIVE).any() and (labels[rows] == NEGATIVE).any()):
        raise ValueError(f'{where}: needs at least one positive and one negative')
    return np.sort(rows)


class _ShotBatch:
    """All (class, sample) training sets of one ``k`` as padded groups ``g = c·S + s``."""

    def __init__(self, samples: LowShotSamples, k: int, labels: np.ndarray):
        sets = [rows for c in range(len(samples.classes)) for rows in
                (sample[c] for sample in samples.rows[k])]
        self.num_classes, self.num_samples = len(samples.classes), samples.num_samples
        width = max(len(r) for r in sets)
        self.rows = np.stack([np.pad(r, (0, width - len(r)), mode='edge') for r in sets])
        self.valid = np.stack([np.arange(width) < len(r) for r in sets])
        group_class = np.repeat(np.arange(self.num_classes), self.num_samples)
        self.targets = np.where(labels[self.rows, group_class[:, None]] == POSITIVE, POSITIVE, NEGATIVE)
        self.min_positives = int(((self.targets == POSITIVE) & self.valid).sum(1).min())

    def problems(self, train_mask: np.ndarray, costs: np.ndarray, evaluate: np.ndarray,
                 score_later: bool) -> SVMProblems:
        m = train_mask.shape[2]
        return SVMProblems(self.rows, np.repeat(self.targets[..., None], m, axis=2), train_mask, costs,
                           evaluate, score_later)

    def held_out(self, num_folds: int) -> np.ndarray:
        """(b, n, folds) bool: the stratified, unshuffled CV folds within every training set."""
        held_out = np.zeros(self.rows.shape + (num_folds, ), dtype=bool)
        for g, valid in enumerate(self.valid if num_folds else []):
            folds = cv_fold_ids(self.targets[g, valid][:, None], num_folds)[:, 0]
            held_out[g, valid] = folds[:, None] == np.arange(num_folds)
        return held_out

    def test_ap(self, eval_decision: np.ndarray, test_labels: np.ndarray, mode: str) -> np.ndarray:
        """(P, S, c) test AP in percent from (b, 1, c, N_test) decision values (c costs, or only the chosen one)."""
        num_costs, num_test = eval_decision.shape[2:]
        ap = np.empty((self.num_classes, self.num_samples, num_costs))
        for c in range(self.num_classes):
            groups = slice(c * self.num_samples, (c + 1) * self.num_samples)
            scores = eval_decision[groups, 0].reshape(-1, num_test).T  # (N_test, S·costs)
            labels = np.repeat(test_labels[:, [c]], scores.shape[1], axis=1)
            ap[c] = 100 * average_precision(scores, labels, valid=evaluation_mask(labels),
                                            mode=mode).reshape(self.num_samples, num_costs)
        return ap


def run_lowshot_svm(train: FeatureSplit,
                    test: FeatureSplit,
                    samples: LowShotSamples,
                    solver: BaseSVMSolver,
                    work_dir: str,
                    legacy: bool = False,
                    solver_name: Optional[str] = None,
                    recompute: bool = False,
                    test_per_cost: bool = False) -> dict:
    """Run the low-shot protocol on one layer, resuming from finished shot counts in ``work_dir``.

    Args:
        train: trainval split.
        test: test split.
        samples: training sets, from :func:`generate_lowshot_samples` or a sample file.
        solver: a solver from :func:`build_svm_solver`; ``solver.protocol`` holds the settings.
        work_dir: output directory of this layer.
        legacy: pick the cost per ``k`` by mean test mAP over samples, as the published numbers do.
        solver_name: recorded in the results.
        recompute: delete partial results of another run (other features, weights or settings) instead of
            refusing them (:class:`~mmssl.evaluation.svm.store.PartialResults`).
        test_per_cost: also score every cost's models on the test set and record the mean test mAP per cost
            (for comparison only; legacy selection needs it and always does). Otherwise only the models at the
            chosen cost are scored: a 19th of the scoring, the same results.

    Returns:
        dict: the content of ``work_dir/lowshot_svm.json``: for each ``k`` the chosen cost, how it
        was chosen, the selection score per cost, the mean test mAP per cost (``None`` unless scored, see
        ``test_per_cost``), mAP per sample at the chosen cost and its mean / min / max / std (population std
        over samples), and per-class AP averaged over samples; AP in percent.
    """
    logger = MMLogger.get_current_instance()
    check_splits(train, test)
    if samples.classes != train.classes:
        raise ValueError(f'sample classes {samples.classes} differ from the features {train.classes}')
    protocol = solver.protocol
    signature = dict(protocol=protocol.to_dict(), solver=solver_name, legacy=legacy, test_per_cost=test_per_cost,
                     samples=samples.digest(), seed=samples.seed, **data_signature(train, test))
    store = PartialResults(osp.join(work_dir, 'lowshot_parts'), signature, recompute)
    batches = {k: _ShotBatch(samples, k, train.labels) for k in samples.shots}
    selectable = [k for k in samples.shots if batches[k].min_positives >= 2]
    if not legacy and len(protocol.costs) > 1 and not selectable:
        raise ValueError('choosing the cost by CV needs training sets with at least 2 positives; use '
                         'legacy cost selection or a single cost')
    # Shot counts that allow CV go first: the others take the cost chosen at the smallest of them.
    order = selectable + [k for k in samples.shots if k not in selectable]
    todo = [k for k in order if store.get(f'k{k}') is None]
    per_cost = legacy or test_per_cost
    if todo:  # every training set is scored on the test set, at every cost or at the chosen one
        solver.prepare(train.features, test.features, num_scored=len(todo) * len(samples.classes)
                       * samples.num_samples * (len(protocol.costs) if per_cost else 1))
    for k in todo:
        start = time.perf_counter()
        # A single cost needs no choice, so nothing is inherited (there may be no k that allows CV at all).
        inherits = not legacy and k not in selectable and len(protocol.costs) > 1
        inherited = store.get(f'k{selectable[0]}') if inherits else None
        result = _run_shot(batches[k], solver, test.labels, legacy, inherited, selectable, per_cost)
        result['seconds'] = time.perf_counter() - start
        store.put(f'k{k}', result)
        logger.info(f'{train.layer} k={k}: mAP {result["mean"]:.2f} ± {result["std"]:.2f} at cost '
                    f'{result["chosen_cost"]:g} ({result["selection"]}), {result["seconds"]:.1f}s')
    results = dict(shots={str(k): store.get(f'k{k}') for k in samples.shots}, classes=train.classes,
                   num_samples=samples.num_samples, **signature)
    write_json(osp.join(work_dir, RESULT_FILE), results)
    return results


def _run_shot(batch: _ShotBatch, solver: BaseSVMSolver, test_labels: np.ndarray, legacy: bool,
              inherited: Optional[dict], selectable: List[int], per_cost: bool) -> dict:
    """Train every training set of one ``k`` at every cost, pick the cost and test its models (or every cost's
    models when ``per_cost``)."""
    protocol = solver.protocol
    costs = np.asarray(protocol.costs)
    use_cv = not legacy and inherited is None and len(costs) > 1
    num_folds = min(protocol.cv_folds, batch.min_positives) if use_cv else 0
    held_out = batch.held_out(num_folds)
    # Fold problems first, then the whole training set - the only one scored on the test set.
    train_mask = np.concatenate([batch.valid[..., None] & ~held_out, batch.valid[..., None]], axis=2)
    solution = solver.solve(batch.problems(train_mask, np.tile(costs, (num_folds + 1, 1)),
                                           evaluate=np.arange(num_folds + 1) == num_folds,
                                           score_later=not per_cost))
    test_ap = test_map = scores = None
    if per_cost:
        test_ap = batch.test_ap(solution.eval_decision, test_labels, protocol.test_metric)  # (P, S, c)
        test_map = test_ap.mean(axis=(0, 1))
    if len(costs) == 1:
        selection, index = 'single cost', 0
    elif legacy:
        selection, scores = 'legacy: best mean test mAP', test_map
    elif use_cv:
        selection, scores = 'cv', _cv_scores(solution.decision[:, :, :num_folds], batch.targets,
                                             held_out, protocol.cv_metric)
    else:
        selection = f'inherited from k={selectable[0]}'
        index = int(np.flatnonzero(costs == inherited['chosen_cost'])[0])
    if scores is not None:
        index = int(select_cost(scores[None], costs)[0][0])
    if per_cost:
        chosen_ap = test_ap[..., index]
    else:
        chosen_scores = solver.score(solution, np.full((len(batch.rows), 1), index))[:, :, None]  # (b, 1, 1, N_test)
        chosen_ap = batch.test_ap(chosen_scores, test_labels, protocol.test_metric)[..., 0]  # (P, S)
    return _summary(chosen_ap, costs, index, selection, scores, test_map)


def _cv_scores(decision: np.ndarray, targets: np.ndarray, held_out: np.ndarray, mode: str) -> np.ndarray:
    """Mean validation AP per cost over folds, classes and samples.

    Args:
        decision: (b, n, folds, c) decision values of the fold problems.
        targets: (b, n) ±1.
        held_out: (b, n, folds) validation rows of each fold.
        mode: AP variant.

    Returns:
        np.ndarray: (c,) AP in percent.
    """
    b, n, num_folds, num_costs = decision.shape
    columns = decision.transpose(1, 0, 2, 3).reshape(n, -1)
    shape = (n, b, num_folds, num_costs)
    labels = np.broadcast_to(targets.T[:, :, None, None], shape).reshape(n, -1)
    valid = np.broadcast_to(held_out.transpose(1, 0, 2)[..., None], shape).reshape(n, -1)
    ap = average_precision(columns, labels, valid=valid, mode=mode)
    return 100 * ap.reshape(b, num_folds, num_costs).mean(axis=(0, 1))


def _summary(test_ap: np.ndarray, costs: np.ndarray, index: int, selection: str,
             scores: Optional[np.ndarray], test_map: np.ndarray) -> dict:
    """Statistics of one ``k`` from (P, S) test AP at the chosen cost ``costs[index]``."""
    per_sample = test_ap.mean(axis=0)
    by_cost = (lambda values: None if values is None else
               {repr(float(c)): float(v) for c, v in zip(costs, values)})
    return dict(chosen_cost=float(costs[index]), selection=selection,
                selection_scores=by_cost(scores), test_map_per_cost=by_cost(test_map),
                sample_map=per_sample.tolist(), mean=float(per_sample.mean()),
                min=float(per_sample.min()), max=float(per_sample.max()), std=float(per_sample.std()),
                class_ap=test_ap.mean(axis=1).tolist())

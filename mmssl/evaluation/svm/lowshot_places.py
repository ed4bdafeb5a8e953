"""Low-shot Places205 SVMs (the FAIR self-supervision benchmark's Places205 low-shot task).

Protocol, as in facebookresearch/fair_self_supervision_benchmark (``extra_scripts/create_places_low_shot_samples.py``,
``tools/svm/svm_helper.py`` with ``dataset='places'``, ``tools/svm/test_svm_low_shot.py`` and
``tools/svm/aggregate_low_shot_svm_stats.py``):

- For each ``k`` in {1, 2, 4, 8, 16, 32, 64, 96} and each of 5 independent samples, ``k`` training
  images are drawn per class; a ``k`` larger than the smallest class is skipped (and logged).
- One-vs-all: for every class an SVM is trained on the whole sample, its ``k`` images positive and the
  other classes' sampled images negative, with the VOC07 SVM settings (squared hinge, regularised bias,
  class weights 2 / 1), at every cost of the list (FAIR's command uses the 26-value list, ``voc07_26``).
- Every model is tested on the full Places205 val set: AP per class (all-point), mean over classes per
  sample, then mean / min / max / std over the samples per ``k``.

Cost selection. FAIR picks, per ``k``, the cost with the best mean *test* mAP over samples
(``legacy=True``). By default the cost is chosen without the test set: stratified, unshuffled CV with
``min(cv_folds, k)`` folds inside every sample, validation AP averaged over folds, classes and samples,
one cost per ``k``; ``k = 1`` (one positive per class, no CV possible) takes the cost of the smallest
``k`` that allows CV. Samples are seeded by default; FAIR's sample files are accepted
(:func:`read_fair_places_samples`).

Labels of a Places split are either (N,) class indices or (N, P) one-hot in the feature folder's
encoding (1 for the image's class, -1 elsewhere), so a feature folder written by the extraction tools
can be used unchanged.
"""
import glob
import hashlib
import os.path as osp
import re
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.logging import MMLogger

from mmssl.evaluation.functional import average_precision

from ..feature_folder import FeatureSplit
from .lowshot import DEFAULT_SHOTS, _summary
from .protocol import NEGATIVE, POSITIVE, cv_fold_ids, select_cost
from .solvers import BaseSVMSolver, SVMProblems
from .store import PartialResults, data_signature, write_json
from .voc07 import check_splits

RESULT_FILE = 'places205_lowshot_svm.json'
#: The cost list of FAIR's low-shot commands (1e-7 ... 100 and 2^-4 ... 2^-19).
PLACES_LOWSHOT_COSTS = 'voc07_26'
_FAIR_FILE = re.compile(r'train_images_sample(?P<sample>\d+)_k(?P<k>\d+)\.npy$')
_SCAN_ROWS = 4096


def class_indices(labels: np.ndarray, num_classes: int, where: str) -> np.ndarray:
    """(N,) int64 class of every row from (N,) indices or (N, P) one-hot ±1 labels; raises naming ``where``."""
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim == 1:
        if not np.issubdtype(labels.dtype, np.integer) or labels.min(initial=0) < 0 or \
                labels.max(initial=0) >= num_classes:
            raise ValueError(f'{where}: class indices must be integers in 0..{num_classes - 1}')
        return labels.astype(np.int64)
    if labels.ndim != 2 or labels.shape[1] != num_classes:
        raise ValueError(f'{where}: labels must be (N,) class indices or (N, {num_classes}) one-hot, got '
                         f'{labels.shape}')
    positives = (labels == POSITIVE).sum(1)
    bad = np.flatnonzero((positives != 1) | ~np.isin(labels, (POSITIVE, NEGATIVE)).all(1))
    if len(bad):
        raise ValueError(f'{where}: row {bad[0]} is not one-hot (exactly one 1, -1 elsewhere): Places205 images '
                         'have one class each')
    return labels.argmax(1).astype(np.int64)


@dataclass
class PlacesLowShotSamples:
    """Training samples of every (shot count, sample).

    Attributes:
        classes: class names.
        rows: ``rows[k][s]`` - sorted train row indices (int64) of sample ``s`` at ``k`` shots, ``k`` per class.
        seed: the generating seed, ``None`` for samples read from files.
        skipped: shot counts dropped because a class has fewer images.
    """
    classes: List[str]
    rows: Dict[int, List[np.ndarray]]
    seed: Optional[int] = None
    skipped: Sequence[int] = ()

    @property
    def shots(self) -> List[int]:
        return sorted(self.rows)

    @property
    def num_samples(self) -> int:
        return len(next(iter(self.rows.values())))

    def digest(self) -> str:
        """Short hash of all samples, recorded with results."""
        sha = hashlib.sha1()
        for k in self.shots:
            for rows in self.rows[k]:
                sha.update(str(k).encode())
                sha.update(np.asarray(rows, dtype=np.int64).tobytes())
        return sha.hexdigest()


def generate_places_lowshot_samples(labels: np.ndarray,
                                    classes: Sequence[str],
                                    shots: Sequence[int] = DEFAULT_SHOTS,
                                    num_samples: int = 5,
                                    seed: int = 0) -> PlacesLowShotSamples:
    """Draw seeded samples of ``k`` images per class (FAIR's ``sample_data``, but repeatable).

    Each (k, sample, class) has its own generator seeded with ``(seed, k, sample, class)``. A ``k`` above
    the smallest class size is skipped with a log line, as FAIR's script does.

    Args:
        labels: (N,) class indices or (N, P) one-hot labels of the train pool.
        classes: P class names.
        shots: shot counts.
        num_samples: independent samples per ``k``.
        seed: base seed.
    """
    index = class_indices(labels, len(classes), 'train labels')
    pools = [np.flatnonzero(index == c) for c in range(len(classes))]
    smallest = int(np.argmin([len(p) for p in pools]))
    logger = MMLogger.get_current_instance()
    rows, skipped = {}, []
    for k in shots:
        if k < 1:
            raise ValueError(f'shot counts must be positive, got {k}')
        if k > len(pools[smallest]):
            logger.info(f'Places205 low-shot: k={k} skipped, class {classes[smallest]!r} has only '
                        f'{len(pools[smallest])} images')
            skipped.append(int(k))
            continue
        rows[int(k)] = [np.sort(np.concatenate([np.random.default_rng([seed, k, s, c]).choice(pool, k, replace=False)
                                                for c, pool in enumerate(pools)])).astype(np.int64)
                        for s in range(num_samples)]
    if not rows:
        raise ValueError(f'no shot count of {list(shots)} fits: class {classes[smallest]!r} has '
                         f'{len(pools[smallest])} images')
    return PlacesLowShotSamples(list(classes), rows, seed, skipped)


def _row_lookup(ids: Sequence[str]) -> Dict[str, int]:
    """Train rows by id, and by id without extension (FAIR lists full paths, ids may be relative)."""
    lookup = {}
    for row, image_id in enumerate(ids):
        for key in (image_id.replace('\\', '/'), osp.splitext(image_id.replace('\\', '/'))[0]):
            lookup.setdefault(key, row)
    return lookup


def _match(path: str, lookup: Dict[str, int]) -> Optional[int]:
    """The train row whose id is the longest trailing part of ``path`` (with or without extension)."""
    parts = path.replace('\\', '/').split('/')
    for i in range(len(parts)):
        tail = '/'.join(parts[i:])
        for key in (tail, osp.splitext(tail)[0]):
            if key in lookup:
                return lookup[key]
    return None


def _load_strings(path: str) -> List[str]:
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError:
        raise ValueError(f'{path}: holds Python objects; only plain string arrays are read (no pickles)') from None
    if array.dtype.kind == 'S':
        return [s.decode('utf-8') for s in array.reshape(-1)]
    if array.dtype.kind != 'U':
        raise ValueError(f'{path}: expected an array of image paths, got dtype {array.dtype}')
    return [str(s) for s in array.reshape(-1)]


def read_fair_places_samples(sample_dir: str, labels: np.ndarray, ids: Sequence[str], classes: Sequence[str],
                             where: str = 'train labels') -> PlacesLowShotSamples:
    """Read FAIR's ``train_images_sample{s}_k{k}.npy`` / ``train_labels_sample{s}_k{k}.npy`` files.

    The images file holds image paths (as written by ``create_places_low_shot_samples.py``: full paths,
    ``k`` per class, class by class), the labels file their class indices ((N,) or (N, 1)). Paths are
    matched to ``train.ids`` by their trailing components (``.../a/abbey/00000001.jpg`` matches the id
    ``a/abbey/00000001.jpg`` or ``a/abbey/00000001``). The rows returned index ``labels`` / ``ids`` (the train
    pool: a feature folder's train split, or the whole train list before any extraction).

    Args:
        sample_dir: the folder of the files.
        labels: (N,) class indices or (N, P) one-hot labels of the train pool.
        ids: its N image ids (e.g. the list's relative paths).
        classes: the P class names.
        where: what ``labels`` are, for messages.

    Raises ``ValueError`` naming the file when an images file has no labels file or a different length,
    a path matches no train image, a label disagrees with the features' label of that image, a class is
    missing from a sample or has a count other than ``k``, or shot counts have different sample sets.
    """
    files = sorted(glob.glob(osp.join(sample_dir, 'train_images_sample*_k*.npy')))
    if not files:
        raise FileNotFoundError(f'{sample_dir}: no train_images_sample{{s}}_k{{k}}.npy files')
    classes = list(classes)
    train_index = class_indices(labels, len(classes), where)
    lookup = _row_lookup(ids)
    found: Dict[int, Dict[int, np.ndarray]] = {}
    for path in files:
        match = _FAIR_FILE.search(osp.basename(path))
        if match is None:
            continue
        sample, k = int(match['sample']), int(match['k'])
        labels_file = osp.join(sample_dir, f'train_labels_sample{sample}_k{k}.npy')
        if not osp.isfile(labels_file):
            raise FileNotFoundError(f'{path}: its labels file {labels_file} does not exist')
        images = _load_strings(path)
        file_labels = np.load(labels_file, allow_pickle=False).reshape(-1)
        if len(file_labels) != len(images):
            raise ValueError(f'{labels_file} has {len(file_labels)} labels but {path} lists {len(images)} images')
        rows = np.empty(len(images), dtype=np.int64)
        for i, image in enumerate(images):
            row = _match(image, lookup)
            if row is None:
                raise ValueError(f'{path}: image {i} {image!r} is not among the train features\' ids')
            if int(file_labels[i]) != train_index[row]:
                raise ValueError(f'{labels_file}: image {i} {image!r} has label {int(file_labels[i])} but the '
                                 f'features label it {train_index[row]} ({classes[train_index[row]]!r})')
            rows[i] = row
        counts = np.bincount(train_index[rows], minlength=len(classes))
        missing = np.flatnonzero(counts == 0)
        if len(missing):
            raise ValueError(f'{path}: class {classes[missing[0]]!r} is missing from the sample ({len(missing)} '
                             'classes have no image); every class needs its k positives')
        wrong = np.flatnonzero(counts != k)
        if len(wrong):
            raise ValueError(f'{path}: class {classes[wrong[0]]!r} has {counts[wrong[0]]} images, expected k={k}')
        if len(np.unique(rows)) != len(rows):
            raise ValueError(f'{path}: an image is listed twice')
        found.setdefault(k, {})[sample] = np.sort(rows)
    sample_sets = {k: tuple(sorted(v)) for k, v in found.items()}
    if len(set(sample_sets.values())) != 1:
        raise ValueError(f'{sample_dir}: shot counts have different samples: {sample_sets}')
    rows = {k: [found[k][s] for s in sorted(found[k])] for k in sorted(found)}
    return PlacesLowShotSamples(classes, rows, None)


def _check_split(split: FeatureSplit, num_classes: int) -> np.ndarray:
    """Row counts agree and the features are finite; returns the class index of every row."""
    if len(split.features) != len(split.labels) or len(split.ids) != len(split.labels):
        raise ValueError(f'{split.split} split of {split.layer}: {len(split.features)} feature rows, '
                         f'{len(split.labels)} label rows and {len(split.ids)} ids disagree')
    return class_indices(split.labels, num_classes, f'{split.split} labels of {split.layer}')


def _check_finite(features: np.ndarray, rows: Optional[np.ndarray], what: str) -> None:
    total = len(features) if rows is None else len(rows)
    for lo in range(0, total, _SCAN_ROWS):
        index = slice(lo, lo + _SCAN_ROWS) if rows is None else rows[lo:lo + _SCAN_ROWS]
        chunk = np.asarray(features[index])
        finite = np.isfinite(chunk)
        if not finite.all():
            row, col = np.argwhere(~finite)[0]
            row = lo + row if rows is None else int(rows[lo + row])
            raise ValueError(f'{what}: NaN or inf in the features, first at row {row}, column {col}')


def check_places_lowshot(train: FeatureSplit, test: FeatureSplit, samples: PlacesLowShotSamples,
                         solver: BaseSVMSolver) -> tuple:
    """Everything :func:`run_places_lowshot_svm` needs, checked before its first SVM (a benchmark calls it for
    every layer before training any): rows, ids and labels agree, every sample holds every class, the rows used
    are finite, and the largest sample fits the solver's memory budget.

    Returns:
        tuple: the (N_train,) and (N_test,) class index of every row.
    """
    check_splits(train, test)
    if list(samples.classes) != list(train.classes):
        raise ValueError(f'sample classes differ from the features ({len(samples.classes)} vs '
                         f'{len(train.classes)} classes)')
    num_classes = len(train.classes)
    train_index = _check_split(train, num_classes)
    test_index = _check_split(test, num_classes)
    for k in samples.shots:
        for s, rows in enumerate(samples.rows[k]):
            counts = np.bincount(train_index[rows], minlength=num_classes)
            if (counts == 0).any():
                raise ValueError(f'k={k}, sample {s}: class {train.classes[int(np.argmin(counts))]!r} is missing '
                                 'from the sample')
    used = np.unique(np.concatenate([rows for k in samples.shots for rows in samples.rows[k]]))
    _check_finite(train.features, used, f'{train.split} split of {train.layer}')
    _check_finite(test.features, None, f'{test.split} split of {test.layer}')
    check_sample_memory(samples, solver, train.features.shape[1], len(test), train.layer)
    return train_index, test_index


def check_sample_memory(samples: PlacesLowShotSamples, solver: BaseSVMSolver, dim: int, num_test: int,
                        layer: str) -> None:
    """Raise ``ValueError`` naming ``layer`` and k when the largest sample does not fit the solver's budget.

    The largest sample is solved last (k ascending), so a budget it exceeds must fail before the first SVM; a
    benchmark can call this before extracting anything, once it knows the feature dimension ``dim``.
    """
    largest = max(samples.shots, key=lambda k: max(len(rows) for rows in samples.rows[k]))
    try:
        solver.check_memory(max(len(rows) for rows in samples.rows[largest]), dim, num_test)
    except ValueError as error:
        raise ValueError(f'{layer}, k={largest}: {error}') from None


def run_places_lowshot_svm(train: FeatureSplit,
                           test: FeatureSplit,
                           samples: PlacesLowShotSamples,
                           solver: BaseSVMSolver,
                           work_dir: str,
                           legacy: bool = False,
                           solver_name: Optional[str] = None,
                           class_batch: int = 32,
                           recompute: bool = False) -> dict:
    """Run the Places205 low-shot protocol on one layer, resuming finished (k, sample) pairs in ``work_dir``.

    Args:
        train: the train pool (all images the samples refer to).
        test: the Places205 val split.
        samples: from :func:`generate_places_lowshot_samples` or :func:`read_fair_places_samples`.
        solver: a solver from :func:`build_svm_solver`; ``solver.protocol`` holds the settings.
        work_dir: output directory of this layer.
        legacy: pick the cost per ``k`` by mean test mAP over samples, as FAIR's aggregation does.
        solver_name: recorded in the results.
        class_batch: classes solved together (bounds the decision values held at once).
        recompute: delete partial results of another run instead of refusing them.

    Returns:
        dict: the content of ``work_dir/places205_lowshot_svm.json``: per ``k`` the chosen cost and how it was
        chosen, selection scores and mean test mAP per cost, mAP per sample, its mean / min / max / std, per-class
        AP averaged over samples (percent); ``skipped_shots``.
    """
    logger = MMLogger.get_current_instance()
    train_index, test_index = check_places_lowshot(train, test, samples, solver)
    num_classes = len(train.classes)
    protocol = solver.protocol
    costs = np.asarray(protocol.costs)
    signature = dict(protocol=protocol.to_dict(), solver=solver_name, legacy=legacy, samples=samples.digest(),
                     seed=samples.seed, benchmark='places205_lowshot', **data_signature(train, test))
    store = PartialResults(osp.join(work_dir, 'places205_lowshot_parts'), signature, recompute)
    selectable = [k for k in samples.shots if k >= 2]
    if not legacy and len(costs) > 1 and not selectable:
        raise ValueError('choosing the cost by CV needs k >= 2; use legacy cost selection or a single cost')
    order = selectable + [k for k in samples.shots if k not in selectable]
    test_targets = np.where(test_index[:, None] == np.arange(num_classes), POSITIVE, NEGATIVE).astype(np.int8)
    for k in order:
        if store.get(f'k{k}') is not None:
            continue
        use_cv = not legacy and len(costs) > 1 and k in selectable
        num_folds = min(protocol.cv_folds, k) if use_cv else 0
        parts = []
        for s, rows in enumerate(samples.rows[k]):
            part = store.get(f'k{k}_s{s}')
            if part is None:
                start = time.perf_counter()
                part = _run_sample(train.features, rows, train_index[rows], test.features, test_targets, solver,
                                   num_folds, class_batch)
                part['seconds'] = time.perf_counter() - start
                store.put(f'k{k}_s{s}', part)
            parts.append(part)
        test_ap = np.stack([np.asarray(p['test_ap']) for p in parts], axis=1)  # (P, S, c)
        test_map = test_ap.mean(axis=(0, 1))
        scores = None
        if len(costs) == 1:
            selection, index = 'single cost', 0
        elif legacy:
            selection, scores = 'legacy: best mean test mAP', test_map
        elif use_cv:
            selection, scores = 'cv', np.mean([p['cv_ap'] for p in parts], axis=0)
        else:
            selection = f'inherited from k={selectable[0]}'
            index = int(np.flatnonzero(costs == store.get(f'k{selectable[0]}')['chosen_cost'])[0])
        if scores is not None:
            index = int(select_cost(np.asarray(scores)[None], costs)[0][0])
        result = _summary(test_ap[..., index], costs, index, selection, scores, test_map)
        result['seconds'] = float(sum(p['seconds'] for p in parts))
        store.put(f'k{k}', result)
        logger.info(f'{train.layer} Places205 k={k}: mAP {result["mean"]:.2f} ± {result["std"]:.2f} at cost '
                    f'{result["chosen_cost"]:g} ({selection})')
    results = dict(shots={str(k): store.get(f'k{k}') for k in samples.shots}, classes=list(train.classes),
                   num_samples=samples.num_samples, skipped_shots=list(samples.skipped), **signature)
    write_json(osp.join(work_dir, RESULT_FILE), results)
    return results


def _run_sample(features, rows, classes_of_rows, test_features, test_targets, solver, num_folds, class_batch) -> dict:
    """All one-vs-all SVMs of one sample at every cost: test AP (P, c) and CV AP (c,) in percent."""
    protocol = solver.protocol
    costs = np.asarray(protocol.costs)
    num_classes = test_targets.shape[1]
    n = len(rows)
    targets = np.where(classes_of_rows[:, None] == np.arange(num_classes), POSITIVE, NEGATIVE).astype(np.int8)
    folds = cv_fold_ids(targets, num_folds) if num_folds else np.zeros(targets.shape, np.int8)
    # Every class's SVM on the whole sample is scored on the test set at every cost.
    solver.prepare(np.asarray(features[rows]), test_features, num_scored=num_classes * len(costs))
    test_ap = np.empty((num_classes, len(costs)))
    cv_sum, cv_count = np.zeros(len(costs)), 0
    for lo in range(0, num_classes, class_batch):
        batch = np.arange(lo, min(lo + class_batch, num_classes))
        # Per class: its fold problems, then the whole sample (the one scored on the test set).
        columns, masks, scored = [], [], []
        for c in batch:
            for f in range(num_folds):
                columns.append(targets[:, c])
                masks.append(folds[:, c] != f)
                scored.append(False)
            columns.append(targets[:, c])
            masks.append(np.ones(n, bool))
            scored.append(True)
        problems = SVMProblems(rows=np.arange(n)[None], targets=np.stack(columns, 1)[None],
                               train_mask=np.stack(masks, 1)[None], costs=np.tile(costs, (len(columns), 1)),
                               evaluate=np.array(scored))
        solution = solver.solve(problems)
        scores = solution.eval_decision[0]  # (B, c, N_test)
        for i, c in enumerate(batch):
            labels = np.repeat(test_targets[:, [c]], len(costs), axis=1)
            test_ap[c] = 100 * average_precision(scores[i].T, labels, mode=protocol.test_metric)
        if num_folds:
            fold_cols = np.flatnonzero(~np.array(scored))
            decision = solution.decision[0][:, fold_cols].reshape(n, -1)  # (n, B·F·c)
            fold_targets = np.stack(columns, 1)[:, fold_cols]
            valid = ~np.stack(masks, 1)[:, fold_cols]
            ap = average_precision(decision, np.repeat(fold_targets, len(costs), axis=1),
                                   valid=np.repeat(valid, len(costs), axis=1), mode=protocol.cv_metric)
            cv_sum += 100 * ap.reshape(-1, len(costs)).sum(0)
            cv_count += len(fold_cols)
    return dict(test_ap=test_ap.tolist(), cv_ap=(cv_sum / cv_count).tolist() if cv_count else None,
                folds=num_folds)

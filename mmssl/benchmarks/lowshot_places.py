"""Places205 low-shot SVM benchmark (``lowshot_places205``), the FAIR self-supervision benchmark's task.

For every k and sample, k train images per class; one-vs-all SVMs per class on the sample, tested on the whole
Places205 val set (:mod:`mmssl.evaluation.svm.lowshot_places`). The train list has 2.4M images, so the samples are
drawn (seeded) or read (FAIR's ``train_images_sample{s}_k{k}.npy`` files) from the train LIST's labels first, and
only their union and the val set are extracted, into ``WORK_DIR/features`` (``trainval``: the sampled train images,
``test``: val; labels one-hot ±1, ids the list paths). The SVMs run in ``WORK_DIR/lowshot``.
"""
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.dataset import pseudo_collate
from mmengine.dist import is_main_process
from mmengine.logging import MMLogger

from mmssl.constants import LOWSHOT_NUM_SAMPLES, LOWSHOT_SHOTS
from mmssl.evaluation.feature_folder import META_FILE, ensure_feature_folder, ids_path, labels_path
from mmssl.evaluation.svm import (PLACES_LOWSHOT_COSTS, FeatureSplit, PlacesLowShotSamples, SVMProtocol,
                                  check_places_lowshot, generate_places_lowshot_samples, read_fair_places_samples,
                                  read_meta, run_places_lowshot_svm)
from mmssl.evaluation.svm.lowshot_places import check_sample_memory, class_indices
from mmssl.evaluation.svm.solvers import DEFAULT_MAX_MEMORY
from mmssl.registry import BENCHMARKS, DATASETS
from mmssl.utils import BackboneWeights, init_distributed, teardown_distributed

from .base import config_overrides
from .feature_extraction import add_amp_argument, build_extractor, extract_svm_features, feature_source, use_amp
from .lowshot import VOC07LowShotSVM, lowshot_metrics, lowshot_summary, lowshot_table, plot_lowshot
from .svm import FEATURES_DIR, add_solver_arguments, load_layers, solver_of


def add_places_lowshot_arguments(parser):
    """The options of the Places205 low-shot benchmark (the SVM solver's included)."""
    parser.add_argument('--shots', type=int, nargs='+',
                        help=f"k values (default: the config's lowshot_shots, else {list(LOWSHOT_SHOTS)}); a k above "
                        'the smallest class is skipped, as FAIR does')
    parser.add_argument('--num-samples', type=int, default=LOWSHOT_NUM_SAMPLES)
    parser.add_argument('--seed', type=int, default=0, help='seed of the low-shot samples')
    parser.add_argument('--samples', help="folder of FAIR's train_images_sample{s}_k{k}.npy / "
                        'train_labels_sample{s}_k{k}.npy files, used instead of drawing samples')
    parser.add_argument('--legacy-cost-selection', action='store_true',
                        help='choose the cost by mean TEST mAP, as FAIR does (optimistic)')
    parser.add_argument('--plot', help='PNG of mAP vs k (default WORK_DIR/lowshot/lowshot.png)')
    add_solver_arguments(parser)
    parser.add_argument('--costs', help="cost preset (voc07_19, voc07_26, voc07_11) or comma-separated costs "
                        f"(default: the config's lowshot_costs, else {PLACES_LOWSHOT_COSTS}, FAIR's list)")
    return parser


@dataclass
class PlacesList:
    """A Places205 split list as the benchmark needs it: the built data set and, per line, class and id.

    Attributes:
        dataset: the config's data set (all lines).
        labels: (N,) int64 class indices.
        ids: N image paths relative to the image folder, as listed (``a/abbey/00000001.jpg``): unique, and the
            trailing part of the paths in FAIR's sample files.
        classes: class names.
        where: the list file, for messages.
    """
    dataset: object
    labels: np.ndarray
    ids: List[str]
    classes: List[str]
    where: str

    def one_hot(self, rows: Optional[np.ndarray] = None) -> np.ndarray:
        """int8 (n, P) labels of ``rows`` (default all): 1 for the image's class, -1 elsewhere."""
        labels = self.labels if rows is None else self.labels[rows]
        return np.where(labels[:, None] == np.arange(len(self.classes)), 1, -1).astype(np.int8)


def list_id(path: str, prefix: str) -> str:
    """``path`` relative to the image folder ``prefix`` (unchanged when it lies elsewhere, e.g. absolute)."""
    path, prefix = path.replace('\\', '/'), prefix.replace('\\', '/').rstrip('/')
    return path[len(prefix) + 1:] if prefix and path.startswith(prefix + '/') else path


def read_places_list(dataset_cfg: dict) -> PlacesList:
    """Build a split's data set from its config and read the class and id of every line (no image is read)."""
    dataset = DATASETS.build(dataset_cfg)
    where = getattr(dataset, 'ann_file', '') or str(dataset_cfg.get('type'))
    # One pass without keeping the infos: the train list has 2.4M lines.
    labels, ids = np.empty(len(dataset), dtype=np.int64), []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        if 'gt_label' not in info:
            raise ValueError(f'{where}: line of {info["img_path"]!r} has no label; the Places205 low-shot benchmark '
                             'needs a labelled list')
        labels[i] = int(info['gt_label'])
        ids.append(list_id(info['img_path'], dataset.img_prefix))
    seen = set()
    for image in ids:  # ids name feature rows and match FAIR's files: a repeated one would be ambiguous
        if image in seen:
            raise ValueError(f'{where}: image {image!r} is listed twice; every image must be listed once')
        seen.add(image)
    return PlacesList(dataset, labels, ids, list(dataset.metainfo['classes']), where)


def layer_dims(cfg, layers: Sequence[str], dataset, index: int) -> Dict[str, int]:
    """Feature dimension of every layer: image ``index`` of ``dataset`` through the config's pipeline, backbone
    (untrained: only shapes matter) and pooling."""
    extractor = build_extractor(cfg, layers).eval()
    return {layer: int(features.shape[1]) for layer, features in extractor(pseudo_collate([dataset[index]])).items()}


def draw_places_samples(train: PlacesList, shots: Sequence[int], num_samples: int = LOWSHOT_NUM_SAMPLES,
                        seed: int = 0, sample_dir: Optional[str] = None) -> PlacesLowShotSamples:
    """The samples, as rows of the train list: read from FAIR's files in ``sample_dir`` (checked against the
    list's labels) or drawn with ``seed``."""
    if sample_dir:
        return read_fair_places_samples(sample_dir, train.labels, train.ids, train.classes, train.where)
    return generate_places_lowshot_samples(train.labels, train.classes, shots, num_samples, seed)


def sampled_rows(samples: PlacesLowShotSamples) -> np.ndarray:
    """Sorted train-list rows of every image some sample uses: the only train images extracted."""
    return np.unique(np.concatenate([rows for k in samples.shots for rows in samples.rows[k]]))


def holds_samples(feature_dir: str, train: PlacesList, samples: PlacesLowShotSamples) -> bool:
    """Whether a feature folder's train split holds every sampled image (it holds the union of its own samples;
    features of an image do not depend on which others were sampled, so a folder serves any subset)."""
    with open(ids_path(feature_dir, 'trainval')) as f:
        held = {line.strip() for line in f if line.strip()}
    return all(train.ids[row] in held for row in sampled_rows(samples))


def extract_places_lowshot_features(cfg, weights: BackboneWeights, out_dir: str, train: PlacesList,
                                    samples: PlacesLowShotSamples, val: Optional[PlacesList] = None,
                                    layers: Optional[Sequence[str]] = None, device: str = 'cpu',
                                    pretrain_config: Optional[str] = None, source: Optional[dict] = None) -> None:
    """Extract the sampled train images (split ``trainval``, in list order) and the val list (``test``) into the
    feature folder ``out_dir``. ``train.dataset`` is reduced to those images in place. ``source``: what
    ``meta.json`` records (default :func:`feature_source`)."""
    val = val or read_places_list(cfg.test_dataloader.dataset)
    if val.classes != train.classes:
        raise ValueError(f'{val.where} and {train.where} name different classes ({len(val.classes)} vs '
                         f'{len(train.classes)}): the val list must use the train list\'s labels')
    rows = sampled_rows(samples)
    train.dataset.get_subset_(rows.tolist())
    prepared = dict(trainval=(train.dataset, train.one_hot(rows), [train.ids[r] for r in rows]),
                    test=(val.dataset, val.one_hot(), val.ids))
    MMLogger.get_current_instance().info(
        f'Places205 low-shot: extracting {len(rows)} sampled train images of {len(train.labels)} and '
        f'{len(val.labels)} val images')
    extract_svm_features(cfg, weights, out_dir, layers, device=device, pretrain_config=pretrain_config,
                         prepared=prepared, source=source)


def samples_in_folder(samples: PlacesLowShotSamples, train: PlacesList, split: FeatureSplit,
                      feature_dir: str) -> PlacesLowShotSamples:
    """The samples as rows of a feature folder's train split, matched by id; raises naming the folder's file when
    it lacks a sampled image or labels one differently (features of other samples: another seed, k or files)."""
    row_of = {image_id: row for row, image_id in enumerate(split.ids)}
    folder_index = class_indices(split.labels, len(split.classes), labels_path(feature_dir, split.split))
    rows = {}
    for k in samples.shots:
        rows[k] = []
        for list_rows in samples.rows[k]:
            missing = [train.ids[r] for r in list_rows if train.ids[r] not in row_of]
            if missing:
                raise ValueError(f'{ids_path(feature_dir, split.split)} lacks {len(missing)} image(s) of the k={k} '
                                 f'samples, e.g. {missing[0]!r}: the folder holds features of other samples (seed, '
                                 'shots or --samples changed); pass --recompute to extract them again, or use '
                                 'another --work-dir')
            folder_rows = np.array([row_of[train.ids[r]] for r in list_rows], dtype=np.int64)
            wrong = np.flatnonzero(folder_index[folder_rows] != train.labels[list_rows])
            if len(wrong):
                row = list_rows[wrong[0]]
                raise ValueError(f'{labels_path(feature_dir, split.split)} labels {train.ids[row]!r} as class '
                                 f'{folder_index[folder_rows[wrong[0]]]} but {train.where} as {train.labels[row]}')
            rows[k].append(np.sort(folder_rows))
    return PlacesLowShotSamples(list(samples.classes), rows, samples.seed, samples.skipped)


@BENCHMARKS.register_module()
class Places205LowShotSVM(VOC07LowShotSVM):
    """Places205 low-shot SVMs: for each k and sample, one-vs-all SVMs per class on k sampled train images per
    class (the other classes' sampled images negative), tested on the whole val set; FAIR's protocol and sample
    files, seeded samples and cost selection without the test set by default.

    Metrics: ``<layer>_k<k>``, the mean mAP (%) over the samples.
    """
    name = 'lowshot_places205'
    record_name = 'lowshot_svm_places205'
    title = 'Places205 low-shot SVM'
    work_subdir = 'lowshot_places205'

    @classmethod
    def add_arguments(cls, parser):
        add_places_lowshot_arguments(parser)
        add_amp_argument(parser)

    def run(self, cfg, weights, work_dir, pretrain_config=None, launcher='none', layers=None, shots=None,
            num_samples=LOWSHOT_NUM_SAMPLES, seed=0, samples=None, plot=None, solver='fast', costs=None,
            device='cpu', n_jobs=-1, max_memory=DEFAULT_MAX_MEMORY, legacy_cost_selection=False, recompute=False,
            amp=False):
        use_amp(cfg, amp)
        costs = costs or cfg.get('lowshot_costs', PLACES_LOWSHOT_COSTS)
        svm_solver = solver_of(solver, SVMProtocol(costs=costs), device, n_jobs, max_memory)  # bad settings fail now
        train = read_places_list(cfg.trainval_dataloader.dataset)
        drawn = draw_places_samples(train, shots or cfg.get('lowshot_shots', LOWSHOT_SHOTS), num_samples, seed,
                                    samples)
        feature_dir = osp.join(work_dir, FEATURES_DIR)
        source = feature_source(cfg, weights)
        decision = ensure_feature_folder(feature_dir, source, layers or cfg.layers, recompute=recompute)
        if decision == 'reuse' and recompute and not holds_samples(feature_dir, train, drawn):
            decision = 'extract'  # a folder of other samples: refused by samples_in_folder unless recomputed
        if decision == 'extract':
            val = read_places_list(cfg.test_dataloader.dataset)
            # The budget is checked now, not after hours of extraction.
            dims = layer_dims(cfg, layers or cfg.layers, train.dataset, int(sampled_rows(drawn)[0]))
            for layer, dim in dims.items():
                check_sample_memory(drawn, svm_solver, dim, len(val.labels), layer)
            rank_device = init_distributed(cfg, launcher)
            try:
                extract_places_lowshot_features(cfg, weights, feature_dir, train, drawn, val, layers=layers,
                                                device=rank_device, pretrain_config=pretrain_config, source=source)
            finally:
                teardown_distributed()
        if not is_main_process():
            return {}
        results_dir = osp.join(work_dir, self.results_subdir)
        results = self.run_on_features(feature_dir, results_dir, train, drawn, layers, sample_dir=samples,
                                       legacy_cost_selection=legacy_cost_selection, solver=solver, costs=costs,
                                       device=device, n_jobs=n_jobs, max_memory=max_memory, recompute=recompute,
                                       weights=weights, cfg_options=config_overrides(cfg))
        plot_lowshot(results, plot or osp.join(results_dir, 'lowshot.png'), title=self.title)
        print(lowshot_table(results))
        return lowshot_metrics(results)

    def run_on_features(self, feature_dir: str, work_dir: str, train: PlacesList, samples: PlacesLowShotSamples,
                        layers: Optional[Sequence[str]] = None, sample_dir: Optional[str] = None,
                        legacy_cost_selection: bool = False, solver: str = 'fast', costs=PLACES_LOWSHOT_COSTS,
                        device: str = 'cpu', n_jobs: int = -1, max_memory=DEFAULT_MAX_MEMORY,
                        recompute: bool = False, weights: Optional[BackboneWeights] = None,
                        cfg_options: Optional[dict] = None) -> Dict[str, dict]:
        """The protocol on every layer of the feature folder; resumes finished (k, sample) in ``work_dir/<layer>``;
        ``weights``, ``cfg_options``: what the record names (default: the folder's).

        Every layer is opened and checked (rows, labels, NaN / inf, every class in every sample, the memory budget
        of the largest sample) before the first SVM. Writes ``work_dir/<layer>/places205_lowshot_svm.json`` and
        the record ``work_dir/result_lowshot_svm_places205.json``.

        Args:
            train: the train list the ``samples`` rows refer to.

        Returns:
            dict: layer -> the results of :func:`mmssl.evaluation.svm.run_places_lowshot_svm`.
        """
        splits = load_layers(feature_dir, layers)
        meta_classes = read_meta(feature_dir)['classes']
        if meta_classes != train.classes:
            raise ValueError(f'{osp.join(feature_dir, META_FILE)} lists {len(meta_classes)} classes, {train.where} '
                             f'{len(train.classes)}: the features come from another list')
        protocol = SVMProtocol(costs=costs)
        folder_samples = samples_in_folder(samples, train, next(iter(splits.values()))[0], feature_dir)
        solvers = {layer: solver_of(solver, protocol, device, n_jobs, max_memory) for layer in splits}
        for layer, (layer_train, layer_test) in splits.items():
            check_places_lowshot(layer_train, layer_test, folder_samples, solvers[layer])
        results = {layer: run_places_lowshot_svm(layer_train, layer_test, folder_samples, solvers[layer],
                                                 osp.join(work_dir, layer), legacy=legacy_cost_selection,
                                                 solver_name=solver, recompute=recompute)
                   for layer, (layer_train, layer_test) in splits.items()}
        metrics = lowshot_metrics(results)
        self.write_feature_record(
            feature_dir, work_dir, metrics, seeds=dict(lowshot_samples=samples.seed), weights=weights,
            extra=dict(protocol=protocol.to_dict(), solver=solver, feature_dir=feature_dir, sample_dir=sample_dir,
                       samples_sha1=samples.digest(), legacy_cost_selection=legacy_cost_selection,
                       num_samples=samples.num_samples, skipped_shots=list(samples.skipped),
                       train_images=int(len(sampled_rows(samples))), train_list_images=int(len(train.labels)),
                       summary=lowshot_summary(results)), cfg_options=cfg_options)
        return results

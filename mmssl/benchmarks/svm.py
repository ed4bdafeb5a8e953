"""VOC07 linear SVM benchmark (``svm``) and the SVM runs over a feature folder shared with ``lowshot``.

A checkpoint's features (feature1-5, benchmark pooling) are extracted once into ``WORK_DIR/features``
(:mod:`mmssl.benchmarks.feature_extraction`); the SVM runs in ``WORK_DIR/svm``, the low-shot SVMs
(:mod:`mmssl.benchmarks.lowshot`) in ``WORK_DIR/lowshot``. Every layer's features are opened and validated
before the first SVM is trained, so a bad file fails in seconds, not after an hour of work.
"""
import argparse
import os.path as osp
from typing import Dict, Optional, Sequence

import numpy as np
from mmengine.config import Config
from mmengine.dist import is_main_process
from mmengine.logging import MMLogger

from mmssl.evaluation.svm import (FeatureSplit, SVMProtocol, build_svm_solver, check_layers, load_split, read_meta,
                                  run_voc07_svm)
from mmssl.evaluation.svm.features import META_FILE
from mmssl.evaluation.svm.solvers import DEFAULT_MAX_MEMORY
from mmssl.registry import BENCHMARKS
from mmssl.utils import init_distributed, teardown_distributed

from .base import Benchmark
from .feature_extraction import extract_svm_features
from .protocol import LAYERS, RANDOM_INIT_SEED

FEATURES_DIR = 'features'


def add_solver_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Command-line options shared by the SVM benchmarks and tools."""
    parser.add_argument('--layers', nargs='+', help='layers to evaluate (default: all)')
    parser.add_argument('--solver', choices=['fast', 'sklearn'], default='fast')
    parser.add_argument('--costs', default='voc07_19',
                        help='cost preset (voc07_19, voc07_26, voc07_11) or comma-separated costs')
    parser.add_argument('--device', default='cpu', help='torch device of the fast solver, e.g. cuda')
    parser.add_argument('--n-jobs', type=int, default=-1, help='processes of the sklearn solver')
    parser.add_argument('--max-memory', default=DEFAULT_MAX_MEMORY,
                        help='memory the fast solver may hold (e.g. 16G); above it, it solves in the primal over '
                        'memory-mapped features (default %(default)s bytes)')
    return parser


def load_layers(feature_dir: str, layers: Optional[Sequence[str]] = None) -> Dict[str, tuple]:
    """Open and validate the trainval and test splits of every layer (default: all in ``meta.json``).

    Returns:
        dict: layer -> (trainval :class:`FeatureSplit`, test :class:`FeatureSplit`), memory-mapped.
    """
    meta = read_meta(feature_dir)
    layers = list(layers or meta['layers'])
    check_layers(meta, layers, feature_dir)
    return {layer: (load_split(feature_dir, 'trainval', layer, meta), load_split(feature_dir, 'test', layer, meta))
            for layer in layers}


def solver_of(name: str, protocol: SVMProtocol, device: str, n_jobs: int, max_memory=DEFAULT_MAX_MEMORY):
    kwargs = dict(device=device, max_memory=max_memory) if name == 'fast' else dict(n_jobs=n_jobs)
    return build_svm_solver(name, protocol, **kwargs)


def features_source(feature_dir: str) -> dict:
    """The checkpoint, configs and data set of a feature folder, as extraction recorded them in ``meta.json``."""
    source = read_meta(feature_dir).get('source') or {}
    return dict(checkpoint=source.get('checkpoint'), pretrain_config=source.get('pretrain_config'),
                benchmark_config=source.get('config'), dataset=source.get('dataset'),
                checkpoint_format=source.get('checkpoint_format'), random_init_seed=source.get('random_init_seed'))


def ensure_features(cfg: Config, checkpoint: Optional[str], work_dir: str, layers: Optional[Sequence[str]],
                    pretrain_config: Optional[str], launcher: str = 'none',
                    checkpoint_options: Optional[dict] = None, random_init_seed: int = RANDOM_INIT_SEED) -> str:
    """``WORK_DIR/features``, extracted unless complete (``meta.json`` is written last); distributed under
    torchrun (``launcher='pytorch'``); a random backbone (``checkpoint=None``) is drawn from ``random_init_seed``."""
    feature_dir = osp.join(work_dir, FEATURES_DIR)
    if not osp.isfile(osp.join(feature_dir, META_FILE)):
        device = init_distributed(cfg, launcher)
        try:
            extract_svm_features(cfg, checkpoint, feature_dir, layers, device=device,
                                 pretrain_config=pretrain_config, checkpoint_options=checkpoint_options,
                                 random_init_seed=random_init_seed)
        finally:
            teardown_distributed()
    return feature_dir


def svm_table(results: Dict[str, dict]) -> str:
    """Markdown table: one column per layer, test mAP of the VOC07 SVM."""
    layers = list(results)
    return '\n'.join([
        '| benchmark | ' + ' | '.join(layers) + ' |',
        '|---|' + '---|' * len(layers),
        '| VOC07 SVM mAP | ' + ' | '.join(f'{results[layer]["mAP"]:.2f}' for layer in layers) + ' |',
    ])


def split_summary(train: FeatureSplit, test: FeatureSplit) -> str:
    """One line describing a layer's data, for logs."""
    positives = int((train.labels == 1).sum())
    return (f'{train.layer}: {len(train)} trainval x {train.features.shape[1]} dims ({positives} positive labels), '
            f'{len(test)} test, {len(train.classes)} classes; {int(np.sum(test.labels == 0))} difficult test labels')


@BENCHMARKS.register_module()
class VOC07SVM(Benchmark):
    """The VOC07 linear SVM: per layer and class, cost by 3-fold CV on trainval, refit, all-point AP on test.

    Metrics: mAP (%) per layer, ``feature1`` … ``feature5``.
    """
    name = 'svm'
    record_name = 'svm_voc07'
    title = 'VOC07 linear SVM'
    task = 'SVM'
    columns = tuple((layer.capitalize(), layer) for layer in LAYERS)
    work_subdir = 'svm_voc07'
    results_subdir = 'svm'
    #: classes solved together (None: all); bounds the decision values held at once (80 COCO classes: ~3 GB)
    class_batch = None

    @classmethod
    def add_arguments(cls, parser):
        add_solver_arguments(parser)

    @classmethod
    def record_path(cls, work_dir: str) -> str:
        return osp.join(work_dir, cls.results_subdir, cls.record_file())

    def run(self, cfg, checkpoint, work_dir, pretrain_config=None, launcher='none', layers=None, **solver):
        feature_dir = ensure_features(cfg, checkpoint, work_dir, layers, pretrain_config, launcher,
                                      self.checkpoint_options, self.random_init_seed)
        if not is_main_process():
            return {}
        results = self.run_on_features(feature_dir, osp.join(work_dir, self.results_subdir), layers, **solver)
        print(svm_table(results))
        return {layer: result['mAP'] for layer, result in results.items()}

    def run_on_features(self, feature_dir: str, work_dir: str, layers: Optional[Sequence[str]] = None,
                        solver: str = 'fast', costs='voc07_19', device: str = 'cpu', n_jobs: int = -1,
                        max_memory=DEFAULT_MAX_MEMORY) -> Dict[str, dict]:
        """The full protocol on every layer of a feature folder; resumes finished classes in ``work_dir/<layer>``.

        Writes ``work_dir/<layer>/voc07_svm.json`` per layer and the record ``work_dir/result_svm_voc07.json``.

        Returns:
            dict: layer -> the per-layer results of :func:`mmssl.evaluation.svm.run_voc07_svm`.
        """
        splits = load_layers(feature_dir, layers)
        protocol = SVMProtocol(costs=costs)
        results = {}
        for layer, (train, test) in splits.items():
            MMLogger.get_current_instance().info(split_summary(train, test))
            results[layer] = run_voc07_svm(train, test, solver_of(solver, protocol, device, n_jobs, max_memory),
                                           osp.join(work_dir, layer), class_batch=self.class_batch,
                                           solver_name=solver)
        self.write_feature_record(
            feature_dir, work_dir, {layer: result['mAP'] for layer, result in results.items()},
            extra=dict(protocol=protocol.to_dict(), solver=solver, feature_dir=feature_dir,
                       chosen_costs={layer: {c: r['chosen_cost'] for c, r in result['per_class'].items()}
                                     for layer, result in results.items()}))
        return results

    def write_feature_record(self, feature_dir: str, work_dir: str, metrics: Dict[str, float], seeds=None,
                             extra=None) -> None:
        """The record of a run on a feature folder: its source (checkpoint, configs, data set) is the folder's."""
        source = features_source(feature_dir)
        seeds = dict(seeds or {})
        if source['random_init_seed'] is not None:  # a random backbone's folder: the seed it was drawn from
            seeds['random_init'] = source['random_init_seed']
        del source['random_init_seed']
        self.write_record(work_dir, metrics, None, source.pop('checkpoint'), seeds=seeds, extra=extra, **source)


@BENCHMARKS.register_module()
class COCO2014SVM(VOC07SVM):
    """The FAIR benchmark's COCO2014 linear SVM: the VOC07 protocol on 80 classes, trained on train2014 (the feature
    folder's ``trainval`` split) and tested on val2014 (``test``); no difficult labels. Its Gram matrix (82,783
    rows) exceeds any sane ``--max-memory``, so the fast solver runs in the primal.

    Metrics: mAP (%) per layer, ``feature1`` … ``feature5``.
    """
    name = 'svm_coco2014'
    record_name = 'svm_coco2014'
    title = 'COCO2014 linear SVM'
    work_subdir = 'svm_coco2014'
    class_batch = 16

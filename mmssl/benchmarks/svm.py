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

from mmssl.constants import LAYERS, RANDOM_INIT_SEED
from mmssl.evaluation.feature_folder import check_source_checkpoint, ensure_feature_folder
from mmssl.evaluation.folder_identity import identity_record
from mmssl.evaluation.svm import (FeatureSplit, SVMProtocol, build_svm_solver, check_layers, load_split, read_meta,
                                  run_voc07_svm)
from mmssl.evaluation.svm.protocol import resolve_costs
from mmssl.evaluation.svm.solvers import DEFAULT_MAX_MEMORY, parse_memory
from mmssl.registry import BENCHMARKS
from mmssl.utils import BackboneWeights, init_distributed, teardown_distributed

from .base import Benchmark, config_overrides
from .feature_extraction import add_amp_argument, extract_svm_features, feature_source, use_amp

FEATURES_DIR = 'features'


def int_at_least(minimum: int):
    """An argparse ``type``: an integer >= ``minimum``; argparse names the option in the error."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f'expected an integer >= {minimum}, got {text!r}')
        return value
    return parse


def _n_jobs(text: str) -> int:
    """``--n-jobs``: joblib's process count, >= 1 or negative (-1: all cores); 0 means nothing to joblib."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value == 0:
        raise argparse.ArgumentTypeError(f'expected a number of processes >= 1, or -1 for all cores, got {text!r}')
    return value


def _checked(check):
    """An argparse ``type`` that keeps the text but refuses what ``check`` refuses (ValueError)."""
    def parse(text: str) -> str:
        try:
            check(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
        return text
    return parse


def add_solver_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Command-line options shared by the SVM benchmarks and tools (numbers checked when parsed)."""
    parser.add_argument('--layers', nargs='+', help='layers to evaluate (default: all)')
    parser.add_argument('--solver', choices=['fast', 'sklearn'], default='fast')
    parser.add_argument('--costs', default='voc07_19', type=_checked(resolve_costs),
                        help='cost preset (voc07_19, voc07_26, voc07_11) or comma-separated costs, each > 0')
    parser.add_argument('--device', default='cpu', help='torch device of the fast solver, e.g. cuda')
    parser.add_argument('--n-jobs', type=_n_jobs, default=-1, help='processes of the sklearn solver (-1: all cores)')
    parser.add_argument('--max-memory', default=DEFAULT_MAX_MEMORY, type=_checked(parse_memory),
                        help='memory the fast solver may hold (e.g. 16G); above it, it solves in the primal over '
                        'memory-mapped features (default %(default)s bytes)')
    add_recompute_argument(parser)
    return parser


def add_recompute_argument(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``--recompute``: what a benchmark does with a work dir holding another run's features or results."""
    parser.add_argument('--recompute', action='store_true',
                        help='the work dir holds features or partial results of another input (checkpoint or how '
                        'it was read, config after --cfg-options, list files, features or settings): delete them and '
                        'compute again (default: refuse them)')
    return parser


def load_layers(feature_dir: str, layers: Optional[Sequence[str]] = None) -> Dict[str, tuple]:
    """Open and validate the trainval and test splits of every layer (default: all in ``meta.json``).

    Returns:
        dict: layer -> (trainval :class:`FeatureSplit`, test :class:`FeatureSplit`), memory-mapped.
    """
    meta = read_meta(feature_dir)
    layers = list(layers or meta['layers'])
    check_layers(meta, layers, feature_dir)
    check_source_checkpoint(feature_dir, meta)
    return {layer: (load_split(feature_dir, 'trainval', layer, meta), load_split(feature_dir, 'test', layer, meta))
            for layer in layers}


def solver_of(name: str, protocol: SVMProtocol, device: str, n_jobs: int, max_memory=DEFAULT_MAX_MEMORY):
    kwargs = dict(device=device, max_memory=max_memory) if name == 'fast' else dict(n_jobs=n_jobs)
    return build_svm_solver(name, protocol, **kwargs)


def features_source(feature_dir: str) -> dict:
    """The checkpoint (``{'path', 'sha256'}`` or ``None``), configs and data set of a feature folder, the layout its
    weights were read as, the report of their load, the ``--cfg-options`` and the folder's identity
    (:func:`~mmssl.evaluation.folder_identity.identity_record`), as extraction recorded them in ``meta.json`` (the
    checkpoint file need not exist any more)."""
    source = read_meta(feature_dir).get('source') or {}
    checkpoint = source.get('checkpoint')
    checkpoint = None if checkpoint is None else dict(path=checkpoint, sha256=source.get('checkpoint_sha256'))
    return dict(checkpoint=checkpoint, pretrain_config=source.get('pretrain_config'),
                benchmark_config=source.get('config'), dataset=source.get('dataset'),
                checkpoint_format=source.get('checkpoint_format'), random_init_seed=source.get('random_init_seed'),
                checkpoint_load=source.get('checkpoint_load'), cfg_options=source.get('cfg_options'),
                identity=identity_record(source))


def folder_weights(source: dict) -> BackboneWeights:
    """The weights a feature folder's :func:`features_source` names (no state dict: the folder holds features)."""
    if source['checkpoint'] is None:
        return BackboneWeights.random(RANDOM_INIT_SEED if source['random_init_seed'] is None
                                      else source['random_init_seed'])
    return BackboneWeights(source['checkpoint']['path'], source['checkpoint']['sha256'],
                           source['checkpoint_format'])


def ensure_features(cfg: Config, weights: BackboneWeights, work_dir: str, layers: Optional[Sequence[str]],
                    pretrain_config: Optional[str], launcher: str = 'none', recompute: bool = False) -> str:
    """``WORK_DIR/features``, extracted unless complete (``meta.json`` is written last); distributed under
    torchrun (``launcher='pytorch'``).

    A complete folder is reused only for the same identity (:mod:`mmssl.evaluation.folder_identity`: the weights
    and how they were read, the config after its overrides, the list files' content) and the requested layers;
    otherwise it is refused before any work (``ValueError`` naming the folder and each difference, old value and
    new), or extracted again with ``recompute`` (:func:`mmssl.evaluation.feature_folder.ensure_feature_folder`).
    """
    feature_dir = osp.join(work_dir, FEATURES_DIR)
    source = feature_source(cfg, weights)
    if ensure_feature_folder(feature_dir, source, layers or cfg.layers, recompute=recompute) == 'extract':
        device = init_distributed(cfg, launcher)
        try:
            extract_svm_features(cfg, weights, feature_dir, layers, device=device, pretrain_config=pretrain_config,
                                 source=source)
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
        add_amp_argument(parser)

    @classmethod
    def record_path(cls, work_dir: str) -> str:
        return osp.join(work_dir, cls.results_subdir, cls.record_file())

    def run(self, cfg, weights, work_dir, pretrain_config=None, launcher='none', layers=None, recompute=False,
            amp=False, **solver):
        feature_dir = ensure_features(use_amp(cfg, amp), weights, work_dir, layers, pretrain_config, launcher,
                                      recompute)
        if not is_main_process():
            return {}
        results = self.run_on_features(feature_dir, osp.join(work_dir, self.results_subdir), layers,
                                       recompute=recompute, weights=weights, cfg_options=config_overrides(cfg),
                                       **solver)
        print(svm_table(results))
        return {layer: result['mAP'] for layer, result in results.items()}

    def run_on_features(self, feature_dir: str, work_dir: str, layers: Optional[Sequence[str]] = None,
                        solver: str = 'fast', costs='voc07_19', device: str = 'cpu', n_jobs: int = -1,
                        max_memory=DEFAULT_MAX_MEMORY, recompute: bool = False,
                        weights: Optional[BackboneWeights] = None,
                        cfg_options: Optional[dict] = None) -> Dict[str, dict]:
        """The full protocol on every layer of a feature folder; resumes finished classes in ``work_dir/<layer>``
        (refuses another run's classes there unless ``recompute``). ``weights``, ``cfg_options``: what the record
        names (default: the folder's ``meta.json``).

        Writes ``work_dir/<layer>/voc07_svm.json`` per layer and the record ``work_dir/result_svm_voc07.json``.

        Returns:
            dict: layer -> the per-layer results of :func:`mmssl.evaluation.svm.run_voc07_svm`.
        """
        feature_dir, work_dir = osp.abspath(feature_dir), osp.abspath(work_dir)
        splits = load_layers(feature_dir, layers)
        protocol = SVMProtocol(costs=costs)
        results = {}
        for layer, (train, test) in splits.items():
            MMLogger.get_current_instance().info(split_summary(train, test))
            results[layer] = run_voc07_svm(train, test, solver_of(solver, protocol, device, n_jobs, max_memory),
                                           osp.join(work_dir, layer), class_batch=self.class_batch,
                                           solver_name=solver, recompute=recompute)
        self.write_feature_record(
            feature_dir, work_dir, {layer: result['mAP'] for layer, result in results.items()}, weights=weights,
            extra=dict(protocol=protocol.to_dict(), solver=solver, feature_dir=feature_dir,
                       chosen_costs={layer: {c: r['chosen_cost'] for c, r in result['per_class'].items()}
                                     for layer, result in results.items()}), cfg_options=cfg_options)
        return results

    def write_feature_record(self, feature_dir: str, work_dir: str, metrics: Dict[str, float], seeds=None,
                             extra=None, weights: Optional[BackboneWeights] = None,
                             cfg_options: Optional[dict] = None) -> None:
        """The record of a run on a feature folder: the configs, data set, load report and identity (how the
        checkpoint was read, the config hash, the list files' hashes, in ``extra``) are the folder's
        (``meta.json``); the checkpoint is ``weights`` and ``extra['cfg_options']`` ``cfg_options`` when the run was
        given them, else the folder's."""
        source = features_source(feature_dir)
        identity = {key: value for key, value in source['identity'].items() if key != 'config'}
        extra = dict(extra or {}, **identity,
                     cfg_options=source['cfg_options'] if cfg_options is None else cfg_options)
        weights = weights or folder_weights(source)
        seeds = dict(seeds or {})
        if weights.is_random:  # a random backbone's folder: the seed it was drawn from
            seeds['random_init'] = weights.random_init_seed
        self.write_record(work_dir, metrics, None, weights, source['checkpoint_load'], seeds=seeds, extra=extra,
                          pretrain_config=source['pretrain_config'], benchmark_config=source['benchmark_config'],
                          dataset=source['dataset'])


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

"""VOC07 SVM and low-shot SVM benchmarks over a feature directory, for all requested layers.

The command-line tools (``tools/benchmarks/classification/svm_voc07/run_svm.py``, ``run_lowshot.py`` and the
``svm_benchmark.py`` wrapper) are thin shells around these functions. Every layer's features are opened and
validated before the first SVM is trained, so a bad file fails in seconds, not after an hour of work.
"""
import argparse
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.logging import MMLogger

from mmssl.evaluation.svm import (FeatureSplit, SVMProtocol, build_svm_solver, check_layers, generate_lowshot_samples,
                                  load_lowshot_samples, load_split, read_meta, run_lowshot_svm, run_voc07_svm,
                                  save_lowshot_samples)
from mmssl.evaluation.svm.lowshot import DEFAULT_SHOTS

from .feature_extraction import RANDOM_INIT_SEED
from .results import write_result

SVM_RECORD = 'result_svm_voc07.json'
LOWSHOT_RECORD = 'result_lowshot_svm_voc07.json'


def add_solver_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Command-line options shared by the SVM tools."""
    parser.add_argument('--layers', nargs='+', help='layers to evaluate (default: all in meta.json)')
    parser.add_argument('--solver', choices=['fast', 'sklearn'], default='fast')
    parser.add_argument('--costs', default='voc07_19',
                        help='cost preset (voc07_19, voc07_26, voc07_11) or comma-separated costs')
    parser.add_argument('--device', default='cpu', help='torch device of the fast solver, e.g. cuda')
    parser.add_argument('--n-jobs', type=int, default=-1, help='processes of the sklearn solver')
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


def _solver(name: str, protocol: SVMProtocol, device: str, n_jobs: int):
    kwargs = dict(device=device) if name == 'fast' else dict(n_jobs=n_jobs)
    return build_svm_solver(name, protocol, **kwargs)


def _record_kwargs(feature_dir: str) -> dict:
    """Checkpoint and configs of the features, as extraction recorded them in ``meta.json``."""
    source = read_meta(feature_dir).get('source') or {}
    checkpoint = source.get('checkpoint')
    return dict(checkpoint=checkpoint, pretrain_config=source.get('pretrain_config'),
                benchmark_config=source.get('config'), seeds={} if checkpoint else dict(random_init=RANDOM_INIT_SEED))


def run_svm(feature_dir: str,
            work_dir: str,
            layers: Optional[Sequence[str]] = None,
            solver: str = 'fast',
            costs='voc07_19',
            device: str = 'cpu',
            n_jobs: int = -1) -> Dict[str, dict]:
    """The full VOC07 SVM protocol on every layer; resumes finished classes in ``work_dir/<layer>``.

    Writes ``work_dir/<layer>/voc07_svm.json`` per layer and the record ``work_dir/result_svm_voc07.json``
    (metrics: mAP per layer, in percent).

    Returns:
        dict: layer -> the per-layer results of :func:`mmssl.evaluation.svm.run_voc07_svm`.
    """
    splits = load_layers(feature_dir, layers)
    protocol = SVMProtocol(costs=costs)
    results = {}
    for layer, (train, test) in splits.items():
        MMLogger.get_current_instance().info(split_summary(train, test))
        results[layer] = run_voc07_svm(train, test, _solver(solver, protocol, device, n_jobs),
                                       osp.join(work_dir, layer), solver_name=solver)
    write_result(osp.join(work_dir, SVM_RECORD), 'svm_voc07', {k: v['mAP'] for k, v in results.items()},
                 extra=dict(protocol=protocol.to_dict(), solver=solver, feature_dir=feature_dir,
                            chosen_costs={k: {c: r['chosen_cost'] for c, r in v['per_class'].items()}
                                          for k, v in results.items()}),
                 **_record_kwargs(feature_dir))
    return results


def run_lowshot(feature_dir: str,
                work_dir: str,
                layers: Optional[Sequence[str]] = None,
                shots: Sequence[int] = DEFAULT_SHOTS,
                num_samples: int = 5,
                seed: int = 0,
                sample_file: Optional[str] = None,
                save_samples: Optional[str] = None,
                legacy_cost_selection: bool = False,
                solver: str = 'fast',
                costs='voc07_19',
                device: str = 'cpu',
                n_jobs: int = -1) -> Dict[str, dict]:
    """Low-shot SVMs on every layer; resumes finished shot counts in ``work_dir/<layer>``.

    The training sets are drawn once (seeded) or read from ``sample_file`` and shared by all layers.
    Writes ``work_dir/<layer>/lowshot_svm.json`` and the record ``work_dir/result_lowshot_svm_voc07.json``
    (metrics ``<layer>_k<k>``: mean mAP over samples, in percent).

    Returns:
        dict: layer -> the results of :func:`mmssl.evaluation.svm.run_lowshot_svm`.
    """
    splits = load_layers(feature_dir, layers)
    protocol = SVMProtocol(costs=costs)
    train = next(iter(splits.values()))[0]
    if sample_file:
        samples = load_lowshot_samples(sample_file, train)
    else:
        samples = generate_lowshot_samples(train.labels, train.classes, shots, num_samples, seed)
    if save_samples:
        save_lowshot_samples(samples, save_samples, train.ids)
    results = {}
    for layer, (train, test) in splits.items():
        results[layer] = run_lowshot_svm(train, test, samples, _solver(solver, protocol, device, n_jobs),
                                         osp.join(work_dir, layer), legacy=legacy_cost_selection,
                                         solver_name=solver)
    metrics = {f'{layer}_k{k}': shot['mean'] for layer, result in results.items()
               for k, shot in result['shots'].items()}
    record_kwargs = _record_kwargs(feature_dir)
    record_kwargs['seeds']['lowshot_samples'] = samples.seed
    write_result(osp.join(work_dir, LOWSHOT_RECORD), 'lowshot_svm_voc07', metrics,
                 extra=dict(protocol=protocol.to_dict(), solver=solver, feature_dir=feature_dir,
                            sample_file=sample_file, samples_sha1=samples.digest(),
                            legacy_cost_selection=legacy_cost_selection, num_samples=samples.num_samples,
                            summary={layer: {k: {s: shot[s] for s in ('mean', 'min', 'max', 'std', 'chosen_cost')}
                                             for k, shot in result['shots'].items()}
                                     for layer, result in results.items()}),
                 **record_kwargs)
    return results


def svm_table(results: Dict[str, dict]) -> str:
    """Markdown table: one column per layer, test mAP of the VOC07 SVM."""
    layers = list(results)
    return '\n'.join([
        '| benchmark | ' + ' | '.join(layers) + ' |',
        '|---|' + '---|' * len(layers),
        '| VOC07 SVM mAP | ' + ' | '.join(f'{results[layer]["mAP"]:.2f}' for layer in layers) + ' |',
    ])


def lowshot_table(results: Dict[str, dict]) -> str:
    """Markdown table: one row per layer, mean ± std test mAP over samples per k."""
    shots = _shots(results)
    lines = ['| layer | ' + ' | '.join(f'k={k}' for k in shots) + ' |', '|---|' + '---|' * len(shots)]
    for layer, result in results.items():
        cells = [f'{result["shots"][str(k)]["mean"]:.2f} ± {result["shots"][str(k)]["std"]:.2f}' for k in shots]
        lines.append(f'| {layer} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def _shots(results: Dict[str, dict]) -> List[int]:
    return sorted({int(k) for result in results.values() for k in result['shots']})


def plot_lowshot(results: Dict[str, dict], path: str, title: str = 'VOC07 low-shot SVM') -> str:
    """Save a PNG of mean mAP vs k per layer (min–max over samples shaded); returns ``path``."""
    import matplotlib
    matplotlib.use('Agg')  # files only: no display on servers
    import matplotlib.pyplot as plt

    shots = _shots(results)
    fig, ax = plt.subplots(figsize=(6, 4))
    for layer, result in results.items():
        stats = [result['shots'][str(k)] for k in shots]
        ax.plot(shots, [s['mean'] for s in stats], marker='o', label=layer)
        ax.fill_between(shots, [s['min'] for s in stats], [s['max'] for s in stats], alpha=0.15)
    ax.set_xscale('log', base=2)
    ax.set_xticks(shots, [str(k) for k in shots])
    ax.set_xlabel('positives per class (k)')
    ax.set_ylabel('test mAP (%)')
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    MMLogger.get_current_instance().info(f'low-shot plot saved to {path}')
    return path


def split_summary(train: FeatureSplit, test: FeatureSplit) -> str:
    """One line describing a layer's data, for logs."""
    positives = int((train.labels == 1).sum())
    return (f'{train.layer}: {len(train)} trainval x {train.features.shape[1]} dims ({positives} positive labels), '
            f'{len(test)} test, {len(train.classes)} classes; {int(np.sum(test.labels == 0))} difficult test labels')

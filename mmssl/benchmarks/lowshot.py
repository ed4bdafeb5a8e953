"""VOC07 low-shot SVM benchmark (``lowshot``): k positives and 19k negatives per class, 5 samples per k.

It shares the ``svm`` benchmark's extracted features (``WORK_DIR/features``) and runs in ``WORK_DIR/lowshot``.
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence

from mmengine.dist import is_main_process
from mmengine.logging import MMLogger

from mmssl.constants import LAYERS, LOWSHOT_NUM_SAMPLES, LOWSHOT_SHOTS
from mmssl.evaluation.svm import (SVMProtocol, generate_lowshot_samples, load_lowshot_samples, run_lowshot_svm,
                                  save_lowshot_samples)
from mmssl.evaluation.svm.solvers import DEFAULT_MAX_MEMORY
from mmssl.registry import BENCHMARKS
from mmssl.utils import BackboneWeights
from mmssl.utils.atomic_files import atomic_write_bytes
from mmssl.visualization import agg_figure, figure_png

from .base import config_overrides
from .feature_extraction import add_amp_argument, use_amp
from .svm import VOC07SVM, add_solver_arguments, ensure_features, int_at_least, load_layers, solver_of


def add_lowshot_arguments(parser):
    """The low-shot options (besides the solver's)."""
    parser.add_argument('--shots', type=int_at_least(1), nargs='+',
                        help=f"k values, each >= 1 (default: the config's lowshot_shots, else {list(LOWSHOT_SHOTS)})")
    parser.add_argument('--num-samples', type=int_at_least(1), default=LOWSHOT_NUM_SAMPLES,
                        help='independent samples per k (>= 1, default %(default)s)')
    parser.add_argument('--seed', type=int_at_least(0), default=0, help='seed of the low-shot training sets (>= 0)')
    parser.add_argument('--samples', help='read the training sets from this JSON file instead of drawing them')
    parser.add_argument('--save-samples', help='write the training sets used to this JSON file')
    parser.add_argument('--allow-small-pools', action='store_true',
                        help='train a class with fewer than k positives / 19k negatives on all of them (then it is '
                        'not a k-shot result) instead of refusing')
    parser.add_argument('--legacy-cost-selection', action='store_true',
                        help='choose the cost by mean TEST mAP (published tables; optimistic)')
    parser.add_argument('--test-per-cost', action='store_true',
                        help="also score every cost's models on the test set and record the mean test mAP per cost "
                        '(for comparison; the legacy selection always does)')
    parser.add_argument('--plot', help='PNG of mAP vs k (default WORK_DIR/lowshot.png)')
    return add_solver_arguments(parser)


def config_shots(cfg) -> list:
    """The config's ``lowshot_shots`` (default the protocol's), checked: a non-empty list of integers >= 1."""
    shots = cfg.get('lowshot_shots', LOWSHOT_SHOTS)
    if (not isinstance(shots, (list, tuple)) or not shots
            or not all(isinstance(k, int) and not isinstance(k, bool) and k >= 1 for k in shots)):
        raise ValueError(f'{cfg.filename}: lowshot_shots must be a non-empty list of integers >= 1, got {shots!r}')
    return list(shots)


def lowshot_table(results: Dict[str, dict]) -> str:
    """Markdown table: one row per layer, mean ± std test mAP over samples per k."""
    shots = _shots(results)
    lines = ['| layer | ' + ' | '.join(f'k={k}' for k in shots) + ' |', '|---|' + '---|' * len(shots)]
    for layer, result in results.items():
        cells = [f'{result["shots"][str(k)]["mean"]:.2f} ± {result["shots"][str(k)]["std"]:.2f}' for k in shots]
        lines.append(f'| {layer} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def lowshot_metrics(results: Dict[str, dict]) -> Dict[str, float]:
    """Per-layer low-shot results -> the record's metrics, ``<layer>_k<k>``: the mean mAP over the samples."""
    return {f'{layer}_k{k}': shot['mean'] for layer, result in results.items() for k, shot in result['shots'].items()}


def lowshot_summary(results: Dict[str, dict]) -> Dict[str, dict]:
    """Per layer and k, the statistics over the samples and the chosen cost, for the record's ``extra``."""
    return {layer: {k: {s: shot[s] for s in ('mean', 'min', 'max', 'std', 'chosen_cost')}
                    for k, shot in result['shots'].items()}
            for layer, result in results.items()}


def _shots(results: Dict[str, dict]) -> List[int]:
    return sorted({int(k) for result in results.values() for k in result['shots']})


def plot_lowshot(results: Dict[str, dict], path: str, title: str = 'VOC07 low-shot SVM') -> str:
    """Save a PNG of mean mAP vs k per layer (min–max over samples shaded); returns ``path``."""
    shots = _shots(results)
    fig = agg_figure(figsize=(6, 4))
    ax = fig.subplots()
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
    atomic_write_bytes(path, figure_png(fig, dpi=120))
    MMLogger.get_current_instance().info(f'low-shot plot saved to {path}')
    return path


@BENCHMARKS.register_module()
class VOC07LowShotSVM(VOC07SVM):
    """VOC07 low-shot SVMs: for each k and sample, every class trains on k positives and 19k negatives of trainval
    (difficult never drawn) and is tested on the whole test set.

    Metrics: ``<layer>_k<k>``, the mean mAP (%) over the samples.
    """
    name = 'lowshot'
    record_name = 'lowshot_svm_voc07'
    title = 'VOC07 low-shot SVM'
    task = 'Low-shot SVM'
    columns = tuple((f'k={k}', f'k{k}') for k in LOWSHOT_SHOTS)
    layered = True
    results_subdir = 'lowshot'

    @classmethod
    def add_arguments(cls, parser):
        add_lowshot_arguments(parser)
        add_amp_argument(parser)

    @classmethod
    def table_metrics(cls, metrics):
        allowed = {f'{layer}_{metric}' for layer in LAYERS for _, metric in cls.columns}
        return {name: value for name, value in metrics.items() if name in allowed}

    def run(self, cfg, weights, work_dir, pretrain_config=None, launcher='none', layers=None, shots=None,
            plot=None, recompute=False, amp=False, **options):
        shots = shots or config_shots(cfg)  # a bad lowshot_shots fails here, before extraction
        feature_dir = ensure_features(use_amp(cfg, amp), weights, work_dir, layers, pretrain_config, launcher,
                                      recompute)
        if not is_main_process():
            return {}
        results_dir = osp.join(work_dir, self.results_subdir)
        results = self.run_on_features(feature_dir, results_dir, layers, shots=shots, recompute=recompute,
                                       weights=weights, cfg_options=config_overrides(cfg), **options)
        plot_lowshot(results, plot or osp.join(results_dir, 'lowshot.png'))
        print(lowshot_table(results))
        return lowshot_metrics(results)

    def run_on_features(self, feature_dir: str, work_dir: str, layers: Optional[Sequence[str]] = None,
                        shots: Sequence[int] = LOWSHOT_SHOTS, num_samples: int = LOWSHOT_NUM_SAMPLES, seed: int = 0,
                        samples: Optional[str] = None, save_samples: Optional[str] = None,
                        legacy_cost_selection: bool = False, test_per_cost: bool = False,
                        allow_small_pools: bool = False,
                        solver: str = 'fast', costs='voc07_19',
                        device: str = 'cpu', n_jobs: int = -1, max_memory=DEFAULT_MAX_MEMORY,
                        recompute: bool = False, weights: Optional[BackboneWeights] = None,
                        cfg_options: Optional[dict] = None) -> Dict[str, dict]:
        """Low-shot SVMs on every layer of a feature folder; resumes finished k in ``work_dir/<layer>`` (refuses
        another run's there unless ``recompute``). ``weights``, ``cfg_options``: what the record names (default:
        the folder's).

        The training sets are drawn once (seeded) or read from the ``samples`` file and shared by all layers.
        Writes ``work_dir/<layer>/lowshot_svm.json`` and the record ``work_dir/result_lowshot_svm_voc07.json``.

        Returns:
            dict: layer -> the results of :func:`mmssl.evaluation.svm.run_lowshot_svm`.
        """
        feature_dir, work_dir = osp.abspath(feature_dir), osp.abspath(work_dir)
        splits = load_layers(feature_dir, layers)
        protocol = SVMProtocol(costs=costs)
        train = next(iter(splits.values()))[0]
        if samples:
            drawn = load_lowshot_samples(samples, train)
        else:
            drawn = generate_lowshot_samples(train.labels, train.classes, shots, num_samples, seed,
                                             allow_small_pools=allow_small_pools)
        if save_samples:
            save_lowshot_samples(drawn, save_samples, train.ids)
        results = {}
        for layer, (train, test) in splits.items():
            results[layer] = run_lowshot_svm(train, test, drawn,
                                             solver_of(solver, protocol, device, n_jobs, max_memory),
                                             osp.join(work_dir, layer), legacy=legacy_cost_selection,
                                             solver_name=solver, recompute=recompute, test_per_cost=test_per_cost)
        metrics = lowshot_metrics(results)
        self.write_feature_record(
            feature_dir, work_dir, metrics, seeds=dict(lowshot_samples=drawn.seed), weights=weights,
            extra=dict(protocol=protocol.to_dict(), solver=solver, feature_dir=feature_dir, sample_file=samples,
                       samples_sha1=drawn.digest(), legacy_cost_selection=legacy_cost_selection,
                       test_per_cost=test_per_cost, allow_small_pools=allow_small_pools,
                       num_samples=drawn.num_samples,
                       summary=lowshot_summary(results)), cfg_options=cfg_options)
        return results

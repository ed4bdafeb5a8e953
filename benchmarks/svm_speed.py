"""Speed and agreement of the fast SVM solver against the sklearn (liblinear) reference.

Runs the full VOC07 SVM protocol of one layer (CV over the cost list, refit, test AP) with both
solvers on the same features and prints per-class AP, chosen costs, mAP and wall times.

Default: synthetic VOC07-sized features (5,011 × 9,216 trainval, 4,952 test, 20 classes), see
:func:`mmssl.evaluation.svm.make_voc_like_features`. Real features: ``--feature-dir DIR --layer L``.

Examples::

    python benchmarks/svm_speed.py                                   # full size, ~15-30 min
    python benchmarks/svm_speed.py --num-train 1000 --num-test 1000 --dim 2048   # quick
"""
import argparse
import os.path as osp
import tempfile
import time

import numpy as np
from mmengine.logging import MMLogger

from mmssl.benchmarks.protocol import VOC_CLASSES
from mmssl.evaluation.svm import (FeatureSplit, SVMProtocol, build_svm_solver, generate_lowshot_samples, load_split,
                                  make_voc_like_features, read_meta, run_lowshot_svm, run_voc07_svm)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--feature-dir', help='feature directory; synthetic features if omitted')
    parser.add_argument('--layer', default='feature5', help='layer of --feature-dir')
    parser.add_argument('--num-train', type=int, default=5011)
    parser.add_argument('--num-test', type=int, default=4952)
    parser.add_argument('--dim', type=int, default=9216)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--costs', default='voc07_19', help='cost preset or comma separated list')
    parser.add_argument('--n-jobs', type=int, default=-1, help='processes of the reference')
    parser.add_argument('--device', default='cpu', help='device of the fast solver')
    parser.add_argument('--precision', default='double', choices=['double', 'mixed'])
    parser.add_argument('--skip-reference', action='store_true', help='time the fast solver only')
    parser.add_argument('--lowshot', action='store_true', help='also time the low-shot protocol (fast solver)')
    parser.add_argument('--work-dir', help='outputs (a temporary directory by default)')
    return parser.parse_args()


def load_features(args):
    if args.feature_dir:
        meta = read_meta(args.feature_dir)
        return (load_split(args.feature_dir, 'trainval', args.layer, meta),
                load_split(args.feature_dir, 'test', args.layer, meta))
    train_x, train_y, test_x, test_y = make_voc_like_features(args.num_train, args.num_test, args.dim,
                                                              seed=args.seed)
    classes = list(VOC_CLASSES)
    return (FeatureSplit(train_x, train_y, [f'tv{i}' for i in range(len(train_y))], classes, 'synthetic',
                         'trainval'),
            FeatureSplit(test_x, test_y, [f'te{i}' for i in range(len(test_y))], classes, 'synthetic',
                         'test'))


def run(name, train, test, protocol, work_dir, **kwargs):
    solver = build_svm_solver(name, protocol, **kwargs)
    start = time.perf_counter()
    results = run_voc07_svm(train, test, solver, osp.join(work_dir, name), solver_name=name)
    return results, time.perf_counter() - start, solver.history


def report(train, fast, reference, times, history):
    classes = train.classes
    print(f'\n{"class":<14}{"cost fast":>12}{"cost ref":>12}{"AP fast":>10}{"AP ref":>10}{"ΔAP":>10}')
    deltas = []
    for name in classes:
        f, r = fast['per_class'][name], reference['per_class'][name]
        deltas.append(f['test_ap'] - r['test_ap'])
        print(f'{name:<14}{f["chosen_cost"]:>12.4g}{r["chosen_cost"]:>12.4g}{f["test_ap"]:>10.3f}'
              f'{r["test_ap"]:>10.3f}{deltas[-1]:>10.4f}')
    print(f'\nmAP fast {fast["mAP"]:.4f}  reference {reference["mAP"]:.4f}  '
          f'|ΔmAP| {abs(fast["mAP"] - reference["mAP"]):.4f}  max |ΔAP| {np.abs(deltas).max():.4f}')
    differ = [n for n in classes if fast['per_class'][n]['chosen_cost'] != reference['per_class'][n]['chosen_cost']]
    print(f'chosen costs agree for {len(classes) - len(differ)}/{len(classes)} classes')
    for name in differ:  # show that disagreements are near-ties of the CV score
        f, r = fast['per_class'][name], reference['per_class'][name]
        keys = {repr(f['chosen_cost']), repr(r['chosen_cost'])}
        print(f'  {name}: CV AP fast {[round(f["cv_ap"][k], 4) for k in keys]}, '
              f'reference {[round(r["cv_ap"][k], 4) for k in keys]} at costs {sorted(keys)}')
    single_core = sum(info['cpu_time'] for info in history)
    print(f'\nwall time: fast {times["fast"]:.1f}s, reference {times["sklearn"]:.1f}s '
          f'(all cores) -> {times["sklearn"] / times["fast"]:.1f}x')
    print(f'reference single-core estimate (sum of fit CPU times) {single_core:.1f}s -> '
          f'{single_core / times["fast"]:.1f}x')


def time_lowshot(train, test, protocol, work_dir, args):
    """Low-shot for one layer with the fast solver: 8 k x 5 samples x all classes x every cost, CV selection."""
    samples = generate_lowshot_samples(train.labels, train.classes, seed=args.seed)
    solver = build_svm_solver('fast', protocol, device=args.device, precision=args.precision)
    start = time.perf_counter()
    results = run_lowshot_svm(train, test, samples, solver, osp.join(work_dir, 'lowshot'), solver_name='fast')
    seconds = time.perf_counter() - start
    means = ' '.join(f'{results["shots"][str(k)]["mean"]:.2f}' for k in samples.shots)
    print(f'low-shot (fast, k={samples.shots}, {samples.num_samples} samples, {len(train.classes)} classes, '
          f'{len(protocol.costs)} costs, CV cost selection): {seconds:.1f}s; mean mAP per k: {means}')


def main():
    args = parse_args()
    MMLogger.get_instance('svm_speed', log_level='WARNING')
    work_dir = args.work_dir or tempfile.mkdtemp(prefix='svm_speed_')
    train, test = load_features(args)
    protocol = SVMProtocol(costs=args.costs)
    print(f'{len(train)} trainval x {train.features.shape[1]} dims, {len(test)} test, '
          f'{len(train.classes)} classes, {len(protocol.costs)} costs, {protocol.cv_folds}-fold CV; '
          f'outputs in {work_dir}')
    fast, fast_time, fast_history = run('fast', train, test, protocol, work_dir, device=args.device,
                                        precision=args.precision)
    info = {k: sum(h[k] for h in fast_history) for k in ('newton', 'cg')}
    print(f'fast: {fast_time:.1f}s, mAP {fast["mAP"]:.4f}, {info["newton"]} Newton and {info["cg"]} '
          f'CG column steps, max violation {max(h["max_violation"] for h in fast_history):.1e}')
    if args.lowshot:
        time_lowshot(train, test, protocol, work_dir, args)
    if args.skip_reference:
        return
    reference, ref_time, ref_history = run('sklearn', train, test, protocol, work_dir, n_jobs=args.n_jobs)
    report(train, fast, reference, dict(fast=fast_time, sklearn=ref_time), ref_history)


if __name__ == '__main__':
    main()

"""Speed and agreement of the fast SVM solver against the sklearn (liblinear) reference.

Runs the full VOC07 SVM protocol of one layer (CV over the cost list, refit, test AP) with both
solvers on the same features and prints per-class AP, chosen costs, mAP and wall times.

Default: synthetic VOC07-sized features (5,011 × 9,216 trainval, 4,952 test, 20 classes), see
:func:`mmssl.evaluation.svm._synthetic.make_voc_like_features`. Real features: ``--feature-dir DIR --layer L``.

Further comparisons, each printed side by side (ratios in the same run, never mixed with other runs):

- ``--primal-vs-dual``: the fast solver's dual (Gram matrix) and primal (row chunks) paths on the same layer.
- ``--coco-ann instances_train2014.json``: a COCO2014-size layer (82,783 x 9,216 train, 40,504 val, 80 classes)
  of synthetic features whose labels follow the class frequencies of that annotation file (the real file is the
  only source of the frequencies used here), solved with the fast solver (primal at the default budget, 16
  classes at a time like the ``svm_coco2014`` benchmark: ``--coco-class-batch``), and the reference on
  ``--reference-classes`` classes, scaled to all classes. ``--coco-size`` runs the same layer without the file,
  its labels following VOC07's frequencies repeated over the 80 classes. The process's peak memory is printed.
  The projection compares solve seconds (each class's share of its batch), so a fast layer solved over several
  resumed runs counts whole; ``--skip-voc07-reference`` runs this reference alone on such a work dir.
- ``--versus-cpu`` (with ``--device cuda``): the VOC07 layer also with the fast solver on the CPU; ratio and
  agreement.
- ``--products``: the layouts of the solver's Gram-block products in float64 and float32
  (:func:`mmssl.evaluation.svm.gram.symmetric_product`), at the shapes of VOC07 and of low-shot k = 96, and of
  the primal path's transposed chunk products (:func:`mmssl.evaluation.svm.primal.chunk_transpose_product`).
- ``--precision-vs-double``: the VOC07 layer again with ``precision='double'`` (float64 products throughout).
- ``--places-lowshot``: the Places205 low-shot protocol (205 classes, 5 samples, CV selection) on synthetic
  single-label features, fast solver only.

Examples::

    python speed_benchmarks/svm_speed.py                                   # full size, ~15-30 min
    python speed_benchmarks/svm_speed.py --num-train 1000 --num-test 1000 --dim 2048   # quick
    python speed_benchmarks/svm_speed.py --skip-reference --primal-vs-dual \
        --coco-ann data/coco/annotations/instances_train2014.json
"""
import argparse
import os.path as osp
import resource
import tempfile
import time

import numpy as np
import torch
from mmengine.logging import MMLogger

from mmssl.benchmarks.svm import COCO2014SVM
from mmssl.constants import VOC_CLASSES
from mmssl.evaluation.svm import (DEFAULT_MAX_MEMORY, FeatureSplit, SVMProtocol, build_svm_solver,
                                  generate_lowshot_samples, generate_places_lowshot_samples, load_split, parse_memory,
                                  read_meta, run_lowshot_svm, run_places_lowshot_svm, run_voc07_svm)
from mmssl.evaluation.svm._synthetic import make_places_like_features, make_voc_like_features
from mmssl.evaluation.svm.gram import symmetric_product
from mmssl.evaluation.svm.primal import chunk_transpose_product
from mmssl.evaluation.svm.store import finished_items


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
    parser.add_argument('--precision', default='mixed', choices=['double', 'mixed'],
                        help="the fast solver's precision (its default is 'mixed')")
    parser.add_argument('--precision-vs-double', action='store_true',
                        help="also time the VOC07 layer with precision='double' (same run, side by side)")
    parser.add_argument('--skip-reference', action='store_true', help='time the fast solver only')
    parser.add_argument('--skip-voc07-reference', action='store_true',
                        help="no reference on the VOC07 layer (the COCO-size layer's still runs)")
    parser.add_argument('--lowshot', action='store_true', help='also time the low-shot protocol (fast solver)')
    parser.add_argument('--work-dir', help='outputs (a temporary directory by default)')
    parser.add_argument('--max-memory', default=DEFAULT_MAX_MEMORY, type=parse_memory,
                        help='memory budget of the fast solver, e.g. 16G (decides dual vs primal)')
    parser.add_argument('--primal-vs-dual', action='store_true', help='time both paths of the fast solver')
    parser.add_argument('--coco-ann', help='instances_train2014.json: time a COCO2014-size layer with its class '
                        'frequencies')
    parser.add_argument('--coco-size', action='store_true',
                        help="time the COCO2014-size layer without --coco-ann (VOC07's frequencies, repeated)")
    parser.add_argument('--coco-train', type=int, default=82783, help='train rows of the COCO-size layer')
    parser.add_argument('--coco-test', type=int, default=40504, help='val rows of the COCO-size layer')
    parser.add_argument('--coco-class-batch', type=int, default=COCO2014SVM.class_batch,
                        help="classes solved together on the COCO-size layer (default: the svm_coco2014 benchmark's)")
    parser.add_argument('--reference-classes', type=int, default=2,
                        help='classes the reference solves on the COCO-size layer (time scaled to all)')
    parser.add_argument('--versus-cpu', action='store_true',
                        help='also time the fast solver on the CPU (with --device cuda)')
    parser.add_argument('--products', action='store_true', help='time the two layouts of the Gram-block products')
    parser.add_argument('--places-lowshot', action='store_true', help='time the Places205 low-shot protocol')
    parser.add_argument('--places-classes', type=int, default=205)
    parser.add_argument('--places-test-per-class', type=int, default=100)
    parser.add_argument('--places-shots', default='1,2,4,8,16,32,64,96')
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
    return results, time.perf_counter() - start, solver


def gemm_rate(dim: int, device: str, rows: int = 2048, repeats: int = 3) -> float:
    """The machine's float64 GEMM rate (GFLOP/s) on the Gram matrix's block shape: (rows x dim) @ (dim x rows)."""
    a = torch.randn(rows, dim, dtype=torch.float64, device=device)
    a @ a.T  # warm-up: thread pool, allocator
    best = float('inf')
    for _ in range(repeats):
        start = time.perf_counter()
        a @ a.T
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return 2 * rows * rows * dim / best / 1e9


def milliseconds(call, device: str, repeats: int) -> float:
    """Mean wall time of ``call()`` over ``repeats`` calls, in ms (a GPU's queue drained before the clock stops)."""
    start = time.perf_counter()
    for _ in range(repeats):
        call()
    if device.startswith('cuda'):
        torch.cuda.synchronize()
    return 1e3 * (time.perf_counter() - start) / repeats


def time_products(device: str, repeats: int = 5) -> None:
    """The layouts of the solver's Gram-block products at its shapes (groups, n, columns), side by side.

    Blocks of these sizes are multiplied group by group, as :class:`~mmssl.evaluation.svm.gram.GramBlocks`
    does. Float64 (the exact blocks): ``K @ P`` against ``(Pᵀ K)ᵀ``. Float32 (the residual blocks of
    ``precision='mixed'``): ``(Pᵀ K)ᵀ`` and unpadded ``K @ P`` against
    :func:`~mmssl.evaluation.svm.gram.symmetric_product`, which pads the columns to a multiple of 16.
    """
    layouts = dict(kp=lambda k, p: k @ p, pk=lambda k, p: (p.T.contiguous() @ k).T,
                   solver=symmetric_product)
    for groups, n, width in ((1, 5011, 8), (1, 5011, 20), (1, 5011, 60), (18, 1920, 4), (18, 1920, 8),
                             (18, 1920, 16)):
        rows = torch.randn(groups, n, 64, dtype=torch.float64, device=device)
        ms = {}
        for dtype in (torch.float64, torch.float32):
            gram = (rows @ rows.transpose(1, 2)).to(dtype)
            columns = torch.randn(groups, n, width, dtype=dtype, device=device)
            for name, layout in layouts.items():
                layout(gram[0], columns[0])
                ms[dtype, name] = milliseconds(lambda: [layout(gram[g], columns[g]) for g in range(groups)], device,
                                               repeats)
        f64, f32 = (lambda name: ms[torch.float64, name]), (lambda name: ms[torch.float32, name])
        print(f'products of {groups} x ({n} x {n}) blocks with {width} columns: float64 K @ P {f64("kp"):.1f} ms, '
              f'(P^T K)^T {f64("pk"):.1f} ms -> {f64("kp") / f64("pk"):.2f}x; float32 K @ P {f32("kp"):.1f} ms, '
              f'(P^T K)^T {f32("pk"):.1f} ms, solver {f32("solver"):.1f} ms -> '
              f'{min(f32("kp"), f32("pk")) / f32("solver"):.2f}x the better of those, '
              f'{f64("solver") / f32("solver"):.2f}x the float64 solver layout')


def time_chunk_products(device: str, repeats: int = 5, rows: int = 8192, dim: int = 9217) -> None:
    """The primal path's ``xᵀ U`` for one chunk of rows: both layouts and the solver's choice, side by side."""
    layouts = dict(xt=lambda x, u: x.T @ u, ut=lambda x, u: (u.T @ x).T, solver=chunk_transpose_product)
    for dtype in (torch.float64, torch.float32):
        chunk = torch.rand(rows, dim, dtype=dtype, device=device)
        for width in (4, 8, 16, 48, 128):
            columns = torch.rand(rows, width, dtype=dtype, device=device)
            ms = {}
            for name, layout in layouts.items():
                layout(chunk, columns)
                ms[name] = milliseconds(lambda: layout(chunk, columns), device, repeats)
            print(f'{str(dtype)[6:]} chunk ({rows} x {dim})^T times {width} columns: x^T U {ms["xt"]:.1f} ms, '
                  f'(U^T x)^T {ms["ut"]:.1f} ms, solver {ms["solver"]:.1f} ms -> '
                  f'{min(ms["xt"], ms["ut"]) / ms["solver"]:.2f}x the better layout, '
                  f'{max(ms["xt"], ms["ut"]) / ms["solver"]:.2f}x the worse')


def time_breakdown(solver, total: float, device: str) -> None:
    """Where the fast solver's time went: Gram matrices (and their rate against the GEMM rate), preconditioners,
    Newton / CG solves, and the rest of the protocol (CV AP, cost selection, test scoring, I/O)."""
    prepares = [p for p in solver.prepare_history if 'gram_seconds' in p]
    gram = sum(p['gram_seconds'] for p in prepares)
    precond = sum(p['preconditioner_seconds'] for p in prepares)
    solve = sum(h['wall_time'] for h in solver.history)
    print(f'time breakdown of fast ({total:.1f}s): Gram matrices {gram:.1f}s ({len(prepares)} of them), '
          f'preconditioners {precond:.1f}s, Newton/CG solves {solve:.1f}s, rest of the protocol '
          f'{total - gram - precond - solve:.1f}s')
    if prepares:
        # The Gram routine multiplies the upper block triangle only: about n^2 d multiply-adds, n^2 d flops x 2 / 2.
        flops = sum(p['rows'] ** 2 * p['dim'] for p in prepares)
        achieved = flops / gram / 1e9
        peak = gemm_rate(prepares[0]['dim'], device)
        print(f'Gram step: {achieved:.1f} GFLOP/s (float64) vs the measured GEMM rate {peak:.1f} GFLOP/s on '
              f'2048 x {prepares[0]["dim"]} blocks -> {100 * achieved / peak:.0f}% of it')


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


def time_precision_vs_double(train, test, protocol, work_dir, args, fast, fast_time):
    """The VOC07 layer again with ``precision='double'``: ratio to the run above and agreement."""
    solver = build_svm_solver('fast', protocol, device=args.device, precision='double', max_memory=args.max_memory)
    start = time.perf_counter()
    double = run_voc07_svm(train, test, solver, osp.join(work_dir, 'fast_double'), solver_name='fast-double')
    seconds = time.perf_counter() - start
    gap = max(abs(double['per_class'][c]['test_ap'] - fast['per_class'][c]['test_ap']) for c in train.classes)
    print(f"precision '{args.precision}' {fast_time:.1f}s vs 'double' {seconds:.1f}s (mAP {double['mAP']:.4f}): "
          f'{seconds / fast_time:.2f}x, max |ΔAP| {gap:.4f}')


def time_primal_vs_dual(train, test, protocol, work_dir, args):
    """The full protocol with each path of the fast solver; ratio and agreement side by side."""
    results, times = {}, {}
    for method in ('dual', 'primal'):
        solver = build_svm_solver('fast', protocol, device=args.device, method=method, max_memory=args.max_memory)
        start = time.perf_counter()
        results[method] = run_voc07_svm(train, test, solver, osp.join(work_dir, f'fast_{method}'),
                                        solver_name=f'fast-{method}')
        times[method] = time.perf_counter() - start
    gap = max(abs(results['dual']['per_class'][c]['test_ap'] - results['primal']['per_class'][c]['test_ap'])
              for c in train.classes)
    print(f'dual {times["dual"]:.1f}s (mAP {results["dual"]["mAP"]:.4f}) vs primal {times["primal"]:.1f}s '
          f'(mAP {results["primal"]["mAP"]:.4f}): primal/dual time {times["primal"] / times["dual"]:.2f}x, '
          f'max |ΔAP| {gap:.4f}')


def coco_class_counts(ann_file):
    """Images per category and the image count of a real COCO instances file (FAIR's label rule)."""
    from mmssl.datasets.coco import coco_image_labels
    _, labels, classes = coco_image_labels(ann_file)
    return classes, (labels == 1).sum(0), len(labels)


def peak_memory(device: str) -> str:
    """The process's peak resident memory (and the peak CUDA allocation on a GPU) so far."""
    text = f'peak resident memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.1f} GiB'
    if device.startswith('cuda'):
        text += f', peak CUDA allocation {torch.cuda.max_memory_allocated(device) / 2**30:.1f} GiB'
    return text


def time_coco(protocol, work_dir, args):
    """A COCO2014-size layer: the fast solver on all classes, the reference on a few, scaled."""
    if args.coco_ann:
        classes, counts, total = coco_class_counts(args.coco_ann)
        source = f'frequencies of {args.coco_ann}, {total} images'
    else:  # the generator's default: VOC07 trainval's frequencies, repeated over the classes
        classes, counts, total = [f'c{i}' for i in range(80)], None, None
        source = "VOC07 trainval's frequencies repeated over 80 classes, not COCO's"
    train_x, train_y, test_x, test_y = make_voc_like_features(args.coco_train, args.coco_test, args.dim,
                                                              num_classes=len(classes), class_counts=counts,
                                                              count_total=total, difficult_rate=0.0,
                                                              seed=args.seed)
    train = FeatureSplit(train_x, train_y, [f'tr{i}' for i in range(len(train_y))], classes, 'coco', 'trainval')
    test = FeatureSplit(test_x, test_y, [f'va{i}' for i in range(len(test_y))], classes, 'coco', 'test')
    print(f'COCO-size layer: {len(train)} train x {args.dim} dims, {len(test)} val, {len(classes)} classes '
          f'({source}); {peak_memory(args.device)} after drawing the features')
    solver = build_svm_solver('fast', protocol, device=args.device, max_memory=args.max_memory)
    start = time.perf_counter()
    fast = run_voc07_svm(train, test, solver, osp.join(work_dir, 'coco_fast'), solver_name='fast',
                         class_batch=args.coco_class_batch)
    fast_time = time.perf_counter() - start
    # Each class's `seconds` is its share of its batch's solve: classes an earlier run finished keep theirs.
    solve_seconds = sum(result['seconds'] for result in fast['per_class'].values())
    # An unprepared solver solved nothing: every class came from an earlier run in this work dir.
    how = f'{solver.path} path, {args.coco_class_batch} classes at a time' if solver.path else 'every class loaded'
    print(f'fast ({how}): {fast_time:.1f}s in this run, '
          f'mAP {fast["mAP"]:.4f}; the {len(classes)} classes\' solves sum to {solve_seconds:.1f}s (with any '
          f'resumed from an earlier run); {peak_memory(args.device)}')
    if args.skip_reference or args.reference_classes <= 0:
        return
    # The reference on the rarest and the most frequent classes, scaled by the class count.
    order = np.argsort((train.labels == 1).sum(0))
    picked = sorted({int(order[0]), int(order[-1])} | set(order[:max(0, args.reference_classes - 2)].tolist()))
    picked = picked[:args.reference_classes]
    names = [classes[p] for p in picked]
    subset = [FeatureSplit(s.features, s.labels[:, picked], s.ids, names, 'coco', s.split) for s in (train, test)]
    reference = build_svm_solver('sklearn', protocol, n_jobs=args.n_jobs)
    start = time.perf_counter()
    ref = run_voc07_svm(*subset, reference, osp.join(work_dir, 'coco_reference'), solver_name='sklearn',
                        class_batch=args.coco_class_batch)
    ref_time = time.perf_counter() - start
    # Solve seconds on both sides: the fast layer may have been solved over several (resumed) runs.
    ref_solve = sum(ref['per_class'][n]['seconds'] for n in names)
    projected = ref_solve * len(classes) / len(picked)
    gap = max(abs(ref['per_class'][n]['test_ap'] - fast['per_class'][n]['test_ap']) for n in names)
    print(f'reference (n_jobs {args.n_jobs}) on {names}: {ref_time:.1f}s in this run, solves {ref_solve:.1f}s '
          f'-> projected {projected:.1f}s for {len(classes)} classes; fast is {projected / solve_seconds:.1f}x '
          f'faster (solve seconds); max |ΔAP| on those classes {gap:.4f}; {peak_memory(args.device)}')


def time_versus_cpu(train, test, protocol, work_dir, args, fast, fast_time):
    """The VOC07 layer again with the fast solver on the CPU: ratio to the run on ``--device`` and agreement."""
    solver = build_svm_solver('fast', protocol, device='cpu', precision=args.precision, max_memory=args.max_memory)
    start = time.perf_counter()
    cpu = run_voc07_svm(train, test, solver, osp.join(work_dir, 'fast_cpu'), solver_name='fast-cpu')
    seconds = time.perf_counter() - start
    gap = max(abs(cpu['per_class'][c]['test_ap'] - fast['per_class'][c]['test_ap']) for c in train.classes)
    same = sum(cpu['per_class'][c]['chosen_cost'] == fast['per_class'][c]['chosen_cost'] for c in train.classes)
    print(f'{args.device} {fast_time:.1f}s (mAP {fast["mAP"]:.4f}) vs cpu {seconds:.1f}s (mAP {cpu["mAP"]:.4f}, '
          f'{torch.get_num_threads()} threads): cpu/{args.device} time {seconds / fast_time:.2f}x, '
          f'max |ΔAP| {gap:.4f}, chosen costs agree for {same}/{len(train.classes)} classes')


def time_places_lowshot(protocol, work_dir, args):
    """Places205 low-shot on synthetic single-label features: 5 samples per k, CV cost selection."""
    shots = [int(k) for k in args.places_shots.split(',')]
    per_class = max(shots)
    train_x, train_y, test_x, test_y = make_places_like_features(args.places_classes, per_class,
                                                                 args.places_test_per_class, args.dim,
                                                                 seed=args.seed)
    classes = [f'c{i}' for i in range(args.places_classes)]
    train = FeatureSplit(train_x, train_y, [f'tr{i}' for i in range(len(train_y))], classes, 'places', 'trainval')
    test = FeatureSplit(test_x, test_y, [f'va{i}' for i in range(len(test_y))], classes, 'places', 'test')
    samples = generate_places_lowshot_samples(train.labels, classes, shots, seed=args.seed)
    solver = build_svm_solver('fast', protocol, device=args.device, max_memory=args.max_memory)
    start = time.perf_counter()
    results = run_places_lowshot_svm(train, test, samples, solver, osp.join(work_dir, 'places_lowshot'),
                                     solver_name='fast')
    seconds = time.perf_counter() - start
    per_k = ' '.join(f'k={k}: {results["shots"][str(k)]["seconds"]:.1f}s' for k in samples.shots)
    print(f'Places205 low-shot (fast, {len(classes)} classes, {samples.num_samples} samples, '
          f'{len(protocol.costs)} costs, CV selection): {seconds:.1f}s ({per_k})')


def main():
    args = parse_args()
    MMLogger.get_instance('svm_speed', log_level='WARNING')
    if args.products:
        time_products(args.device)
        time_chunk_products(args.device)
    work_dir = args.work_dir or tempfile.mkdtemp(prefix='svm_speed_')
    train, test = load_features(args)
    protocol = SVMProtocol(costs=args.costs)
    print(f'{len(train)} trainval x {train.features.shape[1]} dims, {len(test)} test, '
          f'{len(train.classes)} classes, {len(protocol.costs)} costs, {protocol.cv_folds}-fold CV; '
          f'outputs in {work_dir}')
    # Classes an earlier run in this work dir finished are loaded, not solved: this run cannot time the layer, so the
    # comparisons with its time are refused before anything is solved.
    fast_classes = osp.join(work_dir, 'fast', 'classes')
    resumed = finished_items(fast_classes, train.classes)
    voc07_reference = not (args.skip_reference or args.skip_voc07_reference)
    loaded = (f'{len(resumed)} of {len(train.classes)} classes loaded from {fast_classes} (solved by an earlier run, '
              f'so this run did not time the layer)')
    timed_against = [flag for flag, wanted in (('--precision-vs-double', args.precision_vs_double),
                                               ('--versus-cpu', args.versus_cpu),
                                               ('the reference run', voc07_reference)) if wanted]
    if resumed and timed_against:
        print(f'fast: {loaded}')
        raise SystemExit(f'{", ".join(timed_against)} compare with the VOC07 layer\'s time, which this run '
                         f'did not measure: use a new --work-dir (or --skip-voc07-reference for the COCO-size '
                         f'layer\'s reference alone)')
    fast, fast_time, fast_solver = run('fast', train, test, protocol, work_dir, device=args.device,
                                       precision=args.precision, max_memory=args.max_memory)
    if resumed:
        print(f'fast: {loaded}, mAP {fast["mAP"]:.4f}')
    else:
        history = fast_solver.history
        info = {k: sum(h[k] for h in history) for k in ('newton', 'cg')}
        print(f'fast: {fast_time:.1f}s, mAP {fast["mAP"]:.4f}, {info["newton"]} Newton and {info["cg"]} '
              f'CG column steps, max violation {max(h["max_violation"] for h in history):.1e}')
        time_breakdown(fast_solver, fast_time, args.device)
    if args.precision_vs_double:
        time_precision_vs_double(train, test, protocol, work_dir, args, fast, fast_time)
    if args.versus_cpu:
        time_versus_cpu(train, test, protocol, work_dir, args, fast, fast_time)
    if args.lowshot:
        time_lowshot(train, test, protocol, work_dir, args)
    if args.primal_vs_dual:
        time_primal_vs_dual(train, test, protocol, work_dir, args)
    if args.coco_ann or args.coco_size:
        time_coco(protocol, work_dir, args)
    if args.places_lowshot:
        time_places_lowshot(protocol, work_dir, args)
    if not voc07_reference:
        return
    reference, ref_time, ref_solver = run('sklearn', train, test, protocol, work_dir, n_jobs=args.n_jobs)
    report(train, fast, reference, dict(fast=fast_time, sklearn=ref_time), ref_solver.history)


if __name__ == '__main__':
    main()

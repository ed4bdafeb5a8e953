"""Linear probes side by side: the one-pass lr grid against single-point runs, the cached probe against the Runner.

Every comparison runs both sides in this one process, one after the other, on the same data and with the same
shortening of the schedule, so that their ratio means something (never compare times of different runs); an
untimed run on one image comes first, so that neither side pays for the process's start-up:

(a) The multi-head linear evaluation of the Fashion-MNIST demo (``resnet18_mhead_1xb64-steplr-4e_fmnist-demo.py``)
    with an 8-point learning-rate grid trained in one pass (``model.head.lr_grid``: one frozen forward per batch,
    every head reads it) against 8 runs of the same config, one per learning rate (``optim_wrapper.optimizer.lr``
    = the config's lr times the multiplier). Both sides get ``--epochs`` (1) and ``--train-images`` (500 of the
    1,000) alike; validation on all of val. Printed: each side's wall time and the ratio, and the feature5
    top-1 of each single run beside its grid head.
(b) The cached-feature probe of the demo (``resnet18_probe_fmnist-demo.py``: features extracted once, L-BFGS
    logistic regression over its C grid, held-out selection, refit) against the multi-head linear evaluation of the
    demo at its own schedule (``--linear-epochs``): wall time and top-1 per tap of each. The two demo configs read
    the images at their own sizes (the probe at 32 px, the linear evaluation at 112 px), as a user runs them.
(c) On a CUDA device only: images/s of the frozen backbone forward (the feature extractor of the probe and the
    SVM benchmarks, ImageNet's ResNet-50 at 224 px by default) in float32 and under ``--amp`` (bfloat16
    autocast). Without CUDA it prints that it was skipped.

The backbone is the seeded random network (``none``) unless ``--checkpoint`` names pre-trained weights. Data: the
converter's output, ``python tools/dataset_converters/prepare_fashion_mnist.py --out data/fashion_mnist``.

Examples::

    python speed_benchmarks/probe_grid_speed.py                       # (a), (b) and, on a GPU, (c): ~5 min on 2 CPUs
    python speed_benchmarks/probe_grid_speed.py --parts a --epochs 2  # the grid only, a longer schedule
    python speed_benchmarks/probe_grid_speed.py --checkpoint work_dirs/relative-loc/epoch_20.pth
"""
import argparse
import json
import os
import os.path as osp
import re
import shutil
import tempfile
import time
from typing import Dict, List, Optional, Sequence

import torch

from mmssl.benchmarks import cli
from mmssl.benchmarks.feature_extraction import FeatureExtractor
from mmssl.benchmarks.probe import Probe
from mmssl.models.heads.multi_cls_head import grid_head_name
from mmssl.utils import register_all_modules

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO_DIR = osp.join(REPO_ROOT, 'configs', 'benchmarks', 'classification', 'fashion_mnist')
LINEAR_DEMO = osp.join(DEMO_DIR, 'resnet18_mhead_1xb64-steplr-4e_fmnist-demo.py')
PROBE_DEMO = osp.join(DEMO_DIR, 'resnet18_probe_fmnist-demo.py')
GPU_CONFIG = osp.join(REPO_ROOT, 'configs', 'benchmarks', 'classification', 'imagenet', 'resnet50_probe_in1k.py')
LR_GRID = (0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30)
BASE_LR = 0.01  # the linear demo config's optim_wrapper.optimizer.lr
TAPS = ('feature4', 'feature5')  # the taps both demo configs evaluate
_TOP1 = re.compile(r'accuracy/(?P<head>[^/]+)/top1')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data-root', default=osp.join(REPO_ROOT, 'data', 'fashion_mnist'),
                        help='the Fashion-MNIST converter output (default %(default)s)')
    parser.add_argument('--checkpoint', default='none', help="backbone weights; 'none': the seeded random network")
    parser.add_argument('--parts', default='abc', help='which comparisons to run, e.g. ab (default %(default)s)')
    parser.add_argument('--lr-grid', default=','.join(f'{m:g}' for m in LR_GRID),
                        help='(a) lr multipliers of the config lr, 1 included (default %(default)s)')
    parser.add_argument('--epochs', type=int, default=1, help='(a) epochs of every run, both sides (default 1)')
    parser.add_argument('--train-images', type=int, default=500,
                        help='(a) train on this many images, evenly spaced over the class-sorted list; 0: all '
                        '(default %(default)s)')
    parser.add_argument('--linear-epochs', type=int, default=0,
                        help="(b) epochs of the linear evaluation; 0: the config's 4")
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='key=value overrides of every linear run of (a) and (b), e.g. '
                        'train_dataloader.num_workers=0')
    parser.add_argument('--probe-cfg-options', nargs='+', default=[], help='key=value overrides of the probe (b)')
    parser.add_argument('--work-dir', help='outputs of the runs (a temporary directory by default)')
    parser.add_argument('--gpu-batch', type=int, default=128, help='(c) images per forward')
    parser.add_argument('--gpu-size', type=int, default=224, help='(c) image side in pixels')
    parser.add_argument('--gpu-iters', type=int, default=20, help='(c) timed forwards per precision')
    parser.add_argument('--gpu-config', default=GPU_CONFIG, help="(c) the config whose model.backbone is timed")
    args = parser.parse_args(argv)
    args.lr_grid = [float(m) for m in args.lr_grid.split(',')]
    if 1.0 not in args.lr_grid or any(m <= 0 for m in args.lr_grid):
        parser.error(f'--lr-grid must hold multipliers > 0 including 1, got {args.lr_grid}')
    unknown = set(args.parts) - set('abc')
    if unknown:
        parser.error(f'--parts takes letters of abc, got {args.parts!r}')
    if not osp.isfile(osp.join(args.data_root, 'meta', 'train.txt')):
        parser.error(f'{args.data_root}/meta/train.txt does not exist; write the demo data with python '
                     'tools/dataset_converters/prepare_fashion_mnist.py --out data/fashion_mnist')
    return args


def data_options(data_root: str) -> List[str]:
    """``--cfg-options`` pointing both splits of a demo config at ``data_root``."""
    root = osp.abspath(data_root) + '/'
    return [f'{split}_dataloader.dataset.data_root={root}' for split in ('train', 'val')]


def subset_option(data_root: str, images: int) -> List[str]:
    """``train_dataloader.dataset.indices``: ``images`` rows evenly spaced over the (class-sorted) train list."""
    if not images:
        return []
    with open(osp.join(data_root, 'meta', 'train.txt')) as f:
        total = sum(1 for line in f if line.strip())
    if images > total:
        raise ValueError(f'--train-images {images} is more than the {total} images of {data_root}/meta/train.txt')
    rows = sorted({int(i * total / images) for i in range(images)})
    return [f'train_dataloader.dataset.indices=[{",".join(map(str, rows))}]']


def timed_benchmark(name: str, config: str, checkpoint: str, work_dir: str, options: Sequence[str]) -> tuple:
    """Run benchmark ``name`` through :func:`mmssl.benchmarks.cli.main` in a fresh ``work_dir``;
    ``(metrics, seconds)``."""
    if osp.isdir(work_dir):
        shutil.rmtree(work_dir)  # nothing reused from an earlier run of this script: every run is timed whole
    argv = [config, checkpoint, '--work-dir', work_dir, '--cfg-options', *options]
    start = time.perf_counter()
    metrics = cli.main(name, argv)
    return metrics, time.perf_counter() - start


def head_top1(metrics: Dict[str, float]) -> Dict[str, float]:
    """Head name -> top-1 of the linear benchmark's metrics (``accuracy/<head>/top1``)."""
    return {match['head']: value for key, value in metrics.items() for match in [_TOP1.fullmatch(key)] if match}


def describe(options: Sequence[str]) -> str:
    """The overrides as printed: long index lists shortened."""
    return ' '.join(re.sub(r'=\[([^\]]{60})[^\]]*\]', r'=[\1...]', option) for option in options)


def warm_up(args, work_dir: str) -> None:
    """One untimed linear run on one image: the first Runner of a process pays for imports and the set-up of
    torch and mmengine (seconds), which would otherwise be charged to whichever side runs first."""
    options = [*data_options(args.data_root), *args.cfg_options, 'train_dataloader.dataset.indices=[0]',
               'val_dataloader.dataset.indices=[0]', 'train_cfg.max_epochs=1', 'train_cfg.val_interval=1']
    _, seconds = timed_benchmark('linear', LINEAR_DEMO, args.checkpoint, work_dir, options)
    print(f'warm-up run (one image, untimed): {seconds:.1f} s', flush=True)


def compare_grid(args, work_dir: str) -> float:
    """(a): one run with ``lr_grid`` against one run per multiplier; returns singles' time / the grid's."""
    common = [*data_options(args.data_root), *subset_option(args.data_root, args.train_images),
              f'train_cfg.max_epochs={args.epochs}', f'train_cfg.val_interval={args.epochs}', *args.cfg_options]
    print(f'(a) config {osp.relpath(LINEAR_DEMO, REPO_ROOT)}, checkpoint {args.checkpoint}, lr = {BASE_LR} x '
          f'{args.lr_grid}; both sides: {describe(common)}', flush=True)
    grid_metrics, grid_time = timed_benchmark(
        'linear', LINEAR_DEMO, args.checkpoint, osp.join(work_dir, 'grid'),
        [*common, f'model.head.lr_grid=[{",".join(f"{m:g}" for m in args.lr_grid)}]'])
    grid_top1 = head_top1(grid_metrics)
    singles = []
    for mult in args.lr_grid:
        metrics, seconds = timed_benchmark('linear', LINEAR_DEMO, args.checkpoint,
                                           osp.join(work_dir, f'single_lrx{mult:g}'),
                                           [*common, f'optim_wrapper.optimizer.lr={BASE_LR * mult:g}'])
        singles.append((mult, head_top1(metrics).get('feature5'), seconds))
    lines = [f'(a) lr x{mult:g}: single run {seconds:.1f} s, feature5 top-1 {top1:.2f}; in the grid '
             f'{grid_top1.get(grid_head_name("feature5", mult), float("nan")):.2f}' for mult, top1, seconds in singles]
    single_time = sum(seconds for _, _, seconds in singles)
    ratio = single_time / grid_time
    print('\n'.join(lines))
    print(f'(a) {len(args.lr_grid)}-point lr grid: one pass {grid_time:.1f} s, {len(singles)} single-point runs '
          f'{single_time:.1f} s -> {ratio:.2f}x', flush=True)
    return ratio


def compare_probe_linear(args, work_dir: str) -> float:
    """(b): the cached probe against the multi-head linear evaluation; returns linear time / probe time."""
    linear_options = [*data_options(args.data_root), *args.cfg_options]
    if args.linear_epochs:
        linear_options += [f'train_cfg.max_epochs={args.linear_epochs}',
                           f'train_cfg.val_interval={args.linear_epochs}']
    probe_options = [*data_options(args.data_root), *args.probe_cfg_options]
    print(f'(b) probe {osp.relpath(PROBE_DEMO, REPO_ROOT)} ({describe(probe_options)}) against linear '
          f'{osp.relpath(LINEAR_DEMO, REPO_ROOT)} ({describe(linear_options)}), checkpoint {args.checkpoint}',
          flush=True)
    probe_dir = osp.join(work_dir, 'probe')
    probe_metrics, probe_time = timed_benchmark('probe', PROBE_DEMO, args.checkpoint, probe_dir, probe_options)
    with open(osp.join(probe_dir, Probe.record_file())) as f:
        chosen = json.load(f)['extra']['selected_C']
    linear_metrics, linear_time = timed_benchmark('linear', LINEAR_DEMO, args.checkpoint,
                                                  osp.join(work_dir, 'linear'), linear_options)
    linear_top1 = head_top1(linear_metrics)
    print('(b) | benchmark | wall time (s) | ' + ' | '.join(f'{tap} top-1' for tap in TAPS) + ' |')
    print(f'(b) | probe (cached features, L-BFGS) | {probe_time:.1f} | '
          + ' | '.join(f'{probe_metrics.get(f"{tap}/top1", float("nan")):.2f} (C={chosen.get(tap, float("nan")):.3g})'
                       for tap in TAPS) + ' |')
    print(f'(b) | linear (Runner, multi-head SGD) | {linear_time:.1f} | '
          + ' | '.join(f'{linear_top1.get(tap, float("nan")):.2f}' for tap in TAPS) + ' |')
    ratio = linear_time / probe_time
    print(f'(b) probe {probe_time:.1f} s, linear {linear_time:.1f} s -> {ratio:.2f}x', flush=True)
    return ratio


def forward_throughput(backbone: dict, data_preprocessor: Optional[dict], batch: int, size: int, iters: int,
                       amp: bool, device: str) -> float:
    """Images/s of the frozen feature5 forward (:class:`FeatureExtractor`) on ``device`` with random uint8 images
    of ``size`` px, in float32 or under bfloat16 autocast (``amp``); two untimed warm-up forwards first."""
    extractor = FeatureExtractor(backbone, ['feature5'], data_preprocessor, pooling='global', amp=amp)
    extractor = extractor.to(device).eval()
    images = torch.randint(0, 256, (batch, 3, size, size), dtype=torch.uint8, device=device)
    synchronize = torch.cuda.synchronize if device.startswith('cuda') else (lambda: None)
    for _ in range(2):
        extractor(dict(inputs=images))
    synchronize()
    start = time.perf_counter()
    for _ in range(iters):
        extractor(dict(inputs=images))
    synchronize()
    return batch * iters / (time.perf_counter() - start)


def compare_amp(args, device: str = 'cuda') -> Optional[float]:
    """(c): images/s of the frozen forward in float32 and under ``--amp``; returns the speed-up, ``None`` without
    CUDA (or on ``device`` when given, e.g. the CPU in a test)."""
    if device == 'cuda' and not torch.cuda.is_available():
        print('(c) frozen forward with and without --amp: skipped (torch.cuda.is_available() is False)')
        return None
    register_all_modules(init_default_scope=False)
    from mmengine.config import Config
    cfg = Config.fromfile(args.gpu_config)
    name = torch.cuda.get_device_name() if device == 'cuda' else device
    print(f'(c) {osp.relpath(args.gpu_config, REPO_ROOT)} backbone on {name}, batch {args.gpu_batch}, '
          f'{args.gpu_size} px, {args.gpu_iters} forwards', flush=True)
    speeds = {amp: forward_throughput(cfg.model.backbone, cfg.model.get('data_preprocessor'), args.gpu_batch,
                                      args.gpu_size, args.gpu_iters, amp, device) for amp in (False, True)}
    ratio = speeds[True] / speeds[False]
    print(f'(c) frozen forward: float32 {speeds[False]:.0f} images/s, --amp (bfloat16) {speeds[True]:.0f} '
          f'images/s -> {ratio:.2f}x', flush=True)
    return ratio


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, Optional[float]]:
    args = parse_args(argv)
    work_dir = args.work_dir or tempfile.mkdtemp(prefix='probe_grid_speed_')
    os.makedirs(work_dir, exist_ok=True)
    ratios = {}
    if set(args.parts) & set('ab'):
        warm_up(args, osp.join(work_dir, 'warm_up'))
    if 'a' in args.parts:
        ratios['(a) 8 single-point runs / one-pass grid'.replace('8', str(len(args.lr_grid)))] = compare_grid(
            args, osp.join(work_dir, 'a'))
    if 'b' in args.parts:
        ratios['(b) linear evaluation / cached probe'] = compare_probe_linear(args, osp.join(work_dir, 'b'))
    if 'c' in args.parts:
        ratios['(c) --amp / float32 images/s'] = compare_amp(args)
    print('| comparison | ratio |\n|---|---|')
    for what, ratio in ratios.items():
        print(f'| {what} | ' + ('skipped' if ratio is None else f'{ratio:.2f}x') + ' |')
    print(f'outputs in {work_dir}')
    return ratios


if __name__ == '__main__':
    main()

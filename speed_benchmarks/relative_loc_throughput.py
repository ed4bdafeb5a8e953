"""Training throughput of relative location: ``exact`` (toolbox) vs ``dedup`` backbone pass, side by side.

    python speed_benchmarks/relative_loc_throughput.py [--depth 50] [--batch-size 8] [--rounds 5] [--device cpu]

Both models have the same weights and see the same batch; their steps alternate round by round so that load
from other processes on a shared machine hits both alike. Prints images/s of each (median over rounds) and
the ratio dedup / exact.
"""
import argparse
import copy
import statistics
import time

import torch
from mmengine.optim import build_optim_wrapper

from mmssl.registry import MODELS
from mmssl.structures import DataSample
from mmssl.utils import register_all_modules


def build_model(mode: str, depth: int, device: str):
    channels = 512 if depth < 50 else 2048
    model = MODELS.build(dict(
        type='RelativeLoc', backbone_mode=mode,
        data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[124, 117, 104], std=[59, 58, 58]),
        backbone=dict(type='ResNet', depth=depth, out_indices=[4]),
        neck=dict(type='RelativeLocNeck', in_channels=channels, out_channels=4096),
        head=dict(type='ClsHead', in_channels=4096, num_classes=8)))
    return model.to(device)


def make_batch(batch_size: int, patch_size: int):
    return dict(inputs=[torch.randint(0, 256, (9, 3, patch_size, patch_size), dtype=torch.uint8)
                        for _ in range(batch_size)],
                data_samples=[DataSample().set_gt_label(torch.arange(8)) for _ in range(batch_size)])


def timed_step(model, optim_wrapper, batch, device: str) -> float:
    if device.startswith('cuda'):
        torch.cuda.synchronize()
    start = time.perf_counter()
    model.train_step(copy.deepcopy(batch), optim_wrapper)
    if device.startswith('cuda'):
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--depth', type=int, default=50)
    parser.add_argument('--batch-size', type=int, default=8, help='images per step (9 patches each)')
    parser.add_argument('--patch-size', type=int, default=64)
    parser.add_argument('--rounds', type=int, default=5, help='timed steps per mode (after one warm-up step)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    args = parser.parse_args(argv)

    register_all_modules()
    torch.manual_seed(0)
    models = {'exact': build_model('exact', args.depth, args.device)}
    models['dedup'] = build_model('dedup', args.depth, args.device)
    models['dedup'].load_state_dict(models['exact'].state_dict())
    optim_cfg = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4))
    wrappers = {mode: build_optim_wrapper(model, optim_cfg) for mode, model in models.items()}
    batch = make_batch(args.batch_size, args.patch_size)

    times = {mode: [] for mode in models}
    for round_index in range(args.rounds + 1):
        for mode in models:
            seconds = timed_step(models[mode], wrappers[mode], batch, args.device)
            if round_index:  # round 0 warms up allocators and kernels
                times[mode].append(seconds)

    throughput = {mode: args.batch_size / statistics.median(values) for mode, values in times.items()}
    print(f'ResNet-{args.depth}, {args.batch_size} images x 9 patches of {args.patch_size}px, '
          f'{args.rounds} rounds on {args.device} ({torch.get_num_threads()} threads)')
    for mode in models:
        patches = args.batch_size * (16 if mode == 'exact' else 9)
        print(f'  {mode:5s}: {throughput[mode]:7.2f} images/s  ({patches} backbone patch forwards/step, '
              f'step times {", ".join(f"{t:.2f}" for t in times[mode])} s)')
    print(f'  dedup / exact images/s ratio: {throughput["dedup"] / throughput["exact"]:.2f}x')
    return throughput


if __name__ == '__main__':
    main()

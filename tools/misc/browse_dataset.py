"""Save what a config's pipeline produces as images: ``browse_dataset.py CONFIG [--num 8] [--out DIR]``.

Each sample becomes one PNG: a plain image as it enters the model, or, for patch stacks such as the 9
relative-location patches, the patches laid out on their 3x3 grid with gaps (the centre in the middle, label k
at grid position (0, 1, 2, 3, 5, 6, 7, 8)[k]). Pixels are shown before the data preprocessor's normalisation.
"""
import argparse
import math
import os.path as osp

import mmcv
import numpy as np
from mmengine.config import Config, DictAction
from mmengine.registry import DATASETS
from mmengine.utils import mkdir_or_exist

from mmssl.utils import register_all_modules
from mmssl.utils.cli_errors import run_cli


def to_display(tensor) -> np.ndarray:
    """(C, H, W) tensor of any range → (H, W, 3) uint8 for saving."""
    img = tensor.numpy().transpose(1, 2, 0).astype(np.float32)
    if img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    if img.dtype != np.uint8 and (img.min() < 0 or img.max() > 255):
        img = (img - img.min()) / max(img.max() - img.min(), 1e-6) * 255
    return np.clip(img, 0, 255).astype(np.uint8)


def patch_grid(patches, gap: int = 4) -> np.ndarray:
    """(P, C, p, p) patches → one image with the patches on a square grid, ``gap`` pixels apart."""
    side = math.ceil(math.sqrt(len(patches)))
    size = patches.shape[-1]
    canvas = np.full((side * size + (side - 1) * gap, side * size + (side - 1) * gap, 3), 255, np.uint8)
    for index, patch in enumerate(patches):
        row, col = divmod(index, side)
        top, left = row * (size + gap), col * (size + gap)
        canvas[top:top + size, left:left + size] = to_display(patch)
    return canvas


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('--phase', default='train', choices=['train', 'val', 'test'])
    parser.add_argument('--num', type=int, default=8, help='number of samples')
    parser.add_argument('--out', default='work_dirs/browse_dataset')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    register_all_modules()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    dataset = DATASETS.build(cfg[f'{args.phase}_dataloader'].dataset)
    mkdir_or_exist(args.out)
    for index in range(min(args.num, len(dataset))):
        inputs = dataset[index]['inputs']
        img = patch_grid(inputs) if inputs.dim() == 4 else to_display(inputs)
        path = osp.join(args.out, f'{args.phase}_{index:04d}.png')
        mmcv.imwrite(img, path)  # pipelines keep mmcv's BGR order, which imwrite expects
        print(path)


if __name__ == '__main__':
    run_cli(main)

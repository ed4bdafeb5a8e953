"""Export the backbone of a checkpoint as a bare timm state dict: a Vision Transformer with timm's
``VisionTransformer`` names (``cls_token``, ``pos_embed``, ``patch_embed.proj``, ``blocks.N``, ``norm``; no
``head``: load with strict=False), a ResNet with timm's (= torchvision's) names.

    python tools/model_converters/to_timm.py CHECKPOINT OUT.pth [--checkpoint-format NAME]
        [--checkpoint-prefix STR] [--checkpoint-key PATH]

CHECKPOINT may be any layout of docs/en/checkpoints.md (DINO, MoCo v3, MAE, iBOT, DINOv2, torchvision, mmpretrain,
mmssl ...; detected unless ``--checkpoint-format`` names it).
"""
import argparse

import torch

from mmssl.benchmarks.cli import add_checkpoint_arguments, checkpoint_options
from mmssl.utils import read_backbone, setup_runtime
from mmssl.utils.cli_errors import run_cli


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('checkpoint', help='checkpoint of any supported layout')
    parser.add_argument('output', help='timm state dict (.pth)')
    add_checkpoint_arguments(parser)
    args = parser.parse_args(argv)
    setup_runtime()
    backbone, layout = read_backbone(args.checkpoint, **checkpoint_options(args))
    torch.save(backbone, args.output)
    print(f'wrote {len(backbone)} tensors ({layout} checkpoint) with timm names to {args.output}')


if __name__ == '__main__':
    run_cli(main)

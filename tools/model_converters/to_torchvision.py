"""Export the backbone of a checkpoint as a torchvision state dict: a ResNet as ``resnetXX()`` names it (no ``fc``),
a Vision Transformer as ``vit_b_16()`` ... name it (``conv_proj``, ``encoder.layers.encoder_layer_N``; no ``heads``;
register tokens and layer scale have no place there and are refused). Load with strict=False.

    python tools/model_converters/to_torchvision.py CHECKPOINT OUT.pth [--checkpoint-format NAME]
        [--checkpoint-prefix STR] [--checkpoint-key PATH]

CHECKPOINT may be any layout of docs/en/checkpoints.md (detected unless ``--checkpoint-format`` names it).
"""
import argparse

import torch

from mmssl.benchmarks.cli import add_checkpoint_arguments, checkpoint_options
from mmssl.utils import read_backbone, setup_runtime
from mmssl.utils.checkpoint.mismatch import backbone_family
from mmssl.utils.cli_errors import run_cli
from mmssl.utils.vit_keys import timm_to_torchvision


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('checkpoint', help='checkpoint of any supported layout')
    parser.add_argument('output', help='torchvision state dict (.pth)')
    add_checkpoint_arguments(parser)
    args = parser.parse_args(argv)
    setup_runtime()
    backbone, layout = read_backbone(args.checkpoint, **checkpoint_options(args))
    if backbone_family(backbone) == 'ViT':
        try:
            backbone = timm_to_torchvision(backbone)
        except KeyError as error:
            raise SystemExit(f'{args.checkpoint}: {error.args[0]}; export it with to_timm.py') from None
    torch.save(backbone, args.output)
    print(f'wrote {len(backbone)} tensors ({layout} checkpoint) with torchvision names to {args.output}')


if __name__ == '__main__':
    run_cli(main)

"""Export the ResNet backbone of a checkpoint as a torchvision ``resnetXX()`` state dict (no ``fc``; load with
strict=False).

    python tools/model_converters/to_torchvision.py CHECKPOINT OUT.pth [--format NAME] [--prefix STR] [--key PATH]

CHECKPOINT may be any layout of docs/en/checkpoints.md (detected unless ``--format`` names it).
"""
import argparse

import torch

from mmssl.utils import read_backbone
from mmssl.utils.checkpoint_formats import format_names


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('checkpoint', help='checkpoint of any supported layout')
    parser.add_argument('output', help='torchvision state dict (.pth)')
    parser.add_argument('--format', choices=format_names(), help='layout of CHECKPOINT (default: detected)')
    parser.add_argument('--prefix', help='use only keys starting with this (stripped)')
    parser.add_argument('--key', help='dotted path of nested dicts to the weights')
    args = parser.parse_args(argv)
    backbone, layout = read_backbone(args.checkpoint, args.format, args.prefix, args.key)
    torch.save(backbone, args.output)
    print(f'wrote {len(backbone)} tensors ({layout} checkpoint) with torchvision names to {args.output}')


if __name__ == '__main__':
    main()

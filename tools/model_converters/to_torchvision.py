"""Export an mmssl ResNet backbone as a torchvision ``resnetXX()`` state dict (no ``fc``; load with strict=False).

    python tools/model_converters/to_torchvision.py CHECKPOINT OUT.pth
"""
import argparse

import torch

from mmssl.utils import load_checkpoint_state_dict, select_prefix


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('checkpoint', help='full pre-training checkpoint or backbone-only file')
    parser.add_argument('output', help='torchvision state dict (.pth)')
    args = parser.parse_args(argv)
    state_dict = load_checkpoint_state_dict(args.checkpoint)
    backbone = select_prefix(state_dict, 'backbone.') or state_dict
    if 'conv1.weight' not in backbone or 'layer1.0.conv1.weight' not in backbone:
        raise SystemExit(f'{args.checkpoint}: not a ResNet checkpoint (expected conv1.weight and layer1.*, '
                         f'found e.g. {list(backbone)[:5]})')
    torch.save(backbone, args.output)
    print(f'wrote {len(backbone)} tensors with torchvision names to {args.output}')


if __name__ == '__main__':
    main()

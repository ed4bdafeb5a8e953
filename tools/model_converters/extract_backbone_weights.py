"""Write the backbone of a pre-training checkpoint as a backbone-only file (``backbone.`` prefix removed).

    python tools/model_converters/extract_backbone_weights.py CHECKPOINT OUT.pth
"""
import argparse

import torch

from mmssl.utils import load_checkpoint_state_dict, select_prefix, setup_runtime
from mmssl.utils.cli_errors import run_cli


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('checkpoint', help='mmssl pre-training checkpoint (keys backbone.*, neck.*, ...)')
    parser.add_argument('output', help='output file: {"state_dict": backbone weights}')
    args = parser.parse_args(argv)
    setup_runtime()
    state_dict = load_checkpoint_state_dict(args.checkpoint)
    backbone = select_prefix(state_dict, 'backbone.')
    if not backbone:
        raise SystemExit(f'{args.checkpoint}: no key starts with "backbone." (first keys: {list(state_dict)[:5]}); '
                         'is it already a backbone-only file?')
    torch.save({'state_dict': backbone}, args.output)
    print(f'wrote {len(backbone)} backbone tensors to {args.output}')


if __name__ == '__main__':
    run_cli(main)

"""Export an mmssl ResNet backbone as a detectron2 ``.pkl`` (``stem.conv1``, ``res2``…``res5``, ``shortcut``).

    python tools/model_converters/to_detectron2.py CHECKPOINT OUT.pkl

Use it with ``MODEL.WEIGHTS OUT.pkl`` and the usual self-supervised detectron2 settings (``PIXEL_MEAN`` /
``PIXEL_STD`` in RGB ImageNet statistics, ``INPUT.FORMAT RGB``).
"""
import argparse
import pickle

from mmssl.benchmarks.cli import add_checkpoint_arguments, checkpoint_options
from mmssl.utils import read_backbone, setup_runtime
from mmssl.utils.cli_errors import run_cli
from mmssl.utils.resnet_keys import resnet_to_detectron2


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('checkpoint', help='checkpoint of any supported layout (docs/en/checkpoints.md)')
    parser.add_argument('output', help='detectron2 pickle (.pkl)')
    add_checkpoint_arguments(parser)
    args = parser.parse_args(argv)
    setup_runtime()
    backbone, _ = read_backbone(args.checkpoint, **checkpoint_options(args))
    try:
        model = resnet_to_detectron2(backbone)
    except KeyError as error:
        raise SystemExit(f'{args.checkpoint}: {error.args[0]}') from None
    with open(args.output, 'wb') as f:
        pickle.dump({'model': model, '__author__': 'mmssl', 'matching_heuristics': True}, f)
    print(f'wrote {len(model)} tensors with detectron2 names to {args.output}')


if __name__ == '__main__':
    run_cli(main)

"""Import a checkpoint of another toolbox as an mmssl checkpoint (``state_dict`` with ``backbone.*`` keys).

    python tools/model_converters/import_checkpoint.py SRC DST [--checkpoint-format NAME] [--checkpoint-prefix STR]
        [--checkpoint-key PATH]

SRC may be any layout of docs/en/checkpoints.md: a ResNet (mmselfsup, torchvision / timm, MoCo v1/v2/v3, VISSL,
detectron2 .pkl, DDP-wrapped, backbone-only) or a Vision Transformer (DINO, iBOT, MoCo v3, MAE, DINOv2, timm,
torchvision, mmpretrain, mmssl); the layout is detected unless ``--checkpoint-format`` names it. A ViT is written
with timm's names. DST's ``meta`` records the source file, its layout and its sha256. ``to_torchvision.py``,
``to_timm.py`` and ``to_detectron2.py`` (ResNets) convert back.
"""
import argparse

from mmssl.benchmarks.cli import add_checkpoint_arguments, checkpoint_options
from mmssl.models.utils.checkpoint_import import import_checkpoint
from mmssl.utils import read_checkpoint, setup_runtime
from mmssl.utils.cli_errors import run_cli


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('source', help='checkpoint of any supported layout')
    parser.add_argument('destination', help='mmssl checkpoint to write (.pth)')
    add_checkpoint_arguments(parser)
    args = parser.parse_args(argv)
    setup_runtime()
    path = import_checkpoint(args.source, args.destination, **checkpoint_options(args))
    meta = read_checkpoint(path).content['meta']
    print(f'wrote {path}: backbone of {meta["source_file"]} ({meta["source_format"]}, sha256 '
          f'{meta["source_sha256"][:12]}...)')
    return path


if __name__ == '__main__':
    run_cli(main)

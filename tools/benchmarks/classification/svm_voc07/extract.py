"""Extract VOC07 SVM features: ``extract.py CONFIG CHECKPOINT --out DIR [--layers feature1 ...]``.

CHECKPOINT is a full pre-training checkpoint, a backbone-only file, or ``none`` (seeded random backbone); the load
is checked and refused when the keys do not fit. Writes ``{trainval,test}_{layer}.npy`` (float32, L2-normalised
rows, memory-mappable), ``{split}_labels.npy`` (int8, 1 / -1 / 0 = difficult), ``{split}_ids.txt`` and
``meta.json`` (last). Distributed: ``dist_extract.sh CONFIG CHECKPOINT GPUS --out DIR``.
"""
import argparse
import os

from mmengine.config import DictAction

from mmssl.benchmarks.base import load_benchmark_config
from mmssl.benchmarks.cli import add_checkpoint_arguments, checkpoint_options
from mmssl.benchmarks.feature_extraction import extract_svm_features
from mmssl.utils import BackboneWeights, init_distributed, setup_runtime, teardown_distributed
from mmssl.utils.cli_errors import run_cli
from mmssl.utils.work_dir_lock import is_rank_zero, work_dir_lock

SPLITS = ('trainval', 'test')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('checkpoint', help='checkpoint, or "none" for the seeded random backbone')
    parser.add_argument('--out', required=True, help='output folder for the feature files')
    parser.add_argument('--layers', nargs='+', help='default: the config\'s layers')
    parser.add_argument('--pretrain-config', help='config that produced CHECKPOINT (recorded with the results)')
    parser.add_argument('--splits', nargs='+', default=list(SPLITS), choices=SPLITS)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--launcher', choices=['none', 'pytorch'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    add_checkpoint_arguments(parser)
    args = parser.parse_args(argv)
    setup_runtime()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    # Read and converted once, here: a missing file or an unknown layout fails before any work.
    weights = BackboneWeights.from_arg(args.checkpoint, **checkpoint_options(args))
    cfg = load_benchmark_config(args.config, args.cfg_options)
    device = init_distributed(cfg, args.launcher)
    try:
        with work_dir_lock(args.out, enabled=is_rank_zero()):
            extract_svm_features(cfg, weights, args.out, args.layers, args.splits, device, args.pretrain_config)
    finally:
        teardown_distributed()
    print(f'features written to {args.out}')


if __name__ == '__main__':
    run_cli(main)

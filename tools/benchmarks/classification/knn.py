"""kNN evaluation of a frozen backbone: ``knn.py CONFIG CHECKPOINT [--work-dir DIR]``.

CHECKPOINT is a full pre-training checkpoint, a backbone-only file, or ``none`` (random backbone); the load is
checked. The config names the labelled neighbour set (``train_dataloader``), the query set
(``val_dataloader``) and ``knn=dict(ks=(10, 20, 100, 200), temperature=0.07)``. Prints top-1 / top-5 per k and
writes ``WORK_DIR/knn.json``. Distributed extraction: ``torchrun --nproc_per_node N knn.py ... --launcher pytorch``.
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction

from mmssl.apis import run_knn
from mmssl.utils import init_distributed, register_all_modules, teardown_distributed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('checkpoint', help='checkpoint, or "none" for a randomly initialised backbone')
    parser.add_argument('--work-dir', help='default: ./work_dirs/knn/CONFIG_NAME')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--launcher', choices=['none', 'pytorch'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    register_all_modules()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    work_dir = args.work_dir or osp.join('work_dirs', 'knn', osp.splitext(osp.basename(args.config))[0])
    device = init_distributed(cfg, args.launcher)
    try:
        metrics = run_knn(cfg, None if args.checkpoint.lower() == 'none' else args.checkpoint, work_dir, device)
    finally:
        teardown_distributed()
    for name, value in metrics.items():
        print(f'{name}: {value:.2f}')
    return metrics


if __name__ == '__main__':
    main()

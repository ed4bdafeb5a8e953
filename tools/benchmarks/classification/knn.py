"""kNN evaluation of a frozen backbone: ``knn.py CONFIG CHECKPOINT [--work-dir DIR] [--pretrain-config CFG]``.

CHECKPOINT is a full pre-training checkpoint, a backbone-only file, or ``none`` (random backbone); the load is
checked. The config names the labelled neighbour set (``train_dataloader``), the query set
(``val_dataloader``) and ``knn=dict(ks=(10, 20, 100, 200), temperature=0.07)``. Prints top-1 / top-5 per k and
writes a result record (``mmssl.apis.results``, benchmark ``knn``) to ``WORK_DIR/result_knn.json``.
Distributed extraction: ``torchrun --nproc_per_node N knn.py ... --launcher pytorch``.
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.dist import is_main_process

from mmssl.apis import run_knn, write_result
from mmssl.apis.feature_extraction import RANDOM_INIT_SEED
from mmssl.utils import init_distributed, register_all_modules, teardown_distributed

RESULT_FILE = 'result_knn.json'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('checkpoint', help='checkpoint, or "none" for a randomly initialised backbone')
    parser.add_argument('--work-dir', help='default: ./work_dirs/knn/CONFIG_NAME')
    parser.add_argument('--pretrain-config', help='the config that produced CHECKPOINT (recorded in the result)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--launcher', choices=['none', 'pytorch'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    checkpoint = None if args.checkpoint.lower() == 'none' else args.checkpoint
    if checkpoint is not None and not osp.isfile(checkpoint):
        raise SystemExit(f'checkpoint {checkpoint} does not exist')
    register_all_modules()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    work_dir = args.work_dir or osp.join('work_dirs', 'knn', osp.splitext(osp.basename(args.config))[0])
    device = init_distributed(cfg, args.launcher)
    try:
        metrics = run_knn(cfg, checkpoint, work_dir, device)
        # Only rank 0 gets metrics back (the others just extracted their share of the features).
        main_process = is_main_process()
    finally:
        teardown_distributed()
    if main_process:
        knn_cfg = cfg.get('knn', {})
        write_result(
            osp.join(work_dir, RESULT_FILE),
            'knn',
            metrics,
            checkpoint=checkpoint,
            pretrain_config=args.pretrain_config,
            benchmark_config=args.config,
            # kNN itself draws nothing at random; a random backbone is drawn from a fixed seed.
            seeds=dict(cfg.get('randomness', {}), **({} if checkpoint else dict(random_init=RANDOM_INIT_SEED))),
            extra=dict(work_dir=work_dir, ks=list(knn_cfg.get('ks', (10, 20, 100, 200))),
                       temperature=knn_cfg.get('temperature', 0.07)))
        for name, value in metrics.items():
            print(f'{name}: {value:.2f}')
    return metrics


if __name__ == '__main__':
    main()

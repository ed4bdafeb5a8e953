"""Linear evaluation / fine-tuning of a pre-trained backbone with a benchmark config.

    python tools/benchmarks/classification/linear_eval.py CONFIG PRETRAIN [train options]

PRETRAIN is a full pre-training checkpoint (``backbone.*`` keys, as tools/train.py writes) or a backbone-only
file; ``none`` evaluates a randomly initialised backbone (the baseline row). The backbone load is checked:
a checkpoint that does not fit the backbone is refused before training starts. The final validation metrics
are printed and written to ``WORK_DIR/linear_eval.json``.
"""
import argparse
import json
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.utils import mkdir_or_exist

from mmssl.apis import add_train_arguments, load_train_config, train
from mmssl.utils import set_backbone_checkpoint


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='benchmark config')
    parser.add_argument('pretrain', help='pre-trained checkpoint, or "none" for a random backbone')
    args = add_train_arguments(parser).parse_args(argv)
    pretrain = None if args.pretrain.lower() == 'none' else args.pretrain
    if pretrain is not None and not osp.isfile(pretrain):
        raise SystemExit(f'pre-trained checkpoint {pretrain} does not exist')
    cfg = set_backbone_checkpoint(load_train_config(args.config, args), pretrain)
    metrics = train(cfg)
    if is_main_process():
        mkdir_or_exist(cfg.work_dir)
        with open(osp.join(cfg.work_dir, 'linear_eval.json'), 'w') as f:
            json.dump(dict(config=args.config, pretrain=args.pretrain, metrics=metrics), f, indent=2)
        for name, value in sorted(metrics.items()):
            print(f'{name}: {value:.2f}')
    return metrics


if __name__ == '__main__':
    main()

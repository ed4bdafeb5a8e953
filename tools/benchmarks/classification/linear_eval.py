"""Linear evaluation / fine-tuning of a pre-trained backbone with a benchmark config.

    python tools/benchmarks/classification/linear_eval.py CONFIG PRETRAIN [--pretrain-config CFG] [train options]

PRETRAIN is a full pre-training checkpoint (``backbone.*`` keys, as tools/train.py writes) or a backbone-only
file; ``none`` evaluates a randomly initialised backbone (the baseline row). The backbone load is checked:
a checkpoint that does not fit the backbone is refused before training starts. The final validation metrics
are printed and written as a result record (``mmssl.apis.results``, benchmark ``linear_eval``) to
``WORK_DIR/result_linear_eval.json``; ``tools/analysis_tools/gen_model_zoo.py --add-result`` puts it in the
model zoo.
"""
import argparse
import os.path as osp

from mmengine.dist import is_main_process

from mmssl.apis import add_train_arguments, load_train_config, train, write_result
from mmssl.utils import set_backbone_checkpoint

RESULT_FILE = 'result_linear_eval.json'
# Scalars the validation loop logs beside the metrics: how long it took, not how good the model is.
TIMING_KEYS = ('data_time', 'time')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='benchmark config')
    parser.add_argument('pretrain', help='pre-trained checkpoint, or "none" for a random backbone')
    parser.add_argument('--pretrain-config', help='the config that produced PRETRAIN (recorded in the result)')
    args = add_train_arguments(parser).parse_args(argv)
    pretrain = None if args.pretrain.lower() == 'none' else args.pretrain
    if pretrain is not None and not osp.isfile(pretrain):
        raise SystemExit(f'pre-trained checkpoint {pretrain} does not exist')
    cfg = set_backbone_checkpoint(load_train_config(args.config, args), pretrain)
    logged = train(cfg)
    metrics = {name: value for name, value in logged.items() if name not in TIMING_KEYS}
    if is_main_process():
        write_result(
            osp.join(cfg.work_dir, RESULT_FILE),
            'linear_eval',
            metrics,
            checkpoint=pretrain,
            pretrain_config=args.pretrain_config,
            benchmark_config=args.config,
            seeds=dict(cfg.get('randomness', {})),
            extra=dict(work_dir=cfg.work_dir, timing={k: logged[k] for k in TIMING_KEYS if k in logged}))
        for name, value in sorted(metrics.items()):
            print(f'{name}: {value:.2f}')
    return metrics


if __name__ == '__main__':
    main()

"""Run the ImageNet 1% / 10% fine-tuning grid and report the best setting (DESIGN.md §3.5).

    python tools/benchmarks/classification/semi_sup_grid.py PRETRAIN --subset 1 [--gpus 8] [--work-dir DIR]
        [--pretrain-config CFG]

Runs every grid config (backbone lr x head lr multiplier) in
``configs/benchmarks/classification/imagenet/imagenet_{subset}percent/`` through ``linear_eval.py`` (one process
per grid point, ``--gpus`` > 1 through ``linear_eval.sh``), skips points whose result record is already in the
work dir (so an interrupted grid resumes), and writes a result record (``mmssl.apis.results``, benchmark
``semi_sup``) to ``WORK_DIR/result_semi_sup.json``: the best point's top-1 / top-5 (highest top-1) as metrics,
its config as the benchmark config, and every point in ``extra``. Extra options after ``--`` go to every run
(e.g. ``-- --cfg-options ...``).
"""
import argparse
import glob
import os
import os.path as osp
import re
import subprocess
import sys

from mmssl.apis.results import read_result, write_result

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(osp.dirname(HERE)))
# Each grid point is a linear_eval.py run and leaves that tool's record; the grid's own record sits above them.
RESULT_FILE = 'result_linear_eval.json'
RESULT_FILE_GRID = 'result_semi_sup.json'
GRID_POINT = re.compile(r'_lr-(?P<lr>[0-9e.-]+)_head(?P<head>\d+)\.py$')


def grid_configs(config_dir: str, lrs=None, heads=None):
    """Grid configs in ``config_dir`` as (lr, head multiplier, path), optionally filtered."""
    points = []
    for path in sorted(glob.glob(osp.join(config_dir, '*.py'))):
        match = GRID_POINT.search(path)
        if not match:
            raise ValueError(f'{path}: not a grid config (expected a name ending in _lr-<lr>_head<mult>.py)')
        if (lrs and match['lr'] not in lrs) or (heads and match['head'] not in heads):
            continue
        points.append((match['lr'], int(match['head']), path))
    if not points:
        raise ValueError(f'no grid configs selected in {config_dir}')
    return points


def run_point(config: str, pretrain: str, work_dir: str, gpus: int, extra: list) -> dict:
    """Train one grid point unless its result record exists; return the record."""
    result_file = osp.join(work_dir, RESULT_FILE)
    if not osp.exists(result_file):
        if gpus > 1:
            cmd = ['bash', osp.join(HERE, 'linear_eval.sh'), config, pretrain, str(gpus)]
        else:
            cmd = [sys.executable, osp.join(HERE, 'linear_eval.py'), config, pretrain]
        subprocess.run(cmd + ['--work-dir', work_dir, *extra], check=True,
                       env=dict(os.environ, PYTHON=os.environ.get('PYTHON', sys.executable)))
    return read_result(result_file)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('pretrain', help='pre-trained checkpoint (full or backbone-only), or "none"')
    parser.add_argument('--subset', choices=['1', '10'], required=True, help='percentage of ImageNet labels')
    parser.add_argument('--config-dir', help='grid config folder (default: the shipped one for --subset)')
    parser.add_argument('--lrs', nargs='+', help='only these backbone lrs, as in the names (e.g. 1e-2)')
    parser.add_argument('--heads', nargs='+', help='only these head multipliers (e.g. 10 100)')
    parser.add_argument('--gpus', type=int, default=1)
    parser.add_argument('--work-dir', default=None)
    parser.add_argument('--pretrain-config', help='the config that produced PRETRAIN (recorded in the results)')
    args, extra = parser.parse_known_args(argv)
    extra = [arg for arg in extra if arg != '--']
    config_dir = args.config_dir or osp.join(REPO, 'configs', 'benchmarks', 'classification', 'imagenet',
                                             f'imagenet_{args.subset}percent')
    work_root = args.work_dir or osp.join('work_dirs', f'semi_sup_{args.subset}percent')

    point_extra = ['--pretrain-config', args.pretrain_config] if args.pretrain_config else []
    rows, seeds = [], {}
    for lr, head, config in grid_configs(config_dir, args.lrs, args.heads):
        work_dir = osp.join(work_root, osp.splitext(osp.basename(config))[0])
        record = run_point(config, args.pretrain, work_dir, args.gpus, point_extra + extra)
        metrics = record['metrics']
        rows.append(dict(config=config, lr=float(lr), head_lr_mult=head, top1=metrics['accuracy/top1'],
                         top5=metrics.get('accuracy/top5')))
        seeds[config] = record.get('seeds', {})
    best = max(rows, key=lambda row: row['top1'])
    pretrain = None if args.pretrain.lower() == 'none' else args.pretrain
    best_metrics = dict(top1=best['top1'])
    if best['top5'] is not None:
        best_metrics['top5'] = best['top5']
    write_result(
        osp.join(work_root, RESULT_FILE_GRID),
        'semi_sup',
        best_metrics,
        checkpoint=pretrain,
        pretrain_config=args.pretrain_config,
        benchmark_config=best['config'],
        seeds=seeds[best['config']],
        extra=dict(subset=f'{args.subset}%', best=best, points=rows))
    print(f'{"lr":>8} {"head x":>7} {"top-1":>7} {"top-5":>7}')
    for row in rows:
        top5 = f"{row['top5']:7.2f}" if row['top5'] is not None else '      -'
        mark = '  <- best' if row is best else ''
        print(f"{row['lr']:8g} {row['head_lr_mult']:7d} {row['top1']:7.2f} {top5}{mark}")
    return best


if __name__ == '__main__':
    main()

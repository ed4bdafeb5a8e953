"""Run the ImageNet 1% / 10% fine-tuning grid and report the best setting (DESIGN.md §3.5).

    python tools/benchmarks/classification/semi_sup_grid.py PRETRAIN --subset 1 [--gpus 8] [--work-dir DIR]

Runs every grid config (backbone lr x head lr multiplier) in
``configs/benchmarks/classification/imagenet/imagenet_{subset}percent/`` through ``linear_eval.py`` (one process
per grid point, ``--gpus`` > 1 through ``linear_eval.sh``), skips points already finished in the work dir (so
an interrupted grid resumes), and writes ``grid.json`` with every point's final top-1 / top-5 and the best one
(highest top-1). Extra options after ``--`` go to every run (e.g. ``-- --cfg-options ...``).
"""
import argparse
import glob
import json
import os
import os.path as osp
import re
import subprocess
import sys

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(osp.dirname(HERE)))
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
    result_file = osp.join(work_dir, 'linear_eval.json')
    if not osp.exists(result_file):
        if gpus > 1:
            cmd = ['bash', osp.join(HERE, 'linear_eval.sh'), config, pretrain, str(gpus)]
        else:
            cmd = [sys.executable, osp.join(HERE, 'linear_eval.py'), config, pretrain]
        subprocess.run(cmd + ['--work-dir', work_dir, *extra], check=True,
                       env=dict(os.environ, PYTHON=os.environ.get('PYTHON', sys.executable)))
    with open(result_file) as f:
        return json.load(f)['metrics']


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('pretrain', help='pre-trained checkpoint (full or backbone-only), or "none"')
    parser.add_argument('--subset', choices=['1', '10'], required=True, help='percentage of ImageNet labels')
    parser.add_argument('--config-dir', help='grid config folder (default: the shipped one for --subset)')
    parser.add_argument('--lrs', nargs='+', help='only these backbone lrs, as in the names (e.g. 1e-2)')
    parser.add_argument('--heads', nargs='+', help='only these head multipliers (e.g. 10 100)')
    parser.add_argument('--gpus', type=int, default=1)
    parser.add_argument('--work-dir', default=None)
    args, extra = parser.parse_known_args(argv)
    extra = [arg for arg in extra if arg != '--']
    config_dir = args.config_dir or osp.join(REPO, 'configs', 'benchmarks', 'classification', 'imagenet',
                                             f'imagenet_{args.subset}percent')
    work_root = args.work_dir or osp.join('work_dirs', f'semi_sup_{args.subset}percent')

    rows = []
    for lr, head, config in grid_configs(config_dir, args.lrs, args.heads):
        work_dir = osp.join(work_root, osp.splitext(osp.basename(config))[0])
        metrics = run_point(config, args.pretrain, work_dir, args.gpus, extra)
        rows.append(dict(config=config, lr=float(lr), head_lr_mult=head, top1=metrics['accuracy/top1'],
                         top5=metrics.get('accuracy/top5')))
    best = max(rows, key=lambda row: row['top1'])
    os.makedirs(work_root, exist_ok=True)
    with open(osp.join(work_root, 'grid.json'), 'w') as f:
        json.dump(dict(pretrain=args.pretrain, subset=f'{args.subset}%', points=rows, best=best), f, indent=2)
    print(f'{"lr":>8} {"head x":>7} {"top-1":>7} {"top-5":>7}')
    for row in rows:
        top5 = f"{row['top5']:7.2f}" if row['top5'] is not None else '      -'
        mark = '  <- best' if row is best else ''
        print(f"{row['lr']:8g} {row['head_lr_mult']:7d} {row['top1']:7.2f} {top5}{mark}")
    return best


if __name__ == '__main__':
    main()

"""Regenerate the model-zoo tables from the metafiles, optionally merging benchmark result records first.

    python tools/analysis_tools/gen_model_zoo.py                          # rewrite the generated docs
    python tools/analysis_tools/gen_model_zoo.py --check                  # exit 1 if a generated file is stale
    python tools/analysis_tools/gen_model_zoo.py --add-result WORK_DIR/result_linear_eval.json --model NAME
    python tools/analysis_tools/gen_model_zoo.py --compare-published      # ours beside the published numbers
    python tools/analysis_tools/gen_model_zoo.py --demo-run work_dirs/demo/benchmarks/records.json

Sources: ``model-index.yml`` -> ``configs/selfsup/<method>/metafile.yml`` (numbers measured by mmssl only) and
``published.yml`` beside each (numbers published elsewhere), and ``configs/released/`` (checkpoints released by
their authors: no mmssl pre-training config, their published numbers each with its source and the benchmark config
of its protocol). Outputs: the marked block of every method README and
``docs/en/model_zoo.md``, and the demo tables of ``docs/en/get_started.md`` from ``docs/en/demo_results.json``
(``--demo-run`` stores the records of a demo run there first, with the date and the machine). ``--add-result``
merges result records (written by the benchmarks) into model NAME's Results, rewrites that metafile in canonical
order, then regenerates the docs. The logic lives in the ``model_zoo`` package beside this tool; the tables
themselves in :mod:`mmssl.benchmarks.tables` (the mmssl package never reads or writes the repository's docs).
"""
import argparse
import datetime
import os
import os.path as osp
import platform
import sys

from model_zoo import ModelZooError, add_result, compare_published, stale_files, write_demo_results, write_generated

from mmssl.utils.cli_errors import run_cli

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def machine() -> str:
    """This machine in words: CPU model (Linux) and core count."""
    model = platform.processor() or platform.machine()
    if osp.isfile('/proc/cpuinfo'):
        with open('/proc/cpuinfo') as f:
            names = [line.split(':', 1)[1].strip() for line in f if line.startswith('model name')]
        model = names[0] if names else model
    return f'{model}, {os.cpu_count()} cores'


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--root', default=REPO, help='repository root (default: the one holding this tool)')
    parser.add_argument('--check', action='store_true', help='write nothing; exit 1 listing stale generated files')
    parser.add_argument('--add-result', metavar='RECORD', nargs='+',
                        help='result records (.json) to merge into --model, in order')
    parser.add_argument('--model', help='model name (metafile Models: Name) the record belongs to')
    parser.add_argument('--dataset', help='Dataset of the record, when its benchmark config name does not say')
    parser.add_argument('--demo-run', metavar='RECORDS',
                        help='records.json of a demo suite run (tools/demo.sh): store them as the demo results')
    parser.add_argument('--compare-published', action='store_true',
                        help='print our numbers beside the published ones (writes nothing)')
    args = parser.parse_args(argv)
    if bool(args.add_result) != bool(args.model):
        parser.error('--add-result and --model go together')
    if args.check and (args.add_result or args.demo_run):
        parser.error('--check writes nothing; it cannot be combined with --add-result or --demo-run')
    try:
        if args.compare_published:
            print(compare_published(args.root), end='')
            return 0
        if args.check:
            stale = stale_files(args.root)
            for path in stale:
                print(f'stale: {path}')
            if stale:
                print('regenerate with: python tools/analysis_tools/gen_model_zoo.py', file=sys.stderr)
                return 1
            print('model-zoo docs are up to date')
            return 0
        for record in args.add_result or ():
            metafile = add_result(args.root, record, args.model, args.dataset)
            print(f'merged {record} into {args.model} ({metafile})')
        if args.demo_run:
            about = dict(date=datetime.date.today().isoformat(), machine=machine())
            print(f'stored {args.demo_run} as {write_demo_results(args.root, args.demo_run, about)}')
        for path in write_generated(args.root):
            print(f'wrote {path}')
    except ModelZooError as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))

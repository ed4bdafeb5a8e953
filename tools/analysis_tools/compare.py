"""Compare models on their benchmark result records: ``report.md`` and a self-contained ``report.html``.

    python tools/analysis_tools/compare.py work_dirs/a/records.json work_dirs/random/ --out report
    python tools/analysis_tools/compare.py RESULTS... --out report --baseline 'byol_r18 @ epoch_200.pth' --alpha 0.01

Rows are models (the runs of several seeds of one model are one row), columns are benchmark metrics; each cell
is the mean ± 95 % confidence interval, tested against the baseline row (default: random-init) with a paired
t-test where the runs pair by seed, else Welch's t-test. The logic lives in :mod:`mmssl.benchmarks.report`.
"""
import argparse
import os
import os.path as osp
import sys

from mmssl.benchmarks.report import build_report
from mmssl.benchmarks.report.render import plot_png, render_html, render_markdown
from mmssl.utils.cli_errors import run_cli


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('records', nargs='+', help='result records, suites\' records.json or folders holding them')
    parser.add_argument('--out', required=True, help='folder to write report.md and report.html into')
    parser.add_argument('--baseline', help='the row every other row is tested against (default: random-init)')
    parser.add_argument('--alpha', type=float, default=0.05, help='mark cells whose p-value is below it')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Build the report and write its two files."""
    args = parse_args(argv)
    report = build_report(args.records, baseline=args.baseline, alpha=args.alpha)
    os.makedirs(args.out, exist_ok=True)
    markdown = render_markdown(report)
    with open(osp.join(args.out, 'report.md'), 'w') as f:
        f.write(markdown + '\n')
    with open(osp.join(args.out, 'report.html'), 'w') as f:
        f.write(render_html(report, plot_png(report)))
    print(markdown)
    print(f'wrote {osp.join(args.out, "report.md")} and {osp.join(args.out, "report.html")}')
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))

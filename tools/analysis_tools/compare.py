"""Compare models on their benchmark result records: ``report.md`` and a self-contained ``report.html``.

    python tools/analysis_tools/compare.py work_dirs/a/records.json work_dirs/random/ --out report
    python tools/analysis_tools/compare.py RESULTS... --out report --baseline 'byol_r18 @ epoch_200.pth' --alpha 0.01

Rows are models (the runs of several seeds of one model are one row), columns are benchmark metrics; each cell
is the mean ± 95 % confidence interval, tested against the baseline row (default: random-init) with a paired
t-test where the runs pair by seed, else Welch's t-test. Cells of a model-zoo model get the delta to its published
number (configs/selfsup/<method>/published.yml) where the protocol is the same; a checkpoint released elsewhere
has no pre-training config to be found by, so name its row's model (configs/released/published.yml):

    python tools/analysis_tools/compare.py work_dirs/dino_s16/ --out report \
        --released 'unknown config @ dino_deitsmall16_pretrain.pth=dino_vit-small-p16_released'

The logic lives in :mod:`mmssl.benchmarks.report`; this tool reads the published numbers (with the model-zoo tool
package beside it) and writes the files.
"""
import argparse
import os
import os.path as osp
import sys
from typing import List

from model_zoo import MODEL_INDEX, PUBLISHED_FILE, load_model_index

from mmssl.benchmarks.report import Published, build_report
from mmssl.benchmarks.report.render import plot_png, render_html, render_markdown
from mmssl.utils.cli_errors import run_cli

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def published_numbers(root: str) -> List[Published]:
    """Every published number of the model zoo under ``root`` (the ``published.yml`` files beside the metafiles),
    each with its model's pre-training config and the file and ``Source`` it comes from; none when ``root`` holds
    no model index (an installed mmssl without the repository)."""
    if not osp.isfile(osp.join(root, MODEL_INDEX)):
        print(f'{root} holds no {MODEL_INDEX}: no published numbers to compare with (give --root)')
        return []
    entries = []
    for metafile in load_model_index(root):
        configs = {model['Name']: model['Config'] for model in metafile.models}
        where = osp.join(osp.dirname(metafile.path), PUBLISHED_FILE).replace(os.sep, '/')
        source = f'{where}: {" ".join(str(metafile.published_source).split())}'
        for name, results in metafile.published.items():
            entries += [Published(name, configs[name], result['Task'], result['Dataset'], dict(result['Metrics']),
                                  source, result.get('Config')) for result in results]
    return entries


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('records', nargs='+', help='result records, suites\' records.json or folders holding them')
    parser.add_argument('--out', required=True, help='folder to write report.md and report.html into')
    parser.add_argument('--baseline', help='the row every other row is tested against (default: random-init)')
    parser.add_argument('--alpha', type=float, default=0.05, help='mark cells whose p-value is below it (%(default)s)')
    parser.add_argument('--root', default=REPO, help='repository root whose model zoo holds the published numbers '
                        '(default: the one holding this tool)')
    parser.add_argument('--no-published', action='store_true', help='no deltas to published numbers')
    parser.add_argument('--released', action='append', type=parse_released, default=[], metavar='ROW=MODEL',
                        help='row ROW evaluates the released checkpoint MODEL of the model zoo (its files are those '
                        'released: you vouch for it); its cells get deltas to MODEL\'s published numbers')
    return parser.parse_args(argv)


def parse_released(text: str):
    """``ROW=MODEL`` (the row name may itself hold '='; the model name never does)."""
    row, sep, model = text.rpartition('=')
    if not sep or not row or not model:
        raise argparse.ArgumentTypeError(f'expected ROW=MODEL, got {text!r}')
    return row, model


def main(argv=None) -> int:
    """Build the report and write its two files."""
    args = parse_args(argv)
    published = [] if args.no_published else published_numbers(args.root)
    report = build_report(args.records, baseline=args.baseline, alpha=args.alpha, published=published,
                          root=args.root, released=dict(args.released))
    os.makedirs(args.out, exist_ok=True)
    markdown = render_markdown(report)
    with open(osp.join(args.out, 'report.md'), 'w', encoding='utf-8') as f:
        f.write(markdown)
    with open(osp.join(args.out, 'report.html'), 'w', encoding='utf-8') as f:
        f.write(render_html(report, plot_png(report)))
    print(markdown)
    print(f'wrote {osp.join(args.out, "report.md")} and {osp.join(args.out, "report.html")}')
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))

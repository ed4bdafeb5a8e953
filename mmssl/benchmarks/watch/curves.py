"""The curves of a watched training: ``OUT/curves.png`` and ``OUT/curves.md`` from the records under ``OUT``.

Every step folder with a ``watch.json`` (:mod:`.results`) contributes its records' headline metrics (each
benchmark's :meth:`~mmssl.benchmarks.base.Benchmark.table_metrics`, the metrics of its model-zoo table). A metric
name holding a tap (``feature5/top1``; the SVM's ``feature3``) is drawn in the panel of the metric without the tap
(``top1``), one line per tap; every other metric (``k20``) has a panel of its own. The x axis is the step
(iteration or epoch); several runs draw one line each; the random-init baseline over its seeds is a band
(mean ± sample std; a dashed line for one seed). The table has a row per step (several runs: mean ± std over them)
and the random-init row last. The figure is drawn with matplotlib's object API (``Figure`` + ``FigureCanvasAgg``),
which leaves matplotlib's global backend alone.
"""
import glob
import os.path as osp
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from mmssl.utils.atomic_files import atomic_write_bytes, atomic_write_text
from mmssl.visualization import agg_figure, figure_png

from ..records import benchmarks_by_record, read_result
from ..tables.results import mean_std
from .results import STEP_FILE, read_step

__all__ = ['Point', 'collect_points', 'split_tap', 'curves_table', 'plot_curves', 'write_curves']

CURVES_PNG = 'curves.png'
CURVES_MD = 'curves.md'
# Names of feature taps in metric names (ResNet stages, pooled features, transformer blocks).
_TAP = re.compile(r'^(feature\d+|avgpool|layer\d+|block\d+|stage\d+|cls|patch)$')


@dataclass(frozen=True)
class Point:
    """One headline metric of one benchmarked step (``step`` and ``unit`` ``None`` for a random-init record).

    Attributes:
        run: the run's name (``'random init'`` for the baseline).
        unit, step: ``'iter'`` / ``'epoch'`` and the step.
        benchmark: the record name (``knn``, ``svm_voc07``, ...).
        metric: the metric, as its benchmark's table names it.
        value: the number.
        seed: the random-init seed of a baseline point.
    """
    run: str
    unit: Optional[str]
    step: Optional[int]
    benchmark: str
    metric: str
    value: float
    seed: Optional[int] = None


def collect_points(out_dir: str) -> List[Point]:
    """Every headline metric of every completed step under ``out_dir`` (one or two folder levels deep)."""
    known = benchmarks_by_record()
    points = []
    pattern = [osp.join(out_dir, '*', STEP_FILE), osp.join(out_dir, '*', '*', STEP_FILE)]
    for path in sorted(p for pat in pattern for p in glob.glob(pat)):
        step_dir = osp.dirname(path)
        step = read_step(step_dir)
        for relative in step['records'].values():
            record = read_result(osp.join(step_dir, relative))
            metrics = known[record['benchmark']].table_metrics(record['metrics'])
            for metric, value in metrics.items():
                points.append(Point(step['run'], step.get('unit'), step.get('step'), record['benchmark'], metric,
                                    value, step.get('random_init_seed')))
    return points


def split_tap(metric: str) -> Tuple[str, Optional[str]]:
    """``'feature5/top1'`` -> ``('top1', 'feature5')``; ``'feature3'`` -> ``('', 'feature3')``; ``'k20'`` ->
    ``('k20', None)``."""
    parts = metric.split('/')
    taps = [part for part in parts if _TAP.match(part)]
    if not taps:
        return metric, None
    return '/'.join(part for part in parts if part != taps[0]), taps[0]


def _column(point: Point) -> str:
    return f'{point.benchmark} {point.metric}'


def _cell(values: List[float]) -> str:
    if len(values) == 1:
        return f'{values[0]:.2f}'
    summary = mean_std(values)
    return f'{summary.mean:.2f} ± {summary.std:.2f} (n={summary.n})'


def curves_table(points: List[Point]) -> str:
    """The Markdown table: a row per step (several runs: mean ± std over them), a column per metric, the
    random-init row (mean ± std over its seeds) last."""
    columns = sorted({_column(point) for point in points})
    trained = [point for point in points if point.step is not None]
    units = sorted({point.unit for point in trained}) or ['iter']
    cells: Dict[tuple, Dict[str, List[float]]] = defaultdict(lambda: defaultdict(list))
    for point in trained:
        cells[(point.step,)][_column(point)].append(point.value)
    runs = sorted({point.run for point in trained})
    lines = [f'| {"/".join(units)} | ' + ' | '.join(columns) + ' |', '|' + ' --- |' * (len(columns) + 1)]
    for (step,), row in sorted(cells.items()):
        lines.append(f'| {step} | ' + ' | '.join(_cell(row[c]) if row.get(c) else '' for c in columns) + ' |')
    baseline = defaultdict(list)
    for point in points:
        if point.step is None:
            baseline[_column(point)].append(point.value)
    if baseline:
        seeds = sorted({point.seed for point in points if point.step is None})
        lines.append(f'| random init (seeds {", ".join(map(str, seeds))}) | '
                     + ' | '.join(_cell(baseline[c]) if baseline.get(c) else '' for c in columns) + ' |')
    note = f'Runs: {", ".join(runs)}.' if len(runs) > 1 else ''
    return '\n'.join(lines) + ('\n\n' + note if note else '') + '\n'


def _panels(points: List[Point]) -> Dict[tuple, List[Point]]:
    panels = defaultdict(list)
    for point in points:
        panels[(point.benchmark, split_tap(point.metric)[0])].append(point)
    return dict(sorted(panels.items()))


def _draw_panel(ax, key: tuple, points: List[Point], unit: str) -> None:
    from matplotlib.ticker import MaxNLocator
    trained = [p for p in points if p.step is not None]
    runs = sorted({p.run for p in trained})
    taps = sorted({split_tap(p.metric)[1] or '' for p in points})
    styles = ['-', '--', ':', '-.']
    for t, tap in enumerate(taps):
        for r, run in enumerate(runs):
            line = sorted((p.step, p.value) for p in trained if p.run == run and (split_tap(p.metric)[1] or '') == tap)
            if not line:
                continue
            color = f'C{t}' if len(taps) > 1 else f'C{r}'
            label = ' '.join(part for part in (run if len(runs) > 1 else '', tap) if part) or run
            ax.plot([x for x, _ in line], [y for _, y in line], marker='o', markersize=3, color=color,
                    linestyle=styles[r % len(styles)] if len(taps) > 1 else '-', label=label)
        base = [p.value for p in points if p.step is None and (split_tap(p.metric)[1] or '') == tap]
        if base:
            summary = mean_std(base)
            color = f'C{t}' if len(taps) > 1 else 'grey'
            label = f'random init{" " + tap if tap else ""} (n={summary.n})'
            ax.axhline(summary.mean, color=color, linestyle='--', linewidth=1, label=label)
            if summary.n > 1:
                ax.axhspan(summary.mean - summary.std, summary.mean + summary.std, color=color, alpha=0.15)
    ax.set_title(' '.join(part for part in key if part))
    ax.set_xlabel('iteration' if unit == 'iter' else 'epoch')
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend(fontsize='x-small')


def plot_curves(points: List[Point]) -> Optional[bytes]:
    """The PNG of the curves (one panel per metric), or ``None`` without points."""
    panels = _panels(points)
    if not panels:
        return None
    units = sorted({p.unit for p in points if p.unit})
    unit = units[0] if len(units) == 1 else 'iter'
    cols = min(3, len(panels))
    rows = (len(panels) + cols - 1) // cols
    figure = agg_figure(figsize=(4.5 * cols, 3.4 * rows))
    axes = figure.subplots(rows, cols, squeeze=False).ravel()
    for ax, (key, panel_points) in zip(axes, panels.items()):
        _draw_panel(ax, key, panel_points, unit)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    figure.tight_layout()
    return figure_png(figure, dpi=110)


def write_curves(out_dir: str) -> Dict[str, Optional[str]]:
    """Write ``OUT/curves.png`` and ``OUT/curves.md`` (atomically) from the records under ``out_dir``; returns
    their paths (``None`` for a figure without points)."""
    points = collect_points(out_dir)
    md = osp.join(out_dir, CURVES_MD)
    atomic_write_text(md, curves_table(points))
    png = plot_curves(points)
    if png is None:
        return dict(table=md, figure=None)
    atomic_write_bytes(osp.join(out_dir, CURVES_PNG), png)
    return dict(table=md, figure=osp.join(out_dir, CURVES_PNG))

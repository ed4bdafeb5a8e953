"""Render a :class:`~mmssl.benchmarks.report.Report` as Markdown and as a self-contained HTML page, both from the
Jinja2 templates of :mod:`.templates` (the plot embedded as a base64 PNG data URI, so the page needs no network)."""
import base64
from typing import Dict, List, Optional, Tuple

import jinja2

from mmssl.visualization import agg_figure, figure_png

from . import Report
from .published import Delta
from .stats import PAIRED, Cell, Test
from .templates import HTML, MARKDOWN

#: The mark of a cell whose test against the baseline gives p < alpha.
MARK = '*'

LEGEND = ('Each cell: mean ± half-width of the 95 % confidence interval of the mean over the runs (seeds) of a '
          'model, t.ppf(0.975, n-1) · s/√n (t distribution, s the sample standard deviation); "n=1, no interval": '
          'a single run says nothing about the noise. Each cell of a row other than the baseline is tested '
          'against the baseline\'s cell of its column: a paired t-test where both rows\' runs pair by seed (the '
          'same seeds, each once), else Welch\'s t-test; its p-value follows, and {mark} marks p < {alpha}: the '
          'difference exceeds the noise of the runs (no mark: these runs cannot tell, not "equal"). '
          'Δ: the cell\'s mean minus a published number of the same protocol [P…]. C…: the protocol card of the '
          'number.')


def format_cell(cell: Cell) -> str:
    """``mean ± half-width (n=k)``, or ``mean (n=1, no interval)``."""
    if cell.half_width is None:
        return f'{cell.mean:.2f} (n=1, no interval)'
    return f'{cell.mean:.2f} ± {cell.half_width:.2f} (n={cell.n})'


def _test_texts(test: Test, note: str, alpha: float) -> Tuple[str, str]:
    """The cell's short text of a test and the footnote's."""
    if test.p is None:
        return f'{test.reason} [{note}]', test.reason
    short = 'paired' if test.kind == PAIRED else 'Welch'
    scipy = 'scipy.stats.ttest_rel' if test.kind == PAIRED else 'scipy.stats.ttest_ind(equal_var=False)'
    verdict = (f'p < {alpha}: the difference exceeds the noise' if test.significant(alpha) else
               f'p ≥ {alpha}: not distinguishable from the noise of these runs')
    mark = MARK if test.significant(alpha) else ''
    return f'p = {test.p:.3g}, {short}{mark} [{note}]', f'{test.kind} ({scipy}), p = {test.p:.4g}; {verdict}'


def _sources(report: Report) -> Dict[tuple, dict]:
    """One footnote per published entry that gives a delta, numbered in table order."""
    sources: Dict[tuple, dict] = {}
    for delta in report.published.values():
        if isinstance(delta, Delta):
            entry = delta.entry
            key = (entry.model, entry.task, entry.dataset, entry.source)
            sources.setdefault(key, dict(id=f'P{len(sources) + 1}', model=entry.model, task=entry.task,
                                         dataset=entry.dataset, source=entry.source))
    return sources


def _delta_text(delta: Delta, source_id: str) -> str:
    return f'Δ {delta.value:+.2f} vs published {delta.published:.2f} ({delta.metric}) [{source_id}]'


def _source_id(sources: Dict[tuple, dict], delta: Delta) -> str:
    entry = delta.entry
    return sources[entry.model, entry.task, entry.dataset, entry.source]['id']


def _grid(report: Report, card_ids: Dict[tuple, str], sources: Dict[tuple, dict]) -> Tuple[List[dict], List[dict]]:
    """Rows of cell views (value, test, delta, card) and the tests' footnotes."""
    notes, grid = [], []
    for row in report.rows:
        cells = []
        for column in report.columns:
            cell = report.cells.get((row, column.name))
            if cell is None:
                cells.append(dict(value='-', test='', delta='', card='', sig=False, markdown='-'))
                continue
            view = dict(value=format_cell(cell), test='', delta='', card=card_ids[row, column.benchmark], sig=False)
            test = report.tests.get((row, column.name))
            if test is not None:
                note = f'T{len(notes) + 1}'
                view['test'], text = _test_texts(test, note, report.alpha)
                view['sig'] = test.significant(report.alpha)
                notes.append(dict(id=note, text=f'{row} vs {report.baseline}, {column.name}: {text}'))
            delta = report.published.get((row, column.name))
            if isinstance(delta, Delta):
                view['delta'] = _delta_text(delta, _source_id(sources, delta))
            view['markdown'] = '; '.join(part for part in (view['value'], view['test'], view['delta'], view['card'])
                                         if part)
            cells.append(view)
        grid.append(dict(name=row, cells=cells))
    return grid, notes


def _card_views(report: Report, card_ids: Dict[tuple, str], sources: Dict[tuple, dict]) -> List[dict]:
    """The protocol cards with their ids and, per metric, the delta's source or why there is no delta (metrics of
    one reason grouped)."""
    views = []
    for key, card in report.cards.items():
        row, benchmark = key
        lines, reasons = [], {}
        for column in (column for column in report.columns if column.benchmark == benchmark):
            found = report.published.get((row, column.name))
            if isinstance(found, Delta):
                lines.append(f'{column.name}: {_delta_text(found, _source_id(sources, found))}, '
                             f'{found.entry.model}')
            elif found is not None:
                reasons.setdefault(found, []).append(column.name)
        lines += [f'{", ".join(names)}: no delta, {reason}' for reason, names in reasons.items()]
        views.append(dict(card, id=card_ids[key], published=lines))
    return views


def _context(report: Report, plot: Optional[bytes]) -> dict:
    card_ids = {key: f'C{index}' for index, key in enumerate(report.cards, 1)}
    sources = _sources(report)
    grid, tests = _grid(report, card_ids, sources)
    no_tests = ('no baseline row (give --baseline ROW)' if report.baseline is None else
                f'{report.baseline} is the only row')
    return dict(legend=LEGEND.format(mark=MARK, alpha=report.alpha), baseline=report.baseline, alpha=report.alpha,
                columns=[column.name for column in report.columns], grid=grid, tests=tests, no_tests=no_tests,
                sources=list(sources.values()), cards=_card_views(report, card_ids, sources),
                plot=base64.b64encode(plot).decode('ascii') if plot else None)


def _markdown_cell(text) -> str:
    """Text that stays inside one Markdown table cell."""
    return str(text).replace('|', '\\|').replace('\n', ' ')


def render_markdown(report: Report) -> str:
    """The report as Markdown: legend, table, test footnotes, published sources, protocol cards."""
    env = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters['cell'] = _markdown_cell
    return env.from_string(MARKDOWN).render(**_context(report, None))


def render_html(report: Report, plot: Optional[bytes] = None) -> str:
    """The report as one HTML page; ``plot`` (PNG bytes) is embedded as a data URI."""
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(HTML).render(**_context(report, plot))


def plot_png(report: Report) -> Optional[bytes]:
    """One panel per column: mean and 95 % interval of every row, as PNG bytes (``None`` without columns)."""
    if not report.columns:
        return None
    fig = agg_figure(figsize=(3.5 * len(report.columns), 3.5))
    axes = fig.subplots(1, len(report.columns), squeeze=False)
    for ax, column in zip(axes[0], report.columns):
        rows = [row for row in report.rows if (row, column.name) in report.cells]
        cells = [report.cells[row, column.name] for row in rows]
        ax.errorbar(range(len(rows)), [c.mean for c in cells], yerr=[c.half_width or 0 for c in cells], fmt='o',
                    capsize=4)
        ax.set_xticks(range(len(rows)), rows, rotation=30, ha='right', fontsize=7)
        ax.set_title(column.name, fontsize=8)
    fig.tight_layout()
    return figure_png(fig, dpi=80)

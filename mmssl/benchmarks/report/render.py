"""Render a :class:`~mmssl.benchmarks.report.Report` as Markdown and as a self-contained HTML page (jinja2; the
plot embedded as a base64 PNG data URI, so the page needs no network)."""
import base64
import io
from typing import Dict, List, Optional, Tuple

import jinja2

from . import Report
from .stats import Cell

MARK = '*'

LEGEND = ('Each cell: mean ± half-width of the 95 % confidence interval of the mean (t distribution) over the '
          'runs (seeds) of a model; n = 1: a single run, no interval. [k] refers to the footnote of the cell\'s '
          'test against the baseline row: a paired t-test where both rows\' runs pair by seed (the same seeds), '
          'else Welch\'s t-test. {mark} marks p < {alpha}: the difference exceeds the noise of the runs.')

HTML_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>mmssl comparison report</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #999;padding:.3em .6em;text-align:right}th{background:#eee}.sig{font-weight:bold}</style>
</head><body>
<h1>Comparison report</h1>
<p>{{ legend }}</p>
<p>Baseline: {{ baseline or 'none (no tests)' }}</p>
<table><tr><th>model</th>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr>
{% for row in table %}<tr><th>{{ row.name }}</th>
{% for cell in row.cells %}<td{% if cell.sig %} class="sig"{% endif %}>{{ cell.text }}</td>{% endfor %}</tr>
{% endfor %}</table>
<h2>Tests</h2><ol>{% for note in notes %}<li>{{ note }}</li>{% endfor %}</ol>
{% if plot %}<h2>Plot</h2>
<img alt="mean and 95 % interval per model and metric" src="data:image/png;base64,{{ plot }}">{% endif %}
<h2>Protocol cards</h2>
{% for name, card in cards %}<h3>{{ name }}</h3><ul>
<li>benchmark: {{ card.benchmark }}</li><li>benchmark config: {{ card.benchmark_config }}</li>
<li>dataset: {{ card.dataset }}</li><li>selection rule: {{ card.selection }}</li>
<li>mmssl version: {{ card.mmssl | join(', ') }}</li>
{% for row, info in card.rows.items() %}
<li>{{ row }}: seeds {{ info.seeds | join(', ') }}; checkpoint sha256 {{ info.sha256 | join(', ') }}</li>
{% endfor %}
</ul>{% endfor %}
</body></html>
"""


def format_cell(cell: Cell) -> str:
    """``mean ± half-width (n=k)``, or ``mean (n=1, no interval)``."""
    if cell.half_width is None:
        return f'{cell.mean:.2f} (n=1, no interval)'
    return f'{cell.mean:.2f} ± {cell.half_width:.2f} (n={cell.n})'


def _grid(report: Report) -> Tuple[List[dict], List[str]]:
    """Rows of cell texts with footnote numbers and marks, and the footnotes."""
    notes, grid = [], []
    for row in report.rows:
        cells = []
        for column in report.columns:
            cell = report.cells.get((row, column.name))
            if cell is None:
                cells.append(dict(text='-', sig=False))
                continue
            text, test = format_cell(cell), report.tests.get((row, column.name))
            sig = test is not None and test.significant(report.alpha)
            if test is not None:
                detail = f'{test.kind}, p = {test.p:.3g}' if test.p is not None else test.reason
                notes.append(f'{row} vs {report.baseline}, {column.name}: {detail}'
                             f'{" (p < " + str(report.alpha) + ")" if sig else ""}')
                text += f' [{len(notes)}]{MARK if sig else ""}'
            cells.append(dict(text=text, sig=sig))
        grid.append(dict(name=row, cells=cells))
    return grid, notes


def _card_lines(name: str, card: dict) -> List[str]:
    lines = [f'### {name}', '', f'- benchmark: {card["benchmark"]}', f'- benchmark config: {card["benchmark_config"]}',
             f'- dataset: {card["dataset"]}', f'- selection rule: {card["selection"]}',
             f'- mmssl version: {", ".join(card["mmssl"])}']
    lines += [f'- {row}: seeds {", ".join(info["seeds"])}; checkpoint sha256 {", ".join(info["sha256"])}'
              for row, info in card['rows'].items()]
    return lines + ['']


def render_markdown(report: Report) -> str:
    """The report as Markdown: legend, table, test footnotes, protocol cards."""
    grid, notes = _grid(report)
    names = [column.name for column in report.columns]
    lines = ['# Comparison report', '', LEGEND.format(mark=MARK, alpha=report.alpha), '',
             f'Baseline: {report.baseline or "none (no tests)"}', '', '| model | ' + ' | '.join(names) + ' |',
             '|---|' + '---|' * len(names)]
    lines += ['| ' + row['name'] + ' | ' + ' | '.join(c['text'] for c in row['cells']) + ' |' for row in grid]
    lines += ['', '## Tests', ''] + [f'{i}. {note}' for i, note in enumerate(notes, 1)] + ['', '## Protocol cards', '']
    for name, card in report.cards.items():
        lines += _card_lines(name, card)
    return '\n'.join(lines)


def plot_png(report: Report) -> Optional[bytes]:
    """One panel per column: mean and 95 % interval of every row, as PNG bytes (``None`` without columns)."""
    if not report.columns:
        return None
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(report.columns), figsize=(3.5 * len(report.columns), 3.5), squeeze=False)
    for ax, column in zip(axes[0], report.columns):
        rows = [row for row in report.rows if (row, column.name) in report.cells]
        cells = [report.cells[row, column.name] for row in rows]
        ax.errorbar(range(len(rows)), [c.mean for c in cells], yerr=[c.half_width or 0 for c in cells], fmt='o',
                    capsize=4)
        ax.set_xticks(range(len(rows)), rows, rotation=30, ha='right', fontsize=7)
        ax.set_title(column.name, fontsize=8)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format='png', dpi=80)
    plt.close(fig)
    return buffer.getvalue()


def render_html(report: Report, plot: Optional[bytes] = None) -> str:
    """The report as one HTML page; ``plot`` (PNG bytes) is embedded as a data URI."""
    grid, notes = _grid(report)
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    cards: Dict[str, dict] = report.cards
    return env.from_string(HTML_TEMPLATE).render(
        legend=LEGEND.format(mark=MARK, alpha=report.alpha), baseline=report.baseline,
        columns=[column.name for column in report.columns], table=grid, notes=notes, cards=list(cards.items()),
        plot=base64.b64encode(plot).decode('ascii') if plot else None)

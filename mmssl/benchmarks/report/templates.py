"""The Jinja2 templates of the comparison report: Markdown and a self-contained HTML page (inline style, the plot
as a data URI: nothing is fetched when the page is viewed). Both take the context :mod:`.render` builds."""

MARKDOWN = """# Comparison report

{{ legend }}

Baseline: {{ baseline or 'none (no tests)' }}; alpha = {{ alpha }}.

| model |{% for name in columns %} {{ name | cell }} |{% endfor %}
|---|{% for name in columns %}---|{% endfor %}
{% for row in grid %}| {{ row.name | cell }} |{% for c in row.cells %} {{ c.markdown | cell }} |{% endfor %}
{% endfor %}
## Tests against the baseline

{% for note in tests %}- {{ note.id }}: {{ note.text }}
{% else %}No tests: {{ no_tests }}
{% endfor %}
## Published numbers

{% for source in sources %}- {{ source.id }}: {{ source.model }} ({{ source.task }}, {{ source.dataset }}): \
{{ source.source }}
{% else %}No delta: no cell has a published number of the same protocol (each card says why).
{% endfor %}
## Protocol cards

{% for card in cards %}### {{ card.id }}: {{ card.row }}, {{ card.benchmark }}

- benchmark: {{ card.benchmark }}
- benchmark config: {{ card.benchmark_config }}
- data set: {{ card.dataset }}
- --cfg-options: {{ card.cfg_options or 'none' }}
- selection rule: {{ card.selection }}
{% for run in card.runs %}- run {{ loop.index }}: seeds {{ run.seeds }}; checkpoint sha256 {{ run.sha256 }}; \
mmssl {{ run.mmssl }}; {{ run.source }}
{% endfor %}{% for line in card.published %}- published: {{ line }}
{% endfor %}
{% endfor %}"""

HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>mmssl comparison report</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #999;padding:.3em .6em;text-align:right;vertical-align:top}th{background:#eee}
.sig{font-weight:bold;background:#e8f4e8}.detail{font-size:80%;color:#444}</style>
</head><body>
<h1>Comparison report</h1>
<p>{{ legend }}</p>
<p>Baseline: {{ baseline or 'none (no tests)' }}; alpha = {{ alpha }}.</p>
<table><tr><th>model</th>{% for name in columns %}<th>{{ name }}</th>{% endfor %}</tr>
{% for row in grid %}<tr><th>{{ row.name }}</th>{% for c in row.cells %}\
<td{% if c.sig %} class="sig"{% endif %}>{{ c.value }}{% if c.test %}<br><span class="detail">{{ c.test }}\
</span>{% endif %}{% if c.delta %}<br><span class="detail">{{ c.delta }}</span>{% endif %}\
{% if c.card %}<br><a class="detail" href="#{{ c.card }}">{{ c.card }}</a>{% endif %}</td>{% endfor %}</tr>
{% endfor %}</table>
<h2>Tests against the baseline</h2>
{% if tests %}<ol>{% for note in tests %}<li id="{{ note.id }}">{{ note.id }}: {{ note.text }}</li>{% endfor %}</ol>\
{% else %}<p>No tests: {{ no_tests }}</p>{% endif %}
<h2>Published numbers</h2>
{% if sources %}<ol>{% for source in sources %}<li id="{{ source.id }}">{{ source.id }}: {{ source.model }} \
({{ source.task }}, {{ source.dataset }}): {{ source.source }}</li>{% endfor %}</ol>\
{% else %}<p>No delta: no cell has a published number of the same protocol (each card says why).</p>{% endif %}
{% if plot %}<h2>Plot</h2>
<img alt="mean and 95 % interval per model and metric" src="data:image/png;base64,{{ plot }}">{% endif %}
<h2>Protocol cards</h2>
{% for card in cards %}<h3 id="{{ card.id }}">{{ card.id }}: {{ card.row }}, {{ card.benchmark }}</h3><ul>
<li>benchmark: {{ card.benchmark }}</li><li>benchmark config: {{ card.benchmark_config }}</li>
<li>data set: {{ card.dataset }}</li><li>--cfg-options: {{ card.cfg_options or 'none' }}</li>
<li>selection rule: {{ card.selection }}</li>
{% for run in card.runs %}<li>run {{ loop.index }}: seeds {{ run.seeds }}; checkpoint sha256 {{ run.sha256 }}; \
mmssl {{ run.mmssl }}; {{ run.source }}</li>
{% endfor %}{% for line in card.published %}<li>published: {{ line }}</li>
{% endfor %}</ul>
{% endfor %}</body></html>
"""

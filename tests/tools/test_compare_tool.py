import json
from html.parser import HTMLParser

import pytest
from builders.result_records import A_TOP1, RANDOM_TOP1, write_runs

from mmssl.benchmarks.records import read_result

TOOL = 'analysis_tools/compare.py'


class Collector(HTMLParser):
    """Every tag with its attributes, and whether every opened tag was closed."""

    VOID = {'meta', 'img', 'br', 'hr', 'link', 'input'}

    def __init__(self):
        super().__init__()
        self.tags, self.open = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open.pop() == tag, f'</{tag}> closes nothing open'


@pytest.fixture
def records(tmp_path):
    """Model A as a suite's records.json (its result files beside it are the same records), random-init as files."""
    paths = write_runs(tmp_path, 'a', A_TOP1)
    suite = dict(rows={'a': {'knn': [read_result(str(path)) for path in paths]}}, pretrain_config=None)
    (tmp_path / 'a' / 'records.json').write_text(json.dumps(suite))
    write_runs(tmp_path, 'random', RANDOM_TOP1, checkpoint=False)
    return tmp_path


def test_writes_markdown_and_a_self_contained_html_page(run_tool, records, tmp_path, capsys):
    out = tmp_path / 'report'
    assert run_tool(TOOL, records / 'a', records / 'random', '--out', out) == 0
    markdown = (out / 'report.md').read_text()
    assert 'paired t-test' in markdown and ' ± ' in markdown and '(n=3)' in markdown
    # the suite's records.json stands for the result files below it: three runs, not six
    assert '(n=6)' not in markdown
    html = (out / 'report.html').read_text()
    parser = Collector()
    parser.feed(html)
    parser.close()
    assert parser.open == []
    images = [attrs['src'] for tag, attrs in parser.tags if tag == 'img']
    assert images and all(src.startswith('data:image/png;base64,') for src in images)
    assert 'http://' not in html and 'https://' not in html
    assert 'class="sig"' in html
    assert 'report.html' in capsys.readouterr().out


def test_bad_input_is_one_error_line_naming_the_file(run_tool, tmp_path):
    write_runs(tmp_path, 'a', A_TOP1)
    odd = write_runs(tmp_path, 'random', RANDOM_TOP1, checkpoint=False, dataset='Places205')
    result = run_tool(TOOL, tmp_path, '--out', tmp_path / 'report', process=True, expect_ok=False)
    assert result.returncode == 2
    assert result.stderr.startswith('error: ') and str(odd[0]) in result.stderr
    assert not (tmp_path / 'report').exists()

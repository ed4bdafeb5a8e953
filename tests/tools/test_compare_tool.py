import base64
import json
from html.parser import HTMLParser

import pytest
from builders.result_records import A_TOP1, RANDOM_TOP1, ZOO_KNN, ZOO_MODEL, ZOO_PRETRAIN, write_runs

from mmssl.benchmarks.records import read_result

TOOL = 'analysis_tools/compare.py'
PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'


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


def test_writes_markdown_and_a_self_contained_html_page(run_tool, model_zoo, records, tmp_path, capsys):
    out = tmp_path / 'report'
    assert run_tool(TOOL, records / 'a', records / 'random', '--out', out, '--no-published') == 0
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
    prefix = 'data:image/png;base64,'
    assert images and all(src.startswith(prefix) for src in images)
    assert all(base64.b64decode(src[len(prefix):], validate=True).startswith(PNG_SIGNATURE) for src in images)
    # nothing is fetched at view time: no external resource of any kind
    assert all(not value.startswith(('http', '//')) for _, attrs in parser.tags for value in attrs.values() if value)
    assert 'http://' not in html and 'https://' not in html
    # the significant cells are marked; every cell links its protocol card, which exists
    assert 'class="sig"' in html and 'p = ' in html
    links = {attrs['href'][1:] for tag, attrs in parser.tags if tag == 'a'}
    ids = {attrs['id'] for _, attrs in parser.tags if 'id' in attrs}
    assert links and links <= ids
    assert 'report.html' in capsys.readouterr().out


def test_deltas_to_the_repositorys_published_numbers_of_the_same_protocol(run_tool, model_zoo, tmp_path, repo_root):
    runs = dict(metric='k20/top1', dataset='ImageNet-1k', config=ZOO_KNN, pretrain_config=ZOO_PRETRAIN)
    write_runs(tmp_path, 'zoo', [16.0, 15.5, 16.5], **runs)
    write_runs(tmp_path, 'other', [16.0, 15.5, 16.5], **dict(runs, extra=dict(cfg_options={'knn.temperature': 0.1})))
    for name in ('zoo', 'other'):
        assert run_tool(TOOL, tmp_path / name, '--out', tmp_path / f'report_{name}') == 0
    markdown = (tmp_path / 'report_zoo' / 'report.md').read_text()
    # configs/selfsup/relative_loc/published.yml: kNN k20 on ImageNet-1k is 15.0
    row = next(line for line in markdown.splitlines() if line.startswith(f'| {ZOO_MODEL} '))
    assert 'Δ +1.00 vs published 15.00 (k20) [P1]' in row
    assert 'configs/selfsup/relative_loc/published.yml: OpenMMLab' in markdown
    other = (tmp_path / 'report_other' / 'report.md').read_text()
    assert 'Δ +' not in other and 'no delta, the runs changed the benchmark config with --cfg-options' in other
    # a root without a model index (an installed mmssl) has no published numbers: the report is still written
    assert run_tool(TOOL, tmp_path / 'zoo', '--out', tmp_path / 'report_bare', '--root', tmp_path) == 0
    assert 'no delta, no published numbers given' in (tmp_path / 'report_bare' / 'report.md').read_text()


def test_a_released_checkpoint_named_for_its_row_gets_deltas_to_its_published_numbers(run_tool, model_zoo, tmp_path):
    knn = 'configs/benchmarks/classification/knn/vit-small-p16_knn_in1k.py'
    write_runs(tmp_path, 'dino', [74.0, 74.5, 75.0], metric='k20/top1', dataset='ImageNet-1k', config=knn,
               pretrain_config=None)
    row = 'unknown config @ epoch_10.pth'  # a released file has no pre-training config
    assert run_tool(TOOL, tmp_path / 'dino', '--out', tmp_path / 'plain') == 0
    assert 'the runs name no single pre-training config' in (tmp_path / 'plain' / 'report.md').read_text()
    assert run_tool(TOOL, tmp_path / 'dino', '--out', tmp_path / 'named', '--released',
                    f'{row}=dino_vit-small-p16_released') == 0
    markdown = (tmp_path / 'named' / 'report.md').read_text()
    # configs/released/published.yml: DINO ViT-S/16 kNN 74.5 (stored as k20) with this benchmark config
    assert 'Δ +0.00 vs published 74.50 (k20) [P1]' in next(line for line in markdown.splitlines()
                                                           if line.startswith(f'| {row} '))
    assert 'configs/released/published.yml' in markdown
    with pytest.raises(ValueError, match="'relative-loc_resnet50_8xb64-steplr-70e_in1k' is no released checkpoint"):
        run_tool(TOOL, tmp_path / 'dino', '--out', tmp_path / 'bad', '--released',
                 f'{row}=relative-loc_resnet50_8xb64-steplr-70e_in1k')
    with pytest.raises(ValueError, match="'nope' is not a row of the records"):
        run_tool(TOOL, tmp_path / 'dino', '--out', tmp_path / 'bad', '--released', 'nope=dino_vit-small-p16_released')


def test_bad_input_is_one_error_line_naming_the_file(run_tool, tmp_path):
    write_runs(tmp_path, 'a', A_TOP1)
    odd = write_runs(tmp_path, 'random', RANDOM_TOP1, checkpoint=False, dataset='Places205')
    result = run_tool(TOOL, tmp_path, '--out', tmp_path / 'report', process=True, expect_ok=False)
    assert result.returncode == 2
    assert result.stderr.startswith('error: ') and str(odd[0]) in result.stderr
    assert not (tmp_path / 'report').exists()

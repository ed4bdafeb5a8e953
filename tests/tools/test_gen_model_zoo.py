"""tools/analysis_tools/gen_model_zoo.py: committed docs current, stable output, --check, --add-result, errors."""
import json
import subprocess
import sys

import pytest
import yaml

from mmssl.benchmarks.records import write_result

TOOL = 'analysis_tools/gen_model_zoo.py'
RELLOC = 'configs/selfsup/relative_loc'
DEMO_MODEL = 'relative-loc_resnet18_1xb32-300it_fmnist-demo'
DEMO_CONFIG = f'{RELLOC}/{DEMO_MODEL}.py'
MHEAD_DEMO = 'configs/benchmarks/classification/fashion_mnist/resnet18_mhead_1xb64-steplr-4e_fmnist-demo.py'
KNN_DEMO = 'configs/benchmarks/classification/fashion_mnist/resnet18_knn_fmnist-demo.py'
GENERATED = (f'{RELLOC}/README.md', 'configs/selfsup/npid/README.md', 'docs/en/model_zoo.md')


def snapshot(root):
    return {path: (root / path).read_bytes() for path in GENERATED + (f'{RELLOC}/metafile.yml', )}


@pytest.fixture
def gen(run_tool, model_zoo):
    """``gen(root, *args)``: gen_model_zoo.py on the repository copy ``root``, in this process; its exit status.

    ``model_zoo`` makes the package beside the tool importable, as running the script does.
    """

    def run(root, *args):
        return run_tool(TOOL, '--root', root, *args)

    return run


def test_committed_docs_match_the_committed_metafiles(repo_root):
    """The stale-docs test: run the tool after editing a metafile, README block or generator."""
    result = subprocess.run([sys.executable, repo_root / 'tools' / TOOL, '--check'], cwd=repo_root,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'up to date' in result.stdout


def test_regenerating_changes_nothing_and_a_second_run_is_byte_identical(repo, capsys, gen):
    before = snapshot(repo)
    assert gen(repo) == 0
    assert capsys.readouterr().out == ''  # nothing written: the copy was current
    assert snapshot(repo) == before
    (repo / 'docs/en/model_zoo.md').unlink()
    (repo / f'{RELLOC}/README.md').write_text(
        (repo / f'{RELLOC}/README.md').read_text().replace('| 74.27 |', '| 99.99 |'))
    assert gen(repo) == 0
    first = snapshot(repo)
    assert first == before
    assert gen(repo) == 0
    assert snapshot(repo) == first


def test_a_changed_result_makes_check_fail_until_regenerated(repo, capsys, gen):
    metafile = repo / RELLOC / 'metafile.yml'
    metafile.write_text(metafile.read_text().replace('feature1: 74.27', 'feature1: 75.2'))
    assert gen(repo, '--check') == 1
    out = capsys.readouterr().out
    assert f'stale: {RELLOC}/README.md' in out and 'stale: docs/en/model_zoo.md' in out
    assert 'npid' not in out
    assert gen(repo) == 0
    assert '| 75.20 | 80.53 |' in (repo / RELLOC / 'README.md').read_text()
    assert '| 75.20 | 80.53 |' in (repo / 'docs/en/model_zoo.md').read_text()
    assert gen(repo, '--check') == 0


def test_add_result_merges_a_record_into_the_metafile_and_the_tables(repo, tmp_path, capsys, gen, model_zoo):
    checkpoint = tmp_path / 'iter_300.pth'
    checkpoint.write_bytes(b'weights')
    heads = ['feature1', 'feature2', 'feature3', 'feature4', 'feature5', 'avgpool']
    metrics = {f'accuracy/{head}/top{k}': 70.0 + i + k / 100 + 1e-6 for i, head in enumerate(heads) for k in (1, 5)}
    linear = write_result(str(tmp_path / 'result_linear_eval.json'), 'linear_eval', metrics,
                          checkpoint=str(checkpoint), pretrain_config=DEMO_CONFIG,
                          benchmark_config=str(repo / MHEAD_DEMO))  # absolute: stored relative
    knn_metrics = {'k10/top1': 81.234, 'k10/top5': 99.0, 'k200/top1': 79.5}
    knn = write_result(str(tmp_path / 'result_knn.json'), 'knn', knn_metrics, checkpoint=str(checkpoint),
                       benchmark_config=KNN_DEMO)
    assert linear['benchmark'] == 'linear_eval' and knn['benchmark'] == 'knn'

    assert gen(repo, '--add-result', tmp_path / 'result_linear_eval.json', '--model', DEMO_MODEL) == 0
    assert gen(repo, '--add-result', tmp_path / 'result_knn.json', '--model', DEMO_MODEL) == 0
    assert f'merged {tmp_path / "result_knn.json"} into {DEMO_MODEL}' in capsys.readouterr().out

    path = repo / RELLOC / 'metafile.yml'
    model = next(m for m in yaml.safe_load(path.read_text())['Models'] if m['Name'] == DEMO_MODEL)
    # Same (Task, Dataset, Config) as the hand-entered demo result: merged into it, not added beside it.
    results = [r for r in model['Results'] if r['Task'] in ('Linear Evaluation', 'kNN')]
    assert results == [
        dict(Task='Linear Evaluation', Dataset='Fashion-MNIST',
             Metrics=dict(feature1=70.01, feature2=71.01, feature3=72.01, feature4=73.01, feature5=74.01,
                          avgpool_joint=75.01), Config=MHEAD_DEMO),
        dict(Task='kNN', Dataset='Fashion-MNIST', Metrics=dict(k10=81.23, k200=79.5), Config=KNN_DEMO)]
    # Written back canonically.
    assert model_zoo.dump_metafile(model_zoo.load_metafile(str(path), str(repo))) == path.read_text()
    readme = (repo / RELLOC / 'README.md').read_text()
    assert '| 70.01 | 71.01 | 72.01 | 73.01 | 74.01 | – | 75.01 |' in readme  # joint avgpool head: own column
    assert '| 81.23 | – | – | 79.50 | [resnet18_knn_fmnist-demo]' in readme
    assert gen(repo, '--check') == 0
    # Merging the same record again changes nothing.
    before = snapshot(repo)
    assert gen(repo, '--add-result', tmp_path / 'result_knn.json', '--model', DEMO_MODEL) == 0
    assert snapshot(repo) == before


def test_semi_supervised_record_of_a_full_scale_model_fills_its_subset_row(repo, tmp_path, gen):
    checkpoint = tmp_path / 'epoch_70.pth'
    checkpoint.write_bytes(b'weights')
    config = ('configs/benchmarks/classification/imagenet/imagenet_1percent/'
              'resnet50_8xb32-steplr-20e_in1k-1pct_lr-1e-2_head100.py')
    write_result(str(tmp_path / 'result_semi_sup.json'), 'semi_sup', {'top1': 12.5, 'top5': 30.25},
                 checkpoint=str(checkpoint), benchmark_config=config, extra=dict(subset='1%'))
    name = 'relative-loc_resnet50_8xb64-steplr-70e_in1k'
    assert gen(repo, '--add-result', tmp_path / 'result_semi_sup.json', '--model', name) == 0
    lines = (repo / 'docs/en/model_zoo.md').read_text().splitlines()
    rows = [line for line in lines if line.startswith(f'| [{name}]') and ('| 1% |' in line or '| 10% |' in line)]
    assert rows[0].split(' | ')[1:4] == ['1%', '12.50', '30.25'] and 'head100.py)' in rows[0]
    assert rows[1].split(' | ')[1:] == ['10%', '–', '–', '– |']


def write_record(tmp_path, benchmark='knn', checkpoint=True, **kwargs):
    path = tmp_path / f'result_{benchmark}.json'
    ckpt = None
    if checkpoint:
        ckpt = tmp_path / 'ckpt.pth'
        ckpt.write_bytes(b'x')
    write_result(str(path), benchmark, {'k10/top1': 50.0}, checkpoint=ckpt and str(ckpt),
                 benchmark_config=KNN_DEMO, **kwargs)
    return path


@pytest.mark.parametrize('case,message', [
    ('unknown model', "model-index.yml: unknown model 'relative-loc_r18'"),
    ('unknown benchmark', "unknown benchmark 'svm_imagenet'"),
    ('malformed metafile', f'{RELLOC}/metafile.yml: not valid YAML'),
    ('random backbone record', 'the record evaluates a random backbone but the model is pre-trained'),
    ('other pre-training config', 'the record\'s checkpoint comes from configs/selfsup/npid/'),
    ('missing record', 'result_missing.json'),
])
def test_bad_input_gives_a_clear_error_naming_the_file_or_key(repo, tmp_path, capsys, gen, case, message):
    model = DEMO_MODEL
    record = write_record(tmp_path)
    if case == 'unknown model':
        model = 'relative-loc_r18'
    elif case == 'unknown benchmark':
        text = record.read_text().replace('"benchmark": "knn"', '"benchmark": "svm_imagenet"')
        record.write_text(text)
    elif case == 'malformed metafile':
        (repo / RELLOC / 'metafile.yml').write_text('Collections:\n  - Name: [x\n')
    elif case == 'random backbone record':
        record = write_record(tmp_path, checkpoint=False)
    elif case == 'other pre-training config':
        record = write_record(tmp_path,
                              pretrain_config='configs/selfsup/npid/npid_resnet18_1xb64-1500it_fmnist-demo.py')
    elif case == 'missing record':
        record = tmp_path / 'result_missing.json'
    before = snapshot(repo) if case != 'malformed metafile' else None
    assert gen(repo, '--add-result', record, '--model', model) == 2
    err = capsys.readouterr().err
    assert err.startswith('error: ') and message in err, err
    if case == 'unknown benchmark':
        assert str(record) in err
    if before is not None:
        assert snapshot(repo) == before  # nothing half-written


def test_a_random_init_model_takes_only_random_backbone_records(repo, tmp_path, capsys, gen):
    record = write_record(tmp_path)
    assert gen(repo, '--add-result', record, '--model', 'resnet18_random-init') == 2
    assert 'the record evaluates a checkpoint but the model is a randomly initialised backbone' in \
        capsys.readouterr().err
    record = write_record(tmp_path, checkpoint=False)
    assert gen(repo, '--add-result', record, '--model', 'resnet18_random-init') == 0
    # The record's k=10 replaces the stored one; the other k of that result stay.
    assert '| resnet18_random-init (no pre-training) | 50.00 | 73.00 | 65.80 | 59.40 |' in \
        (repo / RELLOC / 'README.md').read_text()


def test_compare_published_prints_both_columns(repo, capsys, gen):
    assert gen(repo, '--compare-published') == 0
    out = capsys.readouterr().out
    assert 'npid_resnet50_8xb32-steplr-200e_in1k (published:' in out
    line = next(line for line in out.splitlines() if line.strip().startswith('mIoU'))
    assert line.split()[1:] == ['–', '63.49']


def test_demo_tables_come_from_the_records_of_a_run(repo, tmp_path, capsys, gen):
    svm_demo = 'configs/benchmarks/classification/fashion_mnist/resnet18_svm_voc07_fmnist-demo.py'

    def svm_record(value, run_dir, seed):
        checkpoint = None
        if run_dir:
            checkpoint = tmp_path / run_dir / 'iter_300.pth'
            checkpoint.parent.mkdir()
            checkpoint.write_bytes(run_dir.encode())
        path = tmp_path / f'r{value}.json'
        write_result(str(path), 'svm_voc07', {f'feature{i}': value + i for i in range(1, 6)},
                     checkpoint=checkpoint, benchmark_config=str(repo / svm_demo), seeds={'random_init': seed},
                     dataset='Fashion-MNIST')
        return json.loads(path.read_text())

    pretrained = [svm_record(60.0, 'relative_loc_seed0', None), svm_record(62.0, 'relative_loc_seed1', None)]
    rows = {f'{DEMO_MODEL} (2 runs)': {'svm': pretrained},
            'random init, seeds 0, 1': {'svm': [svm_record(50.0, None, 0), svm_record(51.0, None, 1)]}}
    run = tmp_path / 'records.json'
    results = repo / 'docs/en/demo_results.json'
    before = results.read_bytes() if results.exists() else None
    unknown = dict(rows['random init, seeds 0, 1']['svm'][0], dataset='Fashion-MNIST-ish')
    run.write_text(json.dumps(dict(pretrain_config=str(repo / DEMO_CONFIG), rows={'x': {'svm': [unknown]}})))
    assert gen(repo, '--demo-run', run) == 2  # refused before anything is written
    assert "unknown Task / Dataset 'SVM' / 'Fashion-MNIST-ish'" in capsys.readouterr().err
    assert (results.read_bytes() if results.exists() else None) == before
    run.write_text(json.dumps(dict(pretrain_config=str(repo / DEMO_CONFIG), rows=rows)))
    assert gen(repo, '--demo-run', run) == 0
    stored = json.loads((repo / 'docs/en/demo_results.json').read_text())
    # No machine paths are stored: configs relative to the repository, a checkpoint by its run folder and name.
    checkpoints = [r['checkpoint']['path'] for r in stored['rows'][f'{DEMO_MODEL} (2 runs)']['svm']]
    assert checkpoints == ['relative_loc_seed0/iter_300.pth', 'relative_loc_seed1/iter_300.pth']
    assert stored['rows']['random init, seeds 0, 1']['svm'][0]['benchmark_config'] == svm_demo
    page = (repo / 'docs/en/get_started.md').read_text()
    block = page[page.index('<!-- demo-tables:begin'):page.index('<!-- demo-tables:end -->')]
    assert '| 62.00 ± 1.41 | 63.00 ± 1.41 |' in block and '| 51.50 ± 0.71 |' in block
    assert f'(../../{DEMO_CONFIG})' in block  # links work from docs/en
    assert gen(repo, '--check') == 0
    (repo / 'docs/en/get_started.md').write_text(page.replace('62.00 ± 1.41', '63.00 ± 1.41'))
    assert gen(repo, '--check') == 1
    assert 'stale: docs/en/get_started.md' in capsys.readouterr().out

import hashlib
import json
import math

import pytest
import torch
from builders.result_records import A_TOP1, CONFIG, MODEL_A, RANDOM_TOP1, ZOO_KNN, ZOO_MODEL, ZOO_PRETRAIN, write_runs
from scipy import stats

from mmssl.benchmarks.report import RANDOM_INIT_ROW, Delta, Published, build_report, natural_order
from mmssl.benchmarks.report.render import render_markdown
from mmssl.benchmarks.report.stats import PAIRED, WELCH


@pytest.fixture
def records(tmp_path):
    write_runs(tmp_path, 'a', A_TOP1)
    write_runs(tmp_path, 'random', RANDOM_TOP1, checkpoint=False)
    return tmp_path


def test_cells_are_scipys_mean_and_t_interval(records):
    report = build_report([str(records)])
    assert report.rows == [RANDOM_INIT_ROW, MODEL_A]
    assert report.baseline == RANDOM_INIT_ROW
    assert [c.name for c in report.columns] == ['knn/top1', 'knn/top5']
    for row, values in ((MODEL_A, A_TOP1), (RANDOM_INIT_ROW, RANDOM_TOP1)):
        cell = report.cells[row, 'knn/top1']
        low, high = stats.t.interval(0.95, len(values) - 1, loc=stats.tmean(values), scale=stats.sem(values))
        assert cell.mean == pytest.approx(stats.tmean(values))
        assert cell.half_width == pytest.approx((high - low) / 2)
        assert cell.half_width == pytest.approx(stats.t.ppf(0.975, len(values) - 1) * stats.sem(values))


def test_rows_of_one_training_come_in_the_order_of_their_iterations():
    names = ['relloc @ iter_120.pth', 'relloc @ iter_40.pth', 'npid @ iter_0.pth', 'relloc @ iter_0.pth']
    assert sorted(names, key=natural_order) == ['npid @ iter_0.pth', 'relloc @ iter_0.pth', 'relloc @ iter_40.pth',
                                                'relloc @ iter_120.pth']


def test_runs_of_the_same_seeds_are_paired(records):
    report = build_report([str(records)])
    test = report.tests[MODEL_A, 'knn/top1']
    assert test.kind == PAIRED
    assert test.p == pytest.approx(stats.ttest_rel(A_TOP1, RANDOM_TOP1).pvalue)
    assert test.significant(0.05)
    assert not test.significant(test.p / 2)
    assert (RANDOM_INIT_ROW, 'knn/top1') not in report.tests


def test_runs_of_other_seeds_take_welchs_test(tmp_path):
    write_runs(tmp_path, 'a', A_TOP1, seeds=(0, 1, 2))
    write_runs(tmp_path, 'random', RANDOM_TOP1, checkpoint=False, seeds=(3, 4, 5))
    report = build_report([str(tmp_path)])
    test = report.tests[MODEL_A, 'knn/top1']
    assert test.kind == WELCH
    assert test.p == pytest.approx(stats.ttest_ind(A_TOP1, RANDOM_TOP1, equal_var=False).pvalue)


def test_a_pre_training_pairs_with_the_random_network_of_its_seed(tmp_path):
    # the benchmark's own seed is 0 in every run: the network's seed (pre-training / random draw) pairs them
    write_runs(tmp_path, 'a', A_TOP1, seed_key='pretrain')
    write_runs(tmp_path, 'random', RANDOM_TOP1, checkpoint=False, seed_key='random_init')
    report = build_report([str(tmp_path)])
    assert report.tests[MODEL_A, 'knn/top1'].kind == PAIRED
    assert report.cells[MODEL_A, 'knn/top1'].seeds == ['model=0, seed=0', 'model=1, seed=0', 'model=2, seed=0']


def test_runs_that_do_not_say_their_pre_training_seed_take_welchs_test(tmp_path):
    write_runs(tmp_path, 'a', A_TOP1, seed_key=None)
    write_runs(tmp_path, 'random', RANDOM_TOP1, checkpoint=False, seed_key='random_init')
    assert build_report([str(tmp_path)]).tests[MODEL_A, 'knn/top1'].kind == WELCH


def test_the_pre_training_seed_is_read_from_the_checkpoint_meta(tmp_path):
    paths = write_runs(tmp_path, 'a', A_TOP1, seed_key=None)
    write_runs(tmp_path, 'random', RANDOM_TOP1, checkpoint=False, seed_key='random_init')
    for seed, path in enumerate(paths):
        ckpt = tmp_path / f'ckpt{seed}' / 'epoch_10.pth'
        ckpt.parent.mkdir()
        torch.save(dict(meta=dict(seed=seed), state_dict={}), ckpt)
        record = json.loads(path.read_text())
        record['checkpoint'] = dict(path=str(ckpt), sha256=hashlib.sha256(ckpt.read_bytes()).hexdigest())
        record['seeds'] = dict(seed=0)
        path.write_text(json.dumps(record))
    report = build_report([str(tmp_path / 'a'), str(tmp_path / 'random')])
    assert report.tests[MODEL_A, 'knn/top1'].kind == PAIRED
    # a file that is no longer the recorded one says nothing
    torch.save(dict(meta=dict(seed=5), state_dict={}), tmp_path / 'ckpt0' / 'epoch_10.pth')
    assert build_report([str(tmp_path / 'a'), str(tmp_path / 'random')]).tests[MODEL_A, 'knn/top1'].kind == WELCH


def test_a_single_run_has_no_interval_and_no_test(tmp_path):
    write_runs(tmp_path, 'a', A_TOP1[:1], seeds=(0, ))
    write_runs(tmp_path, 'random', RANDOM_TOP1, checkpoint=False)
    report = build_report([str(tmp_path)])
    assert report.cells[MODEL_A, 'knn/top1'].half_width is None
    test = report.tests[MODEL_A, 'knn/top1']
    assert test.p is None and not test.significant(0.05) and 'single run' in test.reason
    row = next(line for line in render_markdown(report).splitlines() if line.startswith(f'| {MODEL_A} '))
    assert '60.00 (n=1, no interval); no test: a row has a single run [T1]' in row


def test_the_protocol_card_names_config_selection_seeds_and_checkpoints(records):
    report = build_report([str(records)])
    card = report.cards[MODEL_A, 'knn']
    assert card['benchmark'] == 'knn' and card['benchmark_config'] == CONFIG and card['dataset'] == 'ImageNet'
    assert card['selection'] == 'fixed k'
    assert [run['seeds'] for run in card['runs']] == ['seed=0', 'seed=1', 'seed=2']
    assert card['runs'][0]['sha256'].startswith('a0') and card['runs'][0]['mmssl']
    assert all(run['sha256'] == 'none (random backbone)' for run in report.cards[RANDOM_INIT_ROW, 'knn']['runs'])


@pytest.mark.parametrize('extra, rule', [
    ({}, 'fixed'),
    (dict(selection=dict(rule='heldout', refit=True)), 'heldout, refit'),
    (dict(selection=dict(rule='val', refit=False)), 'val'),
])
def test_the_card_states_the_selection_rule_fixed_when_the_record_states_none(tmp_path, extra, rule):
    write_runs(tmp_path, 'a', A_TOP1, extra=extra)
    assert build_report([str(tmp_path)]).cards[MODEL_A, 'knn']['selection'] == rule


@pytest.mark.parametrize('change', [
    dict(dataset='Places205'),
    dict(config='configs/benchmarks/other_knn.py'),
    dict(extra=dict(cfg_options={'knn.temperature': 0.1})),
    dict(extra=dict(selection=dict(rule='val'))),
])
def test_records_of_different_protocols_in_one_column_are_refused_naming_the_files(tmp_path, change):
    write_runs(tmp_path, 'a', A_TOP1)
    odd = write_runs(tmp_path, 'random', RANDOM_TOP1, checkpoint=False, **change)
    with pytest.raises(ValueError, match='different protocols') as error:
        build_report([str(tmp_path)])
    assert str(odd[0]) in str(error.value) and str(tmp_path / 'a' / 'seed0' / 'result_knn.json') in str(error.value)


def test_rows_reporting_different_metrics_are_refused_naming_rows_and_metrics(tmp_path):
    write_runs(tmp_path, 'a', A_TOP1)
    odd = write_runs(tmp_path, 'random', RANDOM_TOP1, checkpoint=False, metric='top1_k200')
    with pytest.raises(ValueError, match='different metrics') as error:
        build_report([str(tmp_path)])
    assert MODEL_A in str(error.value) and RANDOM_INIT_ROW in str(error.value)
    assert 'top1_k200' in str(error.value) and "'top1'" in str(error.value) and str(odd[0]) in str(error.value)


def test_an_unknown_baseline_or_alpha_is_refused(records):
    with pytest.raises(ValueError, match='not a row'):
        build_report([str(records)], baseline='nope')
    with pytest.raises(ValueError, match='alpha'):
        build_report([str(records)], alpha=1.5)


def test_a_missing_path_or_an_empty_folder_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match='missing'):
        build_report([str(tmp_path / 'missing')])
    with pytest.raises(ValueError, match='holds no result record'):
        build_report([str(tmp_path)])


def test_the_baseline_can_be_any_row(records):
    report = build_report([str(records)], baseline=MODEL_A)
    assert (RANDOM_INIT_ROW, 'knn/top1') in report.tests
    assert not math.isnan(report.tests[RANDOM_INIT_ROW, 'knn/top1'].p)


ZOO_K20 = [16.0, 15.5, 16.5]


def zoo_entry(**change):
    """A published kNN entry of the relative-location model (made-up numbers, not the repository's)."""
    entry = dict(model='relative-loc_resnet50_8xb64-steplr-70e_in1k', pretrain_config=ZOO_PRETRAIN, task='kNN',
                 dataset='ImageNet-1k', metrics=dict(k10=14.5, k20=15.0), source='published.yml: a paper')
    return Published(**dict(entry, **change))


def zoo_report(tmp_path, repo_root, entries, **change):
    runs = dict(dict(metric='k20/top1', dataset='ImageNet-1k', config=ZOO_KNN, pretrain_config=ZOO_PRETRAIN), **change)
    write_runs(tmp_path, 'zoo', ZOO_K20, **runs)
    write_runs(tmp_path, 'random', RANDOM_TOP1, checkpoint=False, **dict(runs, extra=runs.get('extra')))
    return build_report([str(tmp_path)], published=entries, root=str(repo_root))


def test_a_delta_to_the_published_number_of_the_same_protocol(tmp_path, repo_root):
    report = zoo_report(tmp_path, repo_root, [zoo_entry(dataset='Places205'), zoo_entry()])
    delta = report.published[ZOO_MODEL, 'knn/k20/top1']
    assert isinstance(delta, Delta) and delta.metric == 'k20' and delta.published == 15.0
    assert delta.value == pytest.approx(stats.tmean(ZOO_K20) - 15.0) and delta.entry.source == 'published.yml: a paper'
    # top5 is no column of the model-zoo kNN table; the random row has no published numbers
    assert 'no metric of the model-zoo table' in report.published[ZOO_MODEL, 'knn/top5']
    assert 'random backbone' in report.published[RANDOM_INIT_ROW, 'knn/k20/top1']
    markdown = render_markdown(report)
    row = next(line for line in markdown.splitlines() if line.startswith(f'| {ZOO_MODEL} '))
    assert f'Δ {delta.value:+.2f} vs published 15.00 (k20) [P1]' in row
    assert '- P1: relative-loc_resnet50_8xb64-steplr-70e_in1k (kNN, ImageNet-1k): published.yml: a paper' in markdown


@pytest.mark.parametrize('entry, runs, reason', [
    (dict(benchmark_config='configs/benchmarks/classification/fashion_mnist/resnet18_knn_fmnist-demo.py'), {},
     'the published protocol is configs/benchmarks/classification/fashion_mnist'),
    (dict(dataset='Places205'), {}, 'no published kNN numbers on ImageNet-1k'),
    (dict(task='SVM'), {}, 'no published kNN numbers'),
    (dict(metrics=dict(k10=14.5)), {}, 'give no k20'),
    (dict(pretrain_config='configs/selfsup/npid/npid_resnet50_8xb32-steplr-200e_in1k.py'), {},
     'no published numbers for the pre-training config'),
    ({}, dict(extra=dict(cfg_options={'knn.temperature': 0.1})), '--cfg-options'),
    ({}, dict(config='work_dirs/my_knn.py'), 'is not one of the repository'),
])
def test_no_delta_where_the_protocol_differs_and_the_card_says_why(tmp_path, repo_root, entry, runs, reason):
    report = zoo_report(tmp_path, repo_root, [zoo_entry(**entry)], **runs)
    found = report.published[ZOO_MODEL, 'knn/k20/top1']
    assert isinstance(found, str) and reason in found
    markdown = render_markdown(report)
    table = [line for line in markdown.splitlines() if line.startswith('| ')]
    assert reason in markdown and table and not any('Δ' in line for line in table)


def test_published_numbers_need_the_repository_root(records):
    with pytest.raises(ValueError, match='root'):
        build_report([str(records)], published=[zoo_entry()])


@pytest.mark.parametrize('seeds', [(0, 1, 2), (3, 4, 5)])
def test_runs_without_spread_get_no_test(tmp_path, seeds):
    # paired: the same difference in every seed; Welch: no spread in either row
    write_runs(tmp_path, 'a', [21.0, 23.0, 20.5] if seeds == (0, 1, 2) else [5.0, 5.0, 5.0])
    write_runs(tmp_path, 'random', RANDOM_TOP1 if seeds == (0, 1, 2) else [4.0, 4.0, 4.0], checkpoint=False,
               seeds=seeds)
    test = build_report([str(tmp_path)]).tests[MODEL_A, 'knn/top1']
    assert test.kind == (PAIRED if seeds == (0, 1, 2) else WELCH)
    assert test.p is None and 'no spread' in test.reason and not test.significant(0.05)


def test_a_row_without_spread_against_one_with_spread_takes_welch_without_warnings():
    """Three runs with the same score (variance exactly 0) against runs with spread: Welch's p as scipy gives it,
    and no precision-loss warning in the report's output."""
    import warnings

    from mmssl.benchmarks.report.stats import Cell, compare_cells
    constant, spread = [96.4, 96.4, 96.4], [95.0, 96.2, 97.8]
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        test = compare_cells(Cell(spread, ['model=0', 'model=1', 'model=2']), Cell(constant, ['a', 'b', 'c']))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        expected = stats.ttest_ind(spread, constant, equal_var=False).pvalue
    assert test.kind == WELCH and test.p == pytest.approx(expected)


def test_the_report_plot_leaves_matplotlibs_backend_and_figures_alone(records):
    import matplotlib
    import matplotlib.pyplot as plt

    from mmssl.benchmarks.report.render import plot_png
    previous = matplotlib.get_backend()
    plt.switch_backend('svg')  # a caller's own backend, which the report must keep
    try:
        figures = plt.get_fignums()
        png = plot_png(build_report([str(records)]))
        assert png.startswith(b'\x89PNG') and matplotlib.get_backend() == 'svg' and plt.get_fignums() == figures
    finally:
        plt.switch_backend(previous)

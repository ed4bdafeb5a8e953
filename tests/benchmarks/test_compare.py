import math

import pytest
from builders.result_records import A_TOP1, CONFIG, MODEL_A, RANDOM_TOP1, write_runs
from scipy import stats

from mmssl.benchmarks.report import RANDOM_INIT_ROW, build_report
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
        assert cell.half_width == pytest.approx(stats.t.ppf(0.975, 2) * stats.sem(values))


def test_runs_of_the_same_seeds_are_paired(records):
    report = build_report([str(records)])
    test = report.tests[MODEL_A, 'knn/top1']
    assert test.kind == PAIRED
    assert test.p == pytest.approx(stats.ttest_rel(A_TOP1, RANDOM_TOP1).pvalue)
    assert test.significant(0.05)
    assert (RANDOM_INIT_ROW, 'knn/top1') not in report.tests


def test_runs_of_other_seeds_take_welchs_test(tmp_path):
    write_runs(tmp_path, 'a', A_TOP1, seeds=(0, 1, 2))
    write_runs(tmp_path, 'random', RANDOM_TOP1, checkpoint=False, seeds=(3, 4, 5))
    report = build_report([str(tmp_path)])
    test = report.tests[MODEL_A, 'knn/top1']
    assert test.kind == WELCH
    assert test.p == pytest.approx(stats.ttest_ind(A_TOP1, RANDOM_TOP1, equal_var=False).pvalue)


def test_a_single_run_has_no_interval_and_no_test(tmp_path):
    write_runs(tmp_path, 'a', A_TOP1[:1], seeds=(0, ))
    write_runs(tmp_path, 'random', RANDOM_TOP1, checkpoint=False)
    report = build_report([str(tmp_path)])
    assert report.cells[MODEL_A, 'knn/top1'].half_width is None
    test = report.tests[MODEL_A, 'knn/top1']
    assert test.p is None and not test.significant(0.05) and 'single run' in test.reason


def test_the_protocol_card_names_config_selection_seeds_and_checkpoints(records):
    card = build_report([str(records)]).cards['knn/top1']
    assert card['benchmark_config'] == CONFIG and card['dataset'] == 'ImageNet'
    assert 'fixed k' in card['selection']
    assert card['rows'][MODEL_A]['seeds'] == ['0', '1', '2']
    assert card['rows'][MODEL_A]['sha256'][0].startswith('a0')
    assert card['rows'][RANDOM_INIT_ROW]['sha256'] == ['none (random backbone)']
    assert card['mmssl']


@pytest.mark.parametrize('change', [dict(dataset='Places205'), dict(config='configs/benchmarks/other_knn.py')])
def test_records_of_different_protocols_in_one_column_are_refused_naming_the_files(tmp_path, change):
    write_runs(tmp_path, 'a', A_TOP1)
    odd = write_runs(tmp_path, 'random', RANDOM_TOP1, checkpoint=False, **change)
    with pytest.raises(ValueError, match='different protocols') as error:
        build_report([str(tmp_path)])
    assert str(odd[0]) in str(error.value)


def test_rows_reporting_different_metrics_are_refused_naming_rows_and_metrics(tmp_path):
    write_runs(tmp_path, 'a', A_TOP1)
    write_runs(tmp_path, 'random', RANDOM_TOP1, checkpoint=False, metric='top1_k200')
    with pytest.raises(ValueError, match='different metrics') as error:
        build_report([str(tmp_path)])
    assert MODEL_A in str(error.value) and RANDOM_INIT_ROW in str(error.value)
    assert 'top1_k200' in str(error.value) and "'top1'" in str(error.value)


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

"""Model-zoo tables of the package: laid out from the benchmarks' declarations, records as table results, mean ± std
rows of a suite run, of any backbone's taps and of a benchmark with no table entry."""
import sys

import pytest

from mmssl.benchmarks.base import get_benchmark
from mmssl.benchmarks.records import benchmarks_by_record
from mmssl.benchmarks.tables import (TABLES, Column, ModelZooError, Row, dataset_from_config, record_to_result,
                                     render_tables, run_tables, table_for)
from mmssl.registry import BENCHMARKS

MHEAD_DEMO = 'configs/benchmarks/classification/fashion_mnist/resnet18_mhead_1xb64-steplr-4e_fmnist-demo.py'
KNN_IN1K = 'configs/benchmarks/classification/knn/resnet50_knn_in1k.py'
RELLOC_IN1K = 'configs/selfsup/relative_loc/relative-loc_resnet50_8xb64-steplr-70e_in1k.py'
SVM_DEMO = 'configs/benchmarks/classification/fashion_mnist/resnet18_svm_voc07_fmnist-demo.py'
CENTROID = 'projects/centroid_benchmark'


def record(benchmark, metrics, config=MHEAD_DEMO, **extra):
    return dict(format='mmssl.result.v1', benchmark=benchmark, metrics=metrics, benchmark_config=config,
                checkpoint=None, pretrain_config=None, date='x', versions={}, extra=extra)


# ----------------------------------------------------------------------------------------------- layout
def test_every_table_takes_task_columns_and_layers_from_its_benchmark():
    declared = benchmarks_by_record()
    for table in TABLES:
        benchmark = declared[table.record]
        assert (table.task, table.layered) == (benchmark.task, benchmark.layered), table.key
        assert set((column.header, column.metric) for column in table.columns) <= set(benchmark.columns), table.key
    # Every benchmark shipped with mmssl has its results shown somewhere.
    shipped = {name for name, cls in declared.items() if cls.__module__.startswith('mmssl.')}
    assert shipped == {table.record for table in TABLES}


def test_a_changed_declaration_changes_the_table_and_nothing_else_is_needed(monkeypatch):
    knn = type(get_benchmark('knn'))
    monkeypatch.setattr(knn, 'columns', (('k=7', 'k7'), ))
    assert table_for('kNN', 'ImageNet-1k').columns == (Column('k=7', 'k7'), )
    monkeypatch.setattr(knn, 'task', 'Nearest Neighbours')
    assert table_for('Nearest Neighbours', 'Fashion-MNIST').key == 'knn_fmnist'


# ----------------------------------------------------------------------------------------------- record mapping
def test_multi_head_linear_record_maps_top1_per_head_and_drops_the_rest(repo_root):
    metrics = {f'accuracy/{head}/top{k}': 10.0 * i + k for i, head in
               enumerate(['feature1', 'feature2', 'feature3', 'feature4', 'feature5', 'avgpool']) for k in (1, 5)}
    result = record_to_result(record('linear_eval', metrics), str(repo_root))
    assert result == dict(Task='Linear Evaluation', Dataset='Fashion-MNIST', Config=MHEAD_DEMO,
                          Metrics=dict(feature1=1.0, feature2=11.0, feature3=21.0, feature4=31.0, feature5=41.0,
                                       avgpool_joint=51.0))


def test_single_head_linear_record_is_the_avgpool_column(repo_root):
    config = 'configs/benchmarks/classification/imagenet/resnet50_linear-8xb32-steplr-100e_in1k.py'
    result = record_to_result(record('linear_eval', {'accuracy/top1': 40.4049, 'accuracy/top5': 65.0}, config),
                              str(repo_root))
    assert (result['Dataset'], result['Metrics']) == ('ImageNet-1k', {'avgpool': 40.4})


def test_record_values_are_rounded_and_absolute_configs_made_relative(repo_root):
    result = record_to_result(record('knn', {'k10/top1': 33.33333, 'k10/top5': 60.0, 'k200/top1': 30.0},
                                     str(repo_root / KNN_IN1K)), str(repo_root))
    assert result == dict(Task='kNN', Dataset='ImageNet-1k', Metrics={'k10': 33.33, 'k200': 30.0}, Config=KNN_IN1K)


@pytest.mark.parametrize('benchmark,metrics,config,extra,expected', [
    ('svm_voc07', {'feature1': 40.0, 'feature5': 60.0, 'best': 60.0, 'best_layer_index': 4},
     'configs/benchmarks/classification/voc07/resnet50_svm_voc07.py', {},
     ('SVM', 'VOC07', {'feature1': 40.0, 'feature5': 60.0})),
    ('lowshot_svm_voc07', {'feature5_k1': 20.0, 'feature5_k96': 50.0},
     'configs/benchmarks/classification/voc07/resnet50_svm_voc07.py', {},
     ('Low-shot SVM', 'VOC07', {'feature5_k1': 20.0, 'feature5_k96': 50.0})),
    ('lowshot_svm_places205', {'feature4_k1': 8.0, 'feature5_k64': 30.0, 'best': 30.0},
     'configs/benchmarks/classification/places205/resnet50_svm-lowshot_places205.py', {},
     ('Low-shot SVM', 'Places205', {'feature4_k1': 8.0, 'feature5_k64': 30.0})),
    ('semi_sup', {'top1': 25.0, 'top5': 50.0},
     'configs/benchmarks/classification/imagenet/imagenet_10percent/'
     'resnet50_8xb32-steplr-20e_in1k-10pct_lr-1e-2_head10.py',
     {'subset': '10%'}, ('Fine-tuning', 'ImageNet-1k 10%', {'top1': 25.0, 'top5': 50.0})),
    # mmdet reports fractions, the tables percent.
    ('detection', {'coco/bbox_mAP': 0.375, 'coco/segm_mAP_75': 0.361, 'coco/bbox_mAP_s': 0.2},
     'configs/benchmarks/mmdetection/coco/mask-rcnn_r50_fpn_ms-1x_coco.py', {},
     ('Object Detection', 'COCO', {'bbox_mAP': 37.5, 'segm_mAP_75': 36.1})),
    ('detection', {'pascal_voc/AP50': 0.797, 'pascal_voc/mAP': 0.797},
     'configs/benchmarks/mmdetection/voc0712/faster-rcnn_r50-c4_ms-24k_voc0712.py', {},
     ('Object Detection', 'VOC07+12', {'AP50': 79.7})),
    ('segmentation', {'mIoU': 63.49, 'aAcc': 90.0, 'mAcc': 70.0},
     'configs/benchmarks/mmsegmentation/cityscapes/fcn_r50-d8_4xb2-40k_cityscapes-769x769.py', {},
     ('Semantic Segmentation', 'Cityscapes', {'mIoU': 63.49})),
    ('segmentation', {'mIoU': 48.13, 'aAcc': 82.0, 'mAcc': 59.0},
     'configs/benchmarks/mmsegmentation/ade20k/upernet_vit-base-p16_8xb2-160k_ade20k-512x512.py', {},
     ('Semantic Segmentation', 'ADE20K', {'mIoU': 48.13})),
])
def test_every_benchmark_maps_to_its_table(repo_root, benchmark, metrics, config, extra, expected):
    assert (repo_root / config).is_file(), config
    result = record_to_result(record(benchmark, metrics, config, **extra), str(repo_root))
    assert (result['Task'], result['Dataset'], result['Metrics']) == expected


def test_every_shipped_benchmark_config_declares_its_dataset(repo_root):
    configs = sorted((repo_root / 'configs' / 'benchmarks').rglob('*.py'))
    known = {dataset for table in TABLES for dataset in table.datasets}
    assert configs
    for config in configs:
        assert dataset_from_config(str(config)) in known, config


def test_the_record_says_its_dataset_and_file_names_say_nothing(repo_root):
    # A config named like another data set: only the declaration counts.
    renamed = repo_root / 'configs' / 'benchmarks' / 'classification' / 'knn' / 'resnet50_knn_places205.py'
    assert not renamed.exists()
    rec = record('knn', {'k10/top1': 1.0}, KNN_IN1K)
    assert record_to_result(rec, str(repo_root))['Dataset'] == 'ImageNet-1k'
    rec['dataset'] = 'Fashion-MNIST'
    assert record_to_result(rec, str(repo_root))['Dataset'] == 'Fashion-MNIST'


def test_a_grid_point_record_is_refused_in_favour_of_the_grid_record(repo_root):
    config = ('configs/benchmarks/classification/imagenet/imagenet_1percent/'
              'resnet50_8xb32-steplr-20e_in1k-1pct_lr-1e-2_head10.py')
    with pytest.raises(ModelZooError, match='semi_sup_grid.py'):
        record_to_result(record('linear_eval', {'accuracy/top1': 1.0}, config), str(repo_root))


def test_record_errors_name_the_record_and_the_way_out(repo_root):
    root = str(repo_root)
    with pytest.raises(ModelZooError, match=r"^rec.json: unknown benchmark 'svm'"):
        record_to_result(record('svm', {}), root, where='rec.json')
    with pytest.raises(ModelZooError, match='--dataset'):
        record_to_result(record('knn', {'k10/top1': 1.0}, RELLOC_IN1K.replace('_in1k', '')), root)
    with pytest.raises(ModelZooError, match='none of the record'):
        record_to_result(record('linear_eval', {'loss': 1.0}), root)
    with pytest.raises(ModelZooError, match='outside the repository'):
        record_to_result(record('linear_eval', {'accuracy/top1': 1.0}, '/etc/hostname'), root)
    # An explicit dataset must still be one the task has a table for.
    with pytest.raises(ModelZooError, match="unknown Task / Dataset 'kNN' / 'COCO'"):
        record_to_result(record('knn', {'k10/top1': 1.0}, KNN_IN1K), root, dataset='COCO')


# ----------------------------------------------------------------------------------------------- suite tables
def test_a_row_of_several_runs_shows_mean_and_sample_std(repo_root):
    runs = [record('linear_eval', {'accuracy/feature1/top1': value, 'accuracy/feature2/top1': 50.0})
            for value in (70.0, 72.0, 77.0)]
    tables = run_tables({'demo (3 runs)': {'linear': runs}, 'single': {'linear': runs[:1]}}, None, str(repo_root))
    row = next(line for line in tables.splitlines() if line.startswith('| demo (3 runs)'))
    # mean 73.00, sample std sqrt(((-3)² + (-1)² + 4²) / 2) = 3.61; identical runs: std 0.
    assert '| 73.00 ± 3.61 | 50.00 ± 0.00 |' in row
    assert '| 70.00 | 50.00 |' in next(line for line in tables.splitlines() if line.startswith('| single'))
    runs[1]['metrics'].pop('accuracy/feature2/top1')
    with pytest.raises(ModelZooError, match='demo .3 runs.: the runs of .*resnet18_mhead.* report different'):
        run_tables({'demo (3 runs)': {'linear': runs}}, None, str(repo_root))


def test_records_of_other_taps_than_resnet_s_get_their_own_columns_after_the_declared_ones(repo_root):
    resnet = record('svm_voc07', {f'feature{i}': 10.0 * i for i in range(1, 6)}, SVM_DEMO)
    other = record('svm_voc07', {'block9': 9.0, 'block3': 3.0}, SVM_DEMO)
    # A record of the ResNet taps shows them only (what else it carries is no tap); another record's order stays.
    assert record_to_result(dict(resnet, metrics=dict(resnet['metrics'], best=50.0)),
                            str(repo_root))['Metrics'] == resnet['metrics']
    assert list(record_to_result(other, str(repo_root))['Metrics']) == ['block9', 'block3']
    tables = run_tables({'resnet': {'svm': [resnet]}, 'other': {'svm': [other]}}, None, str(repo_root)).splitlines()
    assert tables[4].startswith('| Pre-training config | Feature1 | Feature2 | Feature3 | Feature4 | Feature5 | '
                                'Block9 | Block3 | Benchmark config |')
    assert tables[6].startswith('| resnet (no pre-training) | 10.00 | 20.00 | 30.00 | 40.00 | 50.00 | – | – |')
    assert tables[7].startswith('| other (no pre-training) | – | – | – | – | – | 9.00 | 3.00 |')


def test_a_suite_run_links_configs_outside_the_repository_by_their_paths_and_the_model_zoo_refuses_them(
        repo_root, tmp_path):
    config = tmp_path / 'my_mhead.py'  # a researcher's benchmark config, beside the repository
    config.write_text(f"_base_ = [{str(repo_root / MHEAD_DEMO)!r}]\n")
    pretrain = tmp_path / 'my_pretraining.py'
    pretrain.write_text('')
    runs = {'mine': {'linear': [dict(record('linear_eval', {'accuracy/feature5/top1': 70.0}, str(config)),
                                     checkpoint=dict(path='x.pth', sha256='0' * 64))]}}
    tables = run_tables(runs, str(pretrain), str(repo_root), external_ok=True)
    row = next(line for line in tables.splitlines() if line.startswith('| [mine]'))
    assert row.startswith(f'| [mine]({pretrain}) |') and f'[my_mhead]({config}) |' in row and '70.00' in row
    with pytest.raises(ModelZooError, match=f'mine: linear_eval: config {config} is outside the repository'):
        run_tables(runs, str(pretrain), str(repo_root))


def test_a_table_of_one_backbone_family_lists_no_other_familys_model():
    """A model pre-trained on ImageNet-1k gets a row of "–" in each table of that section that its backbone could
    fill: the ADE20K UperNet-ViT table takes ViTs only."""
    resnet, vit = Row('resnet', [], 'ImageNet-1k', 'ResNet-50'), Row('vit', [], 'ImageNet-1k', 'ViT-B/16')
    ade20k = next(table for table in TABLES if table.key == 'seg_ade20k')
    assert (ade20k.takes('ViT-B/16'), ade20k.takes('ResNet-50'), ade20k.takes(None)) == (True, False, True)

    def rows_of(title, lines):
        start = lines.index(f'#### {title}')
        return [line for line in lines[start + 4:lines.index('', start + 4)]]

    lines = render_tables([resnet, vit], '.')
    assert rows_of(ade20k.title, lines) == ['| vit | – | – |']
    assert rows_of('VOC07 linear SVM (mAP %)', lines)[0].startswith('| resnet |')
    only_resnet = render_tables([resnet], '.')
    assert f'#### {ade20k.title}' not in only_resnet and not any(ade20k.title in line for line in only_resnet)


@pytest.fixture
def centroid_plugin(monkeypatch, repo_root):
    """The plugin benchmark of docs/en/add_new_benchmark.md, registered for one test."""
    monkeypatch.syspath_prepend(str(repo_root / CENTROID))
    import centroid_benchmark  # noqa: F401  (registers it, as its config's custom_imports does)
    yield
    BENCHMARKS.module_dict.pop('NearestCentroid', None)
    sys.modules.pop('centroid_benchmark', None)
    sys.modules.pop('centroid_benchmark.centroid', None)


def test_a_benchmark_without_a_table_entry_gets_a_table_of_its_declaration_in_a_suite_run(repo_root, centroid_plugin):
    config = f'{CENTROID}/configs/resnet18_centroid_fmnist-demo.py'
    centroid = dict(record('nearest_centroid', {'top1': 71.25}, config), dataset='Fashion-MNIST')
    knn = record('knn', {'k10/top1': 60.0}, 'configs/benchmarks/classification/fashion_mnist/'
                 'resnet18_knn_fmnist-demo.py')
    tables = run_tables({'demo': {'centroid': [centroid], 'knn': [knn]}}, None, str(repo_root)).splitlines()
    at = tables.index('#### Nearest-centroid classification, Fashion-MNIST')
    assert tables[at - 2] == '### Benchmarks without a model-zoo table'
    assert tables[at + 2] == '| Pre-training config | Top-1 | Benchmark config |'
    assert tables[at + 4] == ('| demo (no pre-training) | 71.25 | [resnet18_centroid_fmnist-demo]'
                              f'({config}) |')
    assert '#### Fashion-MNIST kNN (top-1 %)' in tables
    # A record that names no data set still shows; the published tables take only benchmarks of the layout.
    unnamed = record('nearest_centroid', {'top1': 50.0}, 'configs/selfsup/relative_loc/'
                     'relative-loc_resnet18_1xb32-300it_fmnist-demo.py')
    assert '#### Nearest-centroid classification' in run_tables({'x': {'centroid': [unnamed]}}, None,
                                                                str(repo_root)).splitlines()
    with pytest.raises(ModelZooError, match="unknown Task / Dataset 'Nearest Centroid' / 'Fashion-MNIST'"):
        record_to_result(centroid, str(repo_root))


# ----------------------------------------------------------------------------------------------- chosen grid points
GRID_DEMO = 'configs/benchmarks/classification/fashion_mnist/resnet18_mhead-grid-heldout_1xb64-steplr-4e_fmnist-demo.py'


def grid_record(rule, lrs, wds=None, value=70.0):
    """A linear grid record whose feature4 / feature5 heads were chosen at ``lrs`` (and ``wds``) on ``rule``."""
    taps = ('feature4', 'feature5')
    wds = wds or (1e-4, 1e-4)
    metrics = {f'accuracy/{tap}{suffix}/top1': value + i for i, tap in enumerate(taps) for suffix in ('', '@fixed')}
    grid = {tap: [dict(lr=lr, wd=wd) for lr in (0.001, 0.01, 0.1) for wd in sorted(set(wds))] for tap in taps}
    return record('linear_eval', metrics, GRID_DEMO, grid=grid, selected_lr=dict(zip(taps, lrs)),
                  selected_wd=dict(zip(taps, wds)), selection=dict(rule=rule, metric='top1', refit=False))


def test_the_chosen_lr_stands_beside_the_linear_number_and_the_fixed_point_is_no_column(repo_root):
    result = record_to_result(grid_record('heldout', (0.1, 0.001)), str(repo_root), notes=True)
    assert result['Metrics'] == dict(feature4=70.0, feature5=71.0)  # @fixed stays in the record only
    assert result['Notes'] == dict(feature4='lr 0.1', feature5='lr 0.001')
    assert 'Notes' not in record_to_result(grid_record('heldout', (0.1, 0.001)), str(repo_root))  # metafile form
    swept = record_to_result(grid_record('heldout', (0.1, 0.01), (1e-4, 1e-3)), str(repo_root), notes=True)
    assert swept['Notes'] == dict(feature4='lr 0.1, wd 0.0001', feature5='lr 0.01, wd 0.001')
    tables = run_tables({'run': {'linear': [grid_record('heldout', (0.1, 0.001))]}}, None, str(repo_root))
    assert '| 70.00 (lr 0.1) | 71.00 (lr 0.001) |' in tables and '†' not in tables


def test_a_point_chosen_on_val_is_marked_in_every_table_that_shows_it(repo_root):
    tables = run_tables({'run': {'linear': [grid_record('val', (0.1, 0.001))]}}, None, str(repo_root))
    assert '70.00 (lr 0.1†)' in tables and '71.00 (lr 0.001†)' in tables
    assert "† chosen on the validation set, the split the number is reported on (selection='val')" in tables
    probe = record('probe', {'feature5/top1': 80.0}, 'configs/benchmarks/classification/fashion_mnist/'
                   'resnet18_probe_fmnist-demo.py', selected_C={'feature5': 0.0316}, selection=dict(rule='val'))
    tables = run_tables({'run': {'probe': [probe]}}, None, str(repo_root))
    assert '80.00 (C 0.0316†)' in tables and 'selection=' in tables


def test_runs_of_several_seeds_show_each_chosen_lr(repo_root):
    runs = [grid_record('heldout', (0.1, 0.01), value=70.0), grid_record('heldout', (0.01, 0.01), value=72.0)]
    tables = run_tables({'run': {'linear': runs}}, None, str(repo_root))
    assert '71.00 ± 1.41 (lr 0.1 / lr 0.01)' in tables and '72.00 ± 1.41 (lr 0.01)' in tables

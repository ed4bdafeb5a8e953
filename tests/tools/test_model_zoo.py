"""Model-zoo metadata: validation, record mapping, canonical metafile text, table rendering."""
from pathlib import Path

import model_zoo as mz  # tools/analysis_tools (on sys.path through conftest.py)
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
MHEAD_DEMO = 'configs/benchmarks/classification/fashion_mnist/resnet18_mhead_1xb64-steplr-4e_fmnist-demo.py'
KNN_IN1K = 'configs/benchmarks/classification/knn/resnet50_knn_in1k.py'
RELLOC_IN1K = 'configs/selfsup/relative_loc/relative-loc_resnet50_8xb64-steplr-70e_in1k.py'


def record(benchmark, metrics, config=MHEAD_DEMO, **extra):
    return dict(format='mmssl.result.v1', benchmark=benchmark, metrics=metrics, benchmark_config=config,
                checkpoint=None, pretrain_config=None, date='x', versions={}, extra=extra)


def edit_yaml(path, change):
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


# ----------------------------------------------------------------------------------------------- record mapping
def test_multi_head_linear_record_maps_top1_per_head_and_drops_the_rest():
    metrics = {f'accuracy/{head}/top{k}': 10.0 * i + k for i, head in
               enumerate(['feature1', 'feature2', 'feature3', 'feature4', 'feature5', 'avgpool']) for k in (1, 5)}
    result = mz.record_to_result(record('linear_eval', metrics), str(REPO))
    assert result == dict(Task='Linear Evaluation', Dataset='Fashion-MNIST', Config=MHEAD_DEMO,
                          Metrics=dict(feature1=1.0, feature2=11.0, feature3=21.0, feature4=31.0, feature5=41.0,
                                       avgpool_joint=51.0))


def test_single_head_linear_record_is_the_avgpool_column():
    config = 'configs/benchmarks/classification/imagenet/resnet50_linear-8xb32-steplr-100e_in1k.py'
    result = mz.record_to_result(record('linear_eval', {'accuracy/top1': 40.4049, 'accuracy/top5': 65.0}, config),
                                 str(REPO))
    assert (result['Dataset'], result['Metrics']) == ('ImageNet-1k', {'avgpool': 40.4})


def test_record_values_are_rounded_and_absolute_configs_made_relative():
    result = mz.record_to_result(record('knn', {'k10/top1': 33.33333, 'k10/top5': 60.0, 'k200/top1': 30.0},
                                        str(REPO / KNN_IN1K)), str(REPO))
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
])
def test_every_benchmark_maps_to_its_table(benchmark, metrics, config, extra, expected):
    assert (REPO / config).is_file(), config
    result = mz.record_to_result(record(benchmark, metrics, config, **extra), str(REPO))
    assert (result['Task'], result['Dataset'], result['Metrics']) == expected


def test_every_shipped_benchmark_config_declares_its_dataset():
    configs = sorted((REPO / 'configs' / 'benchmarks').rglob('*.py'))
    known = {dataset for table in mz.TABLES for dataset in table.datasets}
    assert configs
    for config in configs:
        assert mz.dataset_from_config(str(config)) in known, config


def test_the_record_says_its_dataset_and_file_names_say_nothing(tmp_path):
    # A config named like another data set: only the declaration counts.
    renamed = REPO / 'configs' / 'benchmarks' / 'classification' / 'knn' / 'resnet50_knn_places205.py'
    assert not renamed.exists()
    rec = record('knn', {'k10/top1': 1.0}, KNN_IN1K)
    assert mz.record_to_result(rec, str(REPO))['Dataset'] == 'ImageNet-1k'
    rec['dataset'] = 'Fashion-MNIST'
    assert mz.record_to_result(rec, str(REPO))['Dataset'] == 'Fashion-MNIST'


def test_a_grid_point_record_is_refused_in_favour_of_the_grid_record():
    config = ('configs/benchmarks/classification/imagenet/imagenet_1percent/'
              'resnet50_8xb32-steplr-20e_in1k-1pct_lr-1e-2_head10.py')
    with pytest.raises(mz.ModelZooError, match='semi_sup_grid.py'):
        mz.record_to_result(record('linear_eval', {'accuracy/top1': 1.0}, config), str(REPO))


def test_record_errors_name_the_record_and_the_way_out():
    with pytest.raises(mz.ModelZooError, match=r"^rec.json: unknown benchmark 'svm'"):
        mz.record_to_result(record('svm', {}), str(REPO), where='rec.json')
    with pytest.raises(mz.ModelZooError, match='--dataset'):
        mz.record_to_result(record('knn', {'k10/top1': 1.0}, RELLOC_IN1K.replace('_in1k', '')), str(REPO))
    with pytest.raises(mz.ModelZooError, match='none of the record'):
        mz.record_to_result(record('linear_eval', {'loss': 1.0}), str(REPO))
    with pytest.raises(mz.ModelZooError, match='outside the repository'):
        mz.record_to_result(record('linear_eval', {'accuracy/top1': 1.0}, '/etc/hostname'), str(REPO))
    # An explicit dataset must still be one the task has a table for.
    with pytest.raises(mz.ModelZooError, match="unknown Task / Dataset 'kNN' / 'COCO'"):
        mz.record_to_result(record('knn', {'k10/top1': 1.0}, KNN_IN1K), str(REPO), dataset='COCO')


# ----------------------------------------------------------------------------------------------- metafiles
def test_committed_metafiles_are_in_canonical_form():
    for metafile in mz.load_model_index(str(REPO)):
        assert mz.dump_metafile(metafile) == (REPO / metafile.path).read_text(), metafile.path


def test_full_scale_models_carry_no_results_of_ours_and_published_numbers_stay_apart():
    metafiles = mz.load_model_index(str(REPO))
    models = {m['Name']: m for metafile in metafiles for m in metafile.models}
    published = {name: results for metafile in metafiles for name, results in metafile.published.items()}
    assert set(published) == {'relative-loc_resnet50_8xb64-steplr-70e_in1k', 'npid_resnet50_8xb32-steplr-200e_in1k'}
    baseline = models['resnet18_random-init']
    assert baseline['Config'] is None and baseline['Weights'] == 'random' and baseline['Results']
    for text in (REPO / 'configs/selfsup/relative_loc/metafile.yml', REPO / 'configs/selfsup/npid/metafile.yml'):
        assert '65.52' not in text.read_text() and '76.75' not in text.read_text()


@pytest.mark.parametrize('change,message', [
    (lambda d: d['Models'][1]['Results'][0].update(Task='Linear Probe'), "unknown Task / Dataset 'Linear Probe'"),
    (lambda d: d['Models'][1]['Results'][0]['Metrics'].update(feature6=1.0), "unknown metric 'feature6'"),
    (lambda d: d['Models'][1]['Results'][0]['Metrics'].update(feature1='high'), "metric 'feature1' must be a number"),
    (lambda d: d['Models'][1]['Results'][0].update(Config='configs/nope.py'), 'Config configs/nope.py does not exist'),
    (lambda d: d['Models'][1]['Results'].append(dict(d['Models'][1]['Results'][0])), 'a second result'),
    (lambda d: d['Models'][1].update(Config=None), 'must say Weights: random'),
    (lambda d: d['Models'][0].update({'In Collection': 'RelLoc'}), "In Collection 'RelLoc'"),
    (lambda d: d['Models'][0].update(Name=d['Models'][1]['Name']), 'duplicate model name'),
    (lambda d: d['Models'][0].pop('Config'), 'missing Config'),
    (lambda d: d.pop('Collections'), 'Collections must be a non-empty list'),
])
def test_malformed_metafile_errors_name_the_file_and_the_key(repo, change, message):
    path = repo / 'configs/selfsup/relative_loc/metafile.yml'
    edit_yaml(path, change)
    with pytest.raises(mz.ModelZooError) as error:
        mz.load_model_index(str(repo))
    assert str(error.value).startswith('configs/selfsup/relative_loc/metafile.yml')
    assert message in str(error.value)


def test_invalid_yaml_and_foreign_published_models_are_reported(repo):
    published = repo / 'configs/selfsup/npid/published.yml'
    edit_yaml(published, lambda d: d['Models'][0].update(Name='npid_resnet50_other'))
    with pytest.raises(mz.ModelZooError, match=r"published.yml: Models\[0\]: Name 'npid_resnet50_other' is not a "):
        mz.load_model_index(str(repo))
    (repo / 'configs/selfsup/npid/metafile.yml').write_text('Models: [unclosed\n')
    with pytest.raises(mz.ModelZooError, match='npid/metafile.yml: not valid YAML'):
        mz.load_model_index(str(repo))


# ----------------------------------------------------------------------------------------------- rendering
def test_tables_show_our_numbers_empty_rows_and_published_numbers_apart():
    outputs = mz.generate(str(REPO))
    readme = outputs['configs/selfsup/relative_loc/README.md']
    block = readme[readme.index(mz.BEGIN_MARKER):readme.index(mz.END_MARKER)]
    ours, published = block.split('## Published results (not measured by mmssl)')
    linear = ours[ours.index('Fashion-MNIST multi-head linear evaluation'):]
    demo_row = next(line for line in linear.splitlines() if line.startswith('| [relative-loc_resnet18'))
    # The demo's avgpool head was trained jointly: its own column, the AvgPool one stays empty.
    assert '| 74.27 | 80.53 | 80.73 | 80.27 | 79.07 | – | 39.80 |' in demo_row  # means of 3 seeds
    assert 'resnet18_mhead_1xb64-steplr-4e_fmnist-demo.py)' in demo_row
    assert '| resnet18_random-init (no pre-training) | 75.60 | 77.07 | 76.47 | 72.93 | 74.07 | – | 32.47 |' in ours
    full = '[relative-loc_resnet50_8xb64-steplr-70e_in1k](relative-loc_resnet50_8xb64-steplr-70e_in1k.py)'
    assert f'| {full} | – | – | – | – | – | – | – | – |' in ours  # ImageNet linear: the layout, no numbers
    assert '65.52' not in ours
    assert '| relative-loc_resnet50_8xb64-steplr-70e_in1k | – | – | – | 65.52 | – |' in published
    # The generated block is all that changed: the hand-written text around it is kept.
    assert readme.startswith('# Relative Location\n') and '## Patch sampling' in readme
    zoo = outputs['docs/en/model_zoo.md']
    assert '65.52' not in zoo and '(../../configs/selfsup/npid/npid_resnet50_8xb32-steplr-200e_in1k.py)' in zoo


def test_replace_block_needs_exactly_one_pair_of_markers():
    block = f'{mz.BEGIN_MARKER}\nnew\n{mz.END_MARKER}'
    assert mz.replace_block(f'a\n{mz.BEGIN_MARKER}\nold\n{mz.END_MARKER}\nb', block, 'R.md') == f'a\n{block}\nb'
    with pytest.raises(mz.ModelZooError, match='R.md: expected exactly one'):
        mz.replace_block('no markers', block, 'R.md')
    with pytest.raises(mz.ModelZooError, match='end marker comes before'):
        mz.replace_block(f'{mz.END_MARKER}\n{mz.BEGIN_MARKER}', block, 'R.md')


def test_compare_published_puts_ours_beside_theirs(repo):
    text = mz.compare_published(str(repo))
    assert 'relative-loc_resnet50_8xb64-steplr-70e_in1k (published:' in text
    line = next(line for line in text.splitlines() if line.strip().startswith('feature4_k96'))
    assert line.split()[1:] == ['–', '59.28']
    path = repo / 'configs/selfsup/relative_loc/metafile.yml'
    edit_yaml(path, lambda d: d['Models'][0].update(Results=[dict(
        Task='SVM', Dataset='VOC07', Metrics={'feature4': 64.0}, Config='configs/benchmarks/classification/voc07/'
        'resnet50_svm_voc07.py')]))
    line = next(line for line in mz.compare_published(str(repo)).splitlines() if line.strip().startswith('feature4 '))
    assert line.split()[1:] == ['64.00', '65.52']


def test_a_row_of_several_runs_shows_mean_and_sample_std():
    runs = [record('linear_eval', {'accuracy/feature1/top1': value, 'accuracy/feature2/top1': 50.0})
            for value in (70.0, 72.0, 77.0)]
    tables = mz.run_tables({'demo (3 runs)': {'linear': runs}, 'single': {'linear': runs[:1]}}, None, str(REPO))
    row = next(line for line in tables.splitlines() if line.startswith('| demo (3 runs)'))
    # mean 73.00, sample std sqrt(((-3)² + (-1)² + 4²) / 2) = 3.61; identical runs: std 0.
    assert '| 73.00 ± 3.61 | 50.00 ± 0.00 |' in row
    assert '| 70.00 | 50.00 |' in next(line for line in tables.splitlines() if line.startswith('| single'))
    runs[1]['metrics'].pop('accuracy/feature2/top1')
    with pytest.raises(mz.ModelZooError, match='demo .3 runs.: the runs of .*resnet18_mhead.* report different'):
        mz.run_tables({'demo (3 runs)': {'linear': runs}}, None, str(REPO))

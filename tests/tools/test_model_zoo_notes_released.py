"""The model zoo's result notes (the grid point a selection run chose) and its released checkpoints (no mmssl
pre-training config, published numbers on ViT taps with their sources)."""
import pytest
import yaml
from builders.files import edit_yaml

from mmssl.benchmarks.records import write_result

RELLOC = 'configs/selfsup/relative_loc'
DEMO_MODEL = 'relative-loc_resnet18_1xb32-300it_fmnist-demo'
DEMO_CONFIG = f'{RELLOC}/{DEMO_MODEL}.py'
FMNIST = 'configs/benchmarks/classification/fashion_mnist'
RELEASED = 'configs/released'
DINO_S = 'dino_vit-small-p16_released'
KNN = 'configs/benchmarks/classification/knn'


def checkpoint(tmp_path):
    path = tmp_path / 'ckpt.pth'
    path.write_bytes(b'x')
    return str(path)


def demo_results(repo):
    models = yaml.safe_load((repo / RELLOC / 'metafile.yml').read_text())['Models']
    return next(model for model in models if model['Name'] == DEMO_MODEL)['Results']


# ----------------------------------------------------------------------------------------------- notes
def test_a_selection_record_keeps_its_chosen_points_as_notes_in_the_metafile_and_the_tables(mz, repo, tmp_path):
    metrics = {f'accuracy/{tap}/top1': value for tap, value in (('feature4', 81.0), ('feature5', 79.5))}
    write_result(str(tmp_path / 'result_linear_eval.json'), 'linear_eval', metrics,
                 checkpoint=checkpoint(tmp_path), pretrain_config=DEMO_CONFIG, dataset='Fashion-MNIST',
                 benchmark_config=f'{FMNIST}/resnet18_mhead-grid_1xb64-steplr-4e_fmnist-demo.py',
                 extra=dict(selected_lr=dict(feature4=0.1, feature5=0.3), selection=dict(rule='val')))
    write_result(str(tmp_path / 'result_probe.json'), 'probe', {'feature5/top1': 77.25},
                 checkpoint=checkpoint(tmp_path), pretrain_config=DEMO_CONFIG, dataset='Fashion-MNIST',
                 benchmark_config=f'{FMNIST}/resnet18_probe_fmnist-demo.py',
                 extra=dict(selected_C=dict(feature5=0.0316), selection=dict(rule='heldout')))
    mz.add_result(str(repo), str(tmp_path / 'result_linear_eval.json'), DEMO_MODEL)
    mz.add_result(str(repo), str(tmp_path / 'result_probe.json'), DEMO_MODEL)
    results = {result['Config'].rsplit('/', 1)[-1]: result for result in demo_results(repo)}
    assert results['resnet18_mhead-grid_1xb64-steplr-4e_fmnist-demo.py']['Notes'] == \
        {'feature4': 'lr 0.1†', 'feature5': 'lr 0.3†'}  # chosen on the split it is reported on: marked
    assert results['resnet18_probe_fmnist-demo.py']['Notes'] == {'feature5': 'C 0.0316'}
    mz.write_generated(str(repo))
    readme = (repo / RELLOC / 'README.md').read_text()
    assert '| 81.00 (lr 0.1†) | 79.50 (lr 0.3†) |' in readme and '77.25 (C 0.0316)' in readme
    assert 'the split the number is reported on' in readme
    # Measured again without a selection: the new number loses the old note, the other metric keeps its own.
    write_result(str(tmp_path / 'result_linear_eval.json'), 'linear_eval', {'accuracy/feature4/top1': 80.0},
                 checkpoint=checkpoint(tmp_path), pretrain_config=DEMO_CONFIG, dataset='Fashion-MNIST',
                 benchmark_config=f'{FMNIST}/resnet18_mhead-grid_1xb64-steplr-4e_fmnist-demo.py')
    mz.add_result(str(repo), str(tmp_path / 'result_linear_eval.json'), DEMO_MODEL)
    results = {result['Config'].rsplit('/', 1)[-1]: result for result in demo_results(repo)}
    assert results['resnet18_mhead-grid_1xb64-steplr-4e_fmnist-demo.py']['Notes'] == {'feature5': 'lr 0.3†'}
    assert mz.load_model_index(str(repo))  # the rewritten metafile is valid


@pytest.mark.parametrize('change,message', [
    (lambda r: r.update(Notes={'feature9': 'lr 0.1'}), "Notes name 'feature9', which is not one of its Metrics"),
    (lambda r: r.update(Notes={'feature1': 3}), "the note of 'feature1' must be text"),
    (lambda r: r.update(Notes='lr 0.1'), 'Notes must be a non-empty mapping'),
])
def test_malformed_notes_are_refused_naming_the_result(mz, repo, change, message):
    edit_yaml(repo / RELLOC / 'metafile.yml', lambda d: change(d['Models'][1]['Results'][0]), allow_unicode=True)
    with pytest.raises(mz.ModelZooError, match='relative_loc/metafile.yml: Models') as error:
        mz.load_model_index(str(repo))
    assert message in str(error.value)


# ----------------------------------------------------------------------------------------------- released
def test_released_checkpoints_show_their_published_numbers_with_sources_and_protocol_configs(mz, repo_root):
    zoo = mz.generate(str(repo_root))['docs/en/model_zoo.md']
    released = zoo[zoo.index('## Published numbers of released checkpoints'):]
    row = next(line for line in released.splitlines() if line.startswith(f'| [{DINO_S}]') and '77.00' in line)
    assert 'github.com/facebookresearch/dino/blob/7c446df5b9f45747937fb0d72314eb9f7b66930a/README.md' in row
    assert '77.00 (best epoch on val (best_acc)†)' in row
    assert 'k not stated in the README; stored as k20' in released
    assert '(../../configs/benchmarks/classification/knn/vit-small-p16_knn_in1k.py)' in released
    assert 'Standard benchmarks: ResNet-50' not in released
    # Ours stay apart: no released model has a row (of "–") in the measured tables.
    assert DINO_S not in zoo[:zoo.index('## Published numbers of released checkpoints')].split('## Results')[1]
    published = {name: results for metafile in mz.load_model_index(str(repo_root))
                 for name, results in metafile.published.items()}
    assert all(result.get('Source') and result.get('Config') for name, results in published.items()
               if name.endswith('_released') for result in results)


@pytest.mark.parametrize('change,message', [
    (lambda m: m.pop('Code'), 'a released checkpoint needs Code'),
    (lambda m: m.update(Weights=None), 'must say Weights: random (a randomly initialised backbone) or Weights: '
     'released'),
])
def test_a_released_model_must_name_its_source(mz, repo, change, message):
    edit_yaml(repo / RELEASED / 'metafile.yml', lambda d: change(d['Models'][0]), allow_unicode=True)
    with pytest.raises(mz.ModelZooError, match=f'{RELEASED}/metafile.yml: Models\\[0\\] \\({DINO_S}\\)') as error:
        mz.load_model_index(str(repo))
    assert message in str(error.value)


@pytest.mark.parametrize('index,metric,message', [
    (0, 'cls_lastx', "unknown metric 'cls_lastx'"),  # not a ViT tap
    (1, 'cls_last1', "unknown metric 'cls_last1'"),  # kNN has no column per tap
])
def test_published_vit_taps_only_in_tables_with_a_column_per_tap(mz, repo, index, metric, message):
    edit_yaml(repo / RELEASED / 'published.yml',
              lambda d: d['Models'][0]['Results'][index].update(Metrics={metric: 1.0}, Notes=None),
              allow_unicode=True)
    with pytest.raises(mz.ModelZooError, match='released/published.yml') as error:
        mz.load_model_index(str(repo))
    assert message in str(error.value)


def test_a_released_model_takes_records_of_a_checkpoint_without_a_pretraining_config(mz, repo, tmp_path):
    knn = f'{KNN}/vit-small-p16_knn_in1k.py'
    write_result(str(tmp_path / 'with_config.json'), 'knn', {'k20/top1': 70.0}, checkpoint=checkpoint(tmp_path),
                 pretrain_config=DEMO_CONFIG, benchmark_config=knn)
    with pytest.raises(mz.ModelZooError, match='the model is a released checkpoint'):
        mz.add_result(str(repo), str(tmp_path / 'with_config.json'), DINO_S)
    write_result(str(tmp_path / 'random.json'), 'knn', {'k20/top1': 0.1}, benchmark_config=knn)
    with pytest.raises(mz.ModelZooError, match='the record evaluates a random backbone but the model is a released'):
        mz.add_result(str(repo), str(tmp_path / 'random.json'), DINO_S)
    # Another protocol's number stands beside no published one; the same config's does.
    write_result(str(tmp_path / 'other.json'), 'knn', {'k20/top1': 71.5}, checkpoint=checkpoint(tmp_path),
                 benchmark_config=f'{KNN}/vit-base-p16_knn_in1k.py')
    mz.add_result(str(repo), str(tmp_path / 'other.json'), DINO_S)

    def k20_line():
        text = mz.compare_published(str(repo))
        section = text[text.index(f'{DINO_S} (published:'):]
        return next(line for line in section.splitlines() if line.strip().startswith('k20')).split()[1:]

    assert k20_line() == ['–', '74.50']
    write_result(str(tmp_path / 'same.json'), 'knn', {'k20/top1': 73.25}, checkpoint=checkpoint(tmp_path),
                 benchmark_config=knn)
    mz.add_result(str(repo), str(tmp_path / 'same.json'), DINO_S)
    assert k20_line() == ['73.25', '74.50']
    mz.write_generated(str(repo))
    zoo = (repo / 'docs/en/model_zoo.md').read_text()
    assert f'| [{DINO_S}](https://github.com/facebookresearch/dino/blob/' in zoo.split('## Results')[1]

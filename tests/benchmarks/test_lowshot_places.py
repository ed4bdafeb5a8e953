"""The Places205 low-shot SVM benchmark end to end on a tiny Places205 tree (official list layout, real JPEGs)."""
import json
import math
import shutil

import numpy as np
import pytest
from builders.checkpoints import save_resnet_checkpoint
from builders.datasets import make_places205

from mmssl.benchmarks import cli
from mmssl.benchmarks.records import read_result
from mmssl.evaluation.svm import generate_places_lowshot_samples

CONFIG = 'configs/benchmarks/classification/places205/resnet50_svm-lowshot_places205.py'
# Four train images per class: k=8 exceeds the smallest class and is skipped, as FAIR does.
TRAIN_PER_CLASS = 4
FAIR_PREFIX = '/datasets01_101/places205/121517/pytorch/images256'


@pytest.fixture(scope='module')
def places(tmp_path_factory):
    root = tmp_path_factory.mktemp('places')
    data = make_places205(str(root / 'places205'), train_per_class=TRAIN_PER_CLASS, val_per_class=2)
    save_resnet_checkpoint(str(root / 'r18.pth'), depth=18)
    data['checkpoint'] = str(root / 'r18.pth')
    return data


def benchmark_args(places, work_dir, *extra):
    """A ResNet-18 run of the shipped config on the tiny tree: two layers, two costs, two samples."""
    root = places['data_root']
    return [CONFIG, places['checkpoint'], '--work-dir', str(work_dir), '--layers', 'feature4', 'feature5',
            '--costs', '0.1,1', '--shots', '1', '2', '8', '--num-samples', '2', *map(str, extra), '--cfg-options',
            'model.backbone.depth=18', f'trainval_dataloader.dataset.data_root={root}',
            f'test_dataloader.dataset.data_root={root}', 'trainval_dataloader.num_workers=0',
            'test_dataloader.num_workers=0']


def train_ids(places):
    with open(f"{places['data_root']}/{places['train']['ann_file']}") as f:
        return [line.split()[0] for line in f if line.strip()]


@pytest.mark.slow
def test_checkpoint_to_record_extracts_only_the_sampled_images_and_resumes(places, tmp_path, capsys):
    metrics = cli.main('lowshot_places205', benchmark_args(places, tmp_path / 'work', '--seed', '3'))
    assert set(metrics) == {f'{layer}_k{k}' for layer in ('feature4', 'feature5') for k in (1, 2)}
    assert all(math.isfinite(value) and 0 <= value <= 100 for value in metrics.values())
    assert '| feature5 |' in capsys.readouterr().out

    # Only the union of the sampled train images was extracted, with one-hot labels and the list's paths as ids.
    list_ids, labels = train_ids(places), np.array(places['train_labels'])
    drawn = generate_places_lowshot_samples(labels, places['classes'], (1, 2), 2, seed=3)
    union = np.unique(np.concatenate([rows for k in drawn.shots for rows in drawn.rows[k]]))
    features = tmp_path / 'work' / 'features'
    assert (features / 'trainval_ids.txt').read_text().split() == [list_ids[r] for r in union]
    np.testing.assert_array_equal(np.load(features / 'trainval_labels.npy'),
                                  np.where(labels[union, None] == np.arange(3), 1, -1))
    assert np.load(features / 'trainval_feature5.npy').shape == (len(union), 512 * 2 * 2)
    assert len((features / 'test_ids.txt').read_text().split()) == 6
    assert json.loads((features / 'meta.json').read_text())['classes'] == list(places['classes'])

    record = read_result(str(tmp_path / 'work' / 'lowshot' / 'result_lowshot_svm_places205.json'))
    assert record['benchmark'] == 'lowshot_svm_places205' and record['dataset'] == 'Places205'
    assert record['metrics'] == pytest.approx(metrics)
    assert record['seeds'] == {'lowshot_samples': 3}
    extra = record['extra']
    assert extra['skipped_shots'] == [8] and extra['num_samples'] == 2 and extra['samples_sha1'] == drawn.digest()
    assert extra['train_images'] == len(union) and extra['train_list_images'] == 3 * TRAIN_PER_CLASS
    for k in ('1', '2'):
        shot = extra['summary']['feature5'][k]
        assert shot['min'] <= shot['mean'] <= shot['max'] and shot['std'] >= 0 and shot['chosen_cost'] in (0.1, 1.0)
    assert (tmp_path / 'work' / 'lowshot' / 'lowshot.png').is_file()

    # Resume: the features and every finished k are read back, not recomputed.
    stored = tmp_path / 'work' / 'lowshot' / 'feature5' / 'places205_lowshot_parts' / 'k2.json'
    content = json.loads(stored.read_text())
    content['mean'] = 12.5
    stored.write_text(json.dumps(content))
    again = cli.main('lowshot_places205', benchmark_args(places, tmp_path / 'work', '--seed', '3'))
    assert again['feature5_k2'] == 12.5 and again['feature4_k1'] == pytest.approx(metrics['feature4_k1'])

    # Features of other samples (a seed that needs an image not extracted) are refused, naming the folder's file.
    other = next(seed for seed in range(4, 100) if not set(np.concatenate(
        generate_places_lowshot_samples(labels, places['classes'], (1, 2), 2, seed).rows[2])) <= set(union))
    with pytest.raises(ValueError, match=r'features/trainval_ids.txt lacks 1 image\(s\) of the k=\d samples'):
        cli.main('lowshot_places205', benchmark_args(places, tmp_path / 'work', '--seed', str(other)))

    # Damaged features fail before any SVM is trained, naming the file.
    for damage, message in (('rows', r'test_feature5.npy has 5 rows but .*test_labels.npy has 6'),
                            ('nan', r'trainval_feature4.npy: NaN or inf in the features, first at row 1, column 3')):
        work = tmp_path / damage
        shutil.copytree(features, work / 'features')
        name = 'test_feature5.npy' if damage == 'rows' else 'trainval_feature4.npy'
        array = np.load(work / 'features' / name)
        if damage == 'rows':
            array = array[:-1]
        else:
            array[1, 3] = np.nan
        np.save(work / 'features' / name, array)
        with pytest.raises(ValueError, match=message):
            cli.main('lowshot_places205', benchmark_args(places, work, '--seed', '3'))
        assert not (work / 'lowshot').exists()


def write_fair_files(folder, places, samples, prefix=FAIR_PREFIX):
    """FAIR's sample files: full image paths, class by class, and their class indices; samples numbered from 1."""
    folder.mkdir()
    list_ids, labels = train_ids(places), np.array(places['train_labels'])
    for k in samples.shots:
        for s, rows in enumerate(samples.rows[k]):
            order = rows[np.argsort(labels[rows], kind='stable')]
            np.save(folder / f'train_images_sample{s + 1}_k{k}.npy', np.array([f'{prefix}/{list_ids[r]}'
                                                                              for r in order]))
            np.save(folder / f'train_labels_sample{s + 1}_k{k}.npy', labels[order])
    return folder


@pytest.mark.slow
def test_fair_sample_files_give_the_same_result_as_the_same_samples_drawn(places, tmp_path):
    labels = np.array(places['train_labels'])
    samples = generate_places_lowshot_samples(labels, places['classes'], (1, 2), 2, seed=5)
    fair = write_fair_files(tmp_path / 'fair', places, samples)
    from_files = cli.main('lowshot_places205', benchmark_args(places, tmp_path / 'files', '--samples', fair))
    drawn = cli.main('lowshot_places205', benchmark_args(places, tmp_path / 'drawn', '--seed', '5'))
    assert from_files == pytest.approx(drawn)
    record = read_result(str(tmp_path / 'files' / 'lowshot' / 'result_lowshot_svm_places205.json'))
    assert record['extra']['sample_dir'] == str(fair) and record['extra']['samples_sha1'] == samples.digest()
    assert record['seeds'] == {'lowshot_samples': None}


def test_a_sample_file_without_a_class_fails_before_extraction(places, tmp_path):
    labels = np.array(places['train_labels'])
    samples = generate_places_lowshot_samples(labels, places['classes'], (2, ), 1, seed=0)
    fair = write_fair_files(tmp_path / 'fair', places, samples)
    list_ids = train_ids(places)
    kept = [r for r in samples.rows[2][0] if labels[r] != 1]
    np.save(fair / 'train_images_sample1_k2.npy', np.array([list_ids[r] for r in kept]))
    np.save(fair / 'train_labels_sample1_k2.npy', labels[kept])
    with pytest.raises(ValueError, match=r"train_images_sample1_k2.npy: class 'airport_terminal' is missing from "
                                         'the sample'):
        cli.main('lowshot_places205', benchmark_args(places, tmp_path / 'work', '--samples', fair))
    assert not (tmp_path / 'work' / 'features').exists()


def test_a_memory_budget_too_small_fails_before_extraction(places, tmp_path):
    with pytest.raises(ValueError, match=r'feature4, k=2: max_memory=9.54e-05 GiB \(102400 bytes\) is too small for '
                                         r'the primal SVM solver: 6 rows x 2304 dims'):
        cli.main('lowshot_places205', benchmark_args(places, tmp_path / 'work', '--max-memory', '100K'))
    assert not (tmp_path / 'work' / 'features').exists()


def test_a_val_list_without_a_class_fails_before_extraction(places, tmp_path):
    with open(f"{places['data_root']}/{places['val']['ann_file']}") as f:
        lines = [line for line in f if line.strip() and not line.startswith('b/bakery/shop/')]
    val_list = tmp_path / 'val_without_bakery.csv'
    val_list.write_text(''.join(lines))
    args = benchmark_args(places, tmp_path / 'work') + [f'test_dataloader.dataset.ann_file={val_list}']
    with pytest.raises(ValueError, match=r"val_without_bakery.csv and .*train_places205.csv name different classes "
                                         r'\(2 vs 3\)'):
        cli.main('lowshot_places205', args)
    assert not (tmp_path / 'work' / 'features').exists()


def test_a_train_list_with_an_image_twice_fails_before_extraction(places, tmp_path):
    with open(f"{places['data_root']}/{places['train']['ann_file']}") as f:
        lines = [line for line in f if line.strip()]
    train_list = tmp_path / 'train_twice.csv'
    train_list.write_text(''.join(lines + lines[:1]))
    args = benchmark_args(places, tmp_path / 'work') + [f'trainval_dataloader.dataset.ann_file={train_list}']
    with pytest.raises(ValueError, match=r"train_twice.csv: image 'a/abbey/00000000.jpg' is listed twice"):
        cli.main('lowshot_places205', args)
    assert not (tmp_path / 'work' / 'features').exists()

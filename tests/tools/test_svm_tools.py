"""The SVM command-line tools over feature folders, and the checkpoint-to-table wrapper end to end."""
import json
import os.path as osp

import numpy as np
import pytest
import torch
from builders import REPO_ROOT as REPO
from builders.fashion_mnist import FASHION_MNIST_DIR, make_fashion_mnist
from builders.feature_folders import write_split

from mmssl.benchmarks.records import read_result
from mmssl.evaluation.svm import write_meta
from mmssl.evaluation.svm._synthetic import make_voc_like_features
from mmssl.models import ResNet

SVM_TOOLS = 'benchmarks/classification/svm_voc07'
FMNIST_SVM = 'configs/benchmarks/classification/fashion_mnist/resnet18_svm_voc07_fmnist-demo.py'
CLASSES = ['a', 'b', 'c']


def write_feature_dir(root, layers=('feature1', 'feature5'), num_train=150, num_test=90, seed=0):
    """A feature folder as extract.py writes it, with learnable synthetic features."""
    root.mkdir(parents=True)
    write_meta(str(root), CLASSES, list(layers), dict(config='cfg.py', checkpoint=None, pretrain_config=None))
    for split, count, offset in (('trainval', num_train, 0), ('test', num_test, 1)):
        features, labels = {}, None
        for k, layer in enumerate(layers):
            train_x, train_y, test_x, test_y = make_voc_like_features(
                num_train, num_test, 48 + 16 * k, num_classes=3, min_positives=10, signal=1.0, seed=seed)
            features[layer], labels = (train_x, train_y) if split == 'trainval' else (test_x, test_y)
        write_split(str(root), split, features, labels, [f'{split}{i:04d}' for i in range(count)])
    return root


def test_run_svm_writes_results_record_and_resumes(tmp_path, capsys, run_tool):
    features = write_feature_dir(tmp_path / 'features')
    results = run_tool(f'{SVM_TOOLS}/run_svm.py', features, '--work-dir', tmp_path / 'svm', '--costs', '0.01,0.1,1')
    assert set(results) == {'feature1', 'feature5'}
    table = capsys.readouterr().out
    assert '| VOC07 SVM mAP |' in table and f'{results["feature5"]["mAP"]:.2f}' in table
    per_class = results['feature5']['per_class']
    assert set(per_class) == set(CLASSES)
    for entry in per_class.values():
        assert entry['chosen_cost'] in (0.01, 0.1, 1.0) and 0 <= entry['test_ap'] <= 100
        assert len(entry['cv_fold_ap']) == 3 and len(entry['cv_ap']) == 3
    record = read_result(str(tmp_path / 'svm' / 'result_svm_voc07.json'))
    assert record['benchmark'] == 'svm_voc07' and record['benchmark_config'] == 'cfg.py'
    assert record['metrics'] == pytest.approx({k: v['mAP'] for k, v in results.items()})

    # Resume: a finished class is read back, not retrained (its stored AP is returned as it is).
    class_file = tmp_path / 'svm' / 'feature5' / 'classes' / 'b.json'
    stored = json.loads(class_file.read_text())
    stored['test_ap'] = 0.0
    class_file.write_text(json.dumps(stored))
    (tmp_path / 'svm' / 'feature5' / 'classes' / 'c.json').unlink()
    again = run_tool(f'{SVM_TOOLS}/run_svm.py', features, '--work-dir', tmp_path / 'svm', '--costs', '0.01,0.1,1',
                     '--layers', 'feature5')
    assert again['feature5']['per_class']['b']['test_ap'] == 0.0
    assert again['feature5']['per_class']['c']['test_ap'] == pytest.approx(per_class['c']['test_ap'], abs=1e-6)


def test_fast_and_sklearn_solvers_agree_through_the_tool(tmp_path, run_tool):
    features = write_feature_dir(tmp_path / 'features', layers=('feature5', ))
    fast = run_tool(f'{SVM_TOOLS}/run_svm.py', features, '--work-dir', tmp_path / 'fast', '--costs', 'voc07_11')
    reference = run_tool(f'{SVM_TOOLS}/run_svm.py', features, '--work-dir', tmp_path / 'ref', '--costs', 'voc07_11',
                         '--solver', 'sklearn', '--n-jobs', '1')
    assert abs(fast['feature5']['mAP'] - reference['feature5']['mAP']) < 0.05


def test_run_lowshot_plot_samples_and_record(tmp_path, capsys, run_tool):
    features = write_feature_dir(tmp_path / 'features', layers=('feature5', ))
    args = [features, '--shots', '1', '2', '--num-samples', '3', '--costs', '0.01,1', '--seed', '7']
    results = run_tool(f'{SVM_TOOLS}/run_lowshot.py', *args, '--work-dir', tmp_path / 'a', '--save-samples',
                       tmp_path / 's.json')
    shots = results['feature5']['shots']
    assert set(shots) == {'1', '2'} and len(shots['2']['sample_map']) == 3
    assert osp.getsize(tmp_path / 'a' / 'lowshot.png') > 1000
    assert '| feature5 |' in capsys.readouterr().out
    record = read_result(str(tmp_path / 'a' / 'result_lowshot_svm_voc07.json'))
    assert record['seeds'] == {'lowshot_samples': 7, 'random_init': 0}  # the features come from no checkpoint
    assert record['metrics']['feature5_k2'] == pytest.approx(shots['2']['mean'])
    # The saved samples reproduce the run exactly; legacy selection is recorded as such.
    replay = run_tool(f'{SVM_TOOLS}/run_lowshot.py', *args[:1], '--costs', '0.01,1', '--samples', tmp_path / 's.json',
                      '--work-dir', tmp_path / 'b', '--legacy-cost-selection')
    assert replay['feature5']['samples'] == results['feature5']['samples']
    assert replay['feature5']['shots']['2']['selection'].startswith('legacy')


@pytest.mark.parametrize('damage, message', [
    ('rows', r'test_feature5.npy has 89 rows but .*test_labels.npy has 90'),
    ('nan', r'test_feature1.npy: NaN or inf in the features, first at row 4'),
    ('layer', r"unknown layer\(s\) \['feature3'\]"),
])
def test_bad_features_fail_before_any_training(tmp_path, damage, message, run_tool):
    features = write_feature_dir(tmp_path / 'features')
    layers = []
    if damage == 'rows':
        np.save(features / 'test_feature5.npy', np.load(features / 'test_feature5.npy')[:-1])
    elif damage == 'nan':
        array = np.load(features / 'test_feature1.npy')
        array[4, 0] = np.inf
        np.save(features / 'test_feature1.npy', array)
    else:
        layers = ['--layers', 'feature1', 'feature3']
    with pytest.raises(ValueError, match=message):
        run_tool(f'{SVM_TOOLS}/run_svm.py', features, '--work-dir', tmp_path / 'svm', *layers)
    assert not (tmp_path / 'svm').exists()  # nothing was trained or written


@pytest.mark.slow
@pytest.mark.skipif(not osp.isdir(FASHION_MNIST_DIR), reason='Debian package dataset-fashion-mnist is not installed')
def test_checkpoint_to_tables_on_fashion_mnist_mosaics(tmp_path, capsys, run_tool):
    data = make_fashion_mnist(str(tmp_path / 'data'), per_class=16, idx_dir=FASHION_MNIST_DIR)
    backbone = ResNet(depth=18)
    backbone.init_weights()
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in backbone.state_dict().items()}},
               tmp_path / 'pretrain.pth')
    root = data['voc07']['data_root']
    run_tool(f'{SVM_TOOLS}/svm_benchmark.py', REPO / FMNIST_SVM, tmp_path / 'pretrain.pth', '--work-dir',
             tmp_path / 'work', '--shots', '1', '2', '--costs', 'voc07_11', '--cfg-options',
             f'trainval_dataloader.dataset.data_root={root}', f'test_dataloader.dataset.data_root={root}',
             'trainval_dataloader.num_workers=0', 'test_dataloader.num_workers=0')
    out = capsys.readouterr().out
    assert '| VOC07 SVM mAP |' in out and '| feature1 |' in out and 'k=2' in out
    svm = read_result(str(tmp_path / 'work' / 'svm' / 'result_svm_voc07.json'))
    assert set(svm['metrics']) == {f'feature{i}' for i in range(1, 6)}
    assert svm['checkpoint']['path'] == str(tmp_path / 'pretrain.pth')
    meta = json.loads((tmp_path / 'work' / 'features' / 'meta.json').read_text())
    assert meta['classes'] == list(data['classes']) and meta['source']['config'] == str(REPO / FMNIST_SVM)
    assert (tmp_path / 'work' / 'lowshot' / 'lowshot.png').is_file()


def test_random_backbone_is_the_same_network_every_time():
    from mmssl.benchmarks.feature_extraction import FeatureExtractor
    from mmssl.utils import load_backbone
    extractors = [FeatureExtractor(dict(type='ResNet', depth=18), ['feature5']) for _ in range(2)]
    torch.manual_seed(123)
    load_backbone(extractors[0].backbone, None)
    state = torch.random.get_rng_state()
    load_backbone(extractors[1].backbone, None)
    for a, b in zip(extractors[0].backbone.state_dict().values(), extractors[1].backbone.state_dict().values()):
        assert torch.equal(a, b)
    assert torch.equal(state, torch.random.get_rng_state())  # the caller's random stream is left alone


def test_a_failed_re_extraction_leaves_no_complete_looking_folder(tmp_path, repo_root):
    from mmengine.config import Config

    from mmssl.benchmarks.feature_extraction import extract_svm_features
    from mmssl.utils import CheckpointMismatchError
    features = write_feature_dir(tmp_path / 'features')
    backbone = ResNet(depth=50)
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in backbone.state_dict().items()}}, tmp_path / 'r50.pth')
    cfg = Config.fromfile(str(repo_root / FMNIST_SVM))  # a ResNet-18 config: the R50 checkpoint does not fit
    with pytest.raises(CheckpointMismatchError, match='shapes differ'):
        extract_svm_features(cfg, str(tmp_path / 'r50.pth'), str(features))
    assert not (features / 'meta.json').exists()  # the old meta.json no longer vouches for these files


def test_results_of_other_features_are_refused_and_recomputed_on_request(tmp_path, capsys, run_tool):
    first = write_feature_dir(tmp_path / 'a', layers=('feature5', ), seed=0)
    second = write_feature_dir(tmp_path / 'b', layers=('feature5', ), seed=1)  # same shapes, other values
    args = ['--work-dir', tmp_path / 'svm', '--costs', '0.1,1']
    run_tool(f'{SVM_TOOLS}/run_svm.py', first, *args)
    record = tmp_path / 'svm' / 'result_svm_voc07.json'
    before = record.read_bytes()
    capsys.readouterr()
    with pytest.raises(ValueError) as refused:
        run_tool(f'{SVM_TOOLS}/run_svm.py', second, *args)
    message = str(refused.value)
    assert f'{tmp_path / "svm" / "feature5" / "classes"} holds partial results of a different run' in message
    assert 'features_sha256: stored' in message and '--recompute' in message
    assert 'mAP' not in capsys.readouterr().out and record.read_bytes() == before

    recomputed = run_tool(f'{SVM_TOOLS}/run_svm.py', second, *args, '--recompute')
    fresh = run_tool(f'{SVM_TOOLS}/run_svm.py', second, '--work-dir', tmp_path / 'fresh', '--costs', '0.1,1')
    for name, entry in fresh['feature5']['per_class'].items():
        assert recomputed['feature5']['per_class'][name]['test_ap'] == pytest.approx(entry['test_ap'])
    assert read_result(str(record))['extra']['feature_dir'] == str(second)


def test_the_record_names_the_extracted_checkpoint_even_once_it_is_gone(tmp_path, monkeypatch, run_tool):
    from builders.checkpoints import save_resnet_checkpoint

    from mmssl.evaluation.feature_folder import checkpoint_source
    weights = tmp_path / 'a.pth'
    save_resnet_checkpoint(weights, depth=18)
    features = write_feature_dir(tmp_path / 'features', layers=('feature5', ))
    source = dict(config='cfg.py', checkpoint_format='mmssl', **checkpoint_source(str(weights)))
    write_meta(str(features), CLASSES, ['feature5'], source)
    save_resnet_checkpoint(weights, depth=18)  # the file no longer holds the weights the features came from
    with pytest.raises(ValueError, match=f'the features were extracted from {weights} with sha256 '
                       f'{source["checkpoint_sha256"]}'):
        run_tool(f'{SVM_TOOLS}/run_svm.py', features, '--work-dir', tmp_path / 'svm', '--costs', '1')
    assert not (tmp_path / 'svm').exists()

    weights.unlink()
    (tmp_path / 'elsewhere').mkdir()
    monkeypatch.chdir(tmp_path / 'elsewhere')  # nothing is resolved against the current directory
    run_tool(f'{SVM_TOOLS}/run_svm.py', '../features', '--work-dir', '../svm', '--costs', '1')
    record = read_result(str(tmp_path / 'svm' / 'result_svm_voc07.json'))
    assert record['checkpoint'] == {'path': str(weights), 'sha256': source['checkpoint_sha256']}
    assert record['extra']['feature_dir'] == str(features)

"""Benchmark launchers end to end on tiny real-format data: linear evaluation, SVM feature extraction."""
import json
import os
import sys

import numpy as np
import pytest
import torch
from builders import REPO_ROOT as REPO
from builders.checkpoints import save_resnet_checkpoint
from builders.datasets import make_voc07

from mmssl.benchmarks.records import read_result
from mmssl.utils import setup_runtime

TOOLS = 'benchmarks/classification'
MHEAD_DEMO = REPO / 'configs/benchmarks/classification/fashion_mnist/resnet18_mhead_1xb64-steplr-4e_fmnist-demo.py'
KNN_DEMO = REPO / 'configs/benchmarks/classification/fashion_mnist/resnet18_knn_fmnist-demo.py'
RELLOC_DEMO = 'configs/selfsup/relative_loc/relative-loc_resnet18_1xb32-300it_fmnist-demo.py'
SVM_CONFIG = REPO / 'configs/benchmarks/classification/voc07/resnet50_svm_voc07.py'

pytestmark = pytest.mark.slow


def linear_eval_args(data, pretrain, work_dir, *extra):
    options = [f'{loader}.dataset.data_root={data["data_root"]}' for loader in ('train_dataloader', 'val_dataloader')]
    options += ['train_dataloader.batch_size=4', 'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
                'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
                'train_dataloader.persistent_workers=False', 'val_dataloader.persistent_workers=False',
                'default_hooks.checkpoint.interval=1']
    return [f'{TOOLS}/linear_eval.py', MHEAD_DEMO, pretrain, '--work-dir', work_dir, *extra, '--cfg-options',
            *options]


@pytest.mark.parametrize('full', [True, False], ids=['full-checkpoint', 'backbone-only'])
def test_linear_eval_reports_six_heads_and_keeps_the_pretrained_backbone(tmp_path, fmnist_tiny, run_tool, full):
    expected = save_resnet_checkpoint(tmp_path / 'pretrain.pth', depth=18, full=full)
    run_tool(*linear_eval_args(fmnist_tiny, tmp_path / 'pretrain.pth', tmp_path / 'work', '--pretrain-config',
                               RELLOC_DEMO), process=True)
    record = read_result(str(tmp_path / 'work' / 'result_linear_eval.json'))
    assert record['benchmark'] == 'linear_eval'
    assert record['checkpoint']['path'] == str(tmp_path / 'pretrain.pth') and len(record['checkpoint']['sha256']) == 64
    assert record['pretrain_config'] == RELLOC_DEMO and record['benchmark_config'] == str(MHEAD_DEMO)
    assert record['seeds']['seed'] == 0
    metrics = record['metrics']
    heads = ['feature1', 'feature2', 'feature3', 'feature4', 'feature5', 'avgpool']
    assert all(0 <= metrics[f'accuracy/{head}/top1'] <= 100 for head in heads)
    assert 'time' not in metrics and 'data_time' not in metrics  # loop timings are not results
    setup_runtime()  # the checkpoint holds the message hub, which a weights-only load needs allow-listed
    trained = torch.load(tmp_path / 'work' / 'epoch_1.pth', weights_only=True)['state_dict']
    for key in ('conv1.weight', 'layer4.1.bn2.running_var'):
        assert torch.equal(trained[f'backbone.{key}'], expected[key]), key


def test_linear_eval_refuses_a_checkpoint_that_does_not_fit(tmp_path, fmnist_tiny, run_tool):
    save_resnet_checkpoint(tmp_path / 'r50.pth', depth=50)
    result = run_tool(*linear_eval_args(fmnist_tiny, tmp_path / 'r50.pth', tmp_path / 'work'), process=True,
                      expect_ok=False)
    assert result.returncode != 0
    assert 'does not fit ResNet' in result.stderr and 'shape mismatch' in result.stderr


def test_svm_extraction_single_and_two_processes_agree(tmp_path, run_tool):
    voc = make_voc07(str(tmp_path / 'voc'))
    save_resnet_checkpoint(tmp_path / 'pretrain.pth', depth=50)
    options = ['--cfg-options', f'trainval_dataloader.dataset.data_root={voc["data_root"]}',
               f'test_dataloader.dataset.data_root={voc["data_root"]}', 'trainval_dataloader.num_workers=0',
               'test_dataloader.num_workers=0', 'trainval_dataloader.batch_size=3', 'test_dataloader.batch_size=3']
    layers = ['--layers', 'feature1', 'feature5']
    run_tool(f'{TOOLS}/svm_voc07/extract.py', SVM_CONFIG, tmp_path / 'pretrain.pth', '--out', tmp_path / 'one', *layers,
             *options)
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(29600 + os.getpid() % 1000))
    run_tool(f'{TOOLS}/svm_voc07/dist_extract.sh', SVM_CONFIG, tmp_path / 'pretrain.pth', 2, '--out', tmp_path / 'two',
             *layers, *options, process=True, env=env)

    meta = json.loads((tmp_path / 'one' / 'meta.json').read_text())
    assert meta['layers'] == ['feature1', 'feature5'] and len(meta['classes']) == 20
    for split, count in (('trainval', 8), ('test', 6)):
        labels = np.load(tmp_path / 'one' / f'{split}_labels.npy')
        assert labels.dtype == np.int8 and labels.shape == (count, 20)
        np.testing.assert_array_equal(labels, voc['labels'][split])
        ids = (tmp_path / 'one' / f'{split}_ids.txt').read_text().split()
        assert ids == list(voc['ids'][split])
        for layer, dim in (('feature1', 9216), ('feature5', 8192)):
            one = np.load(tmp_path / 'one' / f'{split}_{layer}.npy', mmap_mode='r')
            two = np.load(tmp_path / 'two' / f'{split}_{layer}.npy', mmap_mode='r')
            assert one.dtype == np.float32 and one.shape == (count, dim)
            np.testing.assert_allclose(np.linalg.norm(one, axis=1), 1, atol=1e-4)
            np.testing.assert_allclose(one, two, atol=1e-5)


def test_semi_supervised_grid_runs_points_resumes_and_reports_best(tmp_path, run_tool):
    from builders.datasets import make_imagenet
    data = make_imagenet(str(tmp_path / 'imagenet'), train_per_class=1, val_per_class=1)
    save_resnet_checkpoint(tmp_path / 'pretrain.pth', depth=50)
    options = [f'{loader}.dataset.data_root={data["data_root"]}' for loader in ('train_dataloader', 'val_dataloader')]
    options += ['train_dataloader.batch_size=2', 'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
                'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
                'train_dataloader.persistent_workers=False', 'val_dataloader.persistent_workers=False',
                'default_hooks.checkpoint.interval=1']
    grid = REPO / 'configs/benchmarks/classification/imagenet/imagenet_1percent'
    cmd = [f'{TOOLS}/semi_sup_grid.py', grid, tmp_path / 'pretrain.pth', '--lrs', '1e-2',
           '--heads', '1', '10', '--work-dir', tmp_path / 'grid', '--cfg-options', *options]
    result = run_tool(*cmd, process=True)
    record = read_result(str(tmp_path / 'grid' / 'result_semi_sup.json'))
    grid = record['extra']
    assert record['benchmark'] == 'semi_sup' and grid['subset'] == '1%'
    assert [(p['lr'], p['head_lr_mult']) for p in grid['points']] == [(0.01, 1), (0.01, 10)]
    assert grid['best'] in grid['points']
    assert grid['best']['top1'] == max(p['top1'] for p in grid['points'])
    assert record['metrics'] == {'top1': grid['best']['top1'], 'top5': grid['best']['top5']}
    assert record['benchmark_config'] == grid['best']['config']
    assert record['checkpoint']['path'] == str(tmp_path / 'pretrain.pth')
    assert record['seeds'] == {'seed': 0, 'diff_rank_seed': True, 'deterministic': True}
    assert '<- best' in result.stdout
    # A second call finds both points finished and trains nothing.
    again = run_tool(*cmd, process=True)
    assert 'Epoch(train)' not in again.stdout + again.stderr


def test_knn_writes_a_result_record(tmp_path, fmnist_tiny, run_tool):
    save_resnet_checkpoint(tmp_path / 'pretrain.pth', depth=18)
    options = [f'{loader}.dataset.data_root={fmnist_tiny["data_root"]}'
               for loader in ('train_dataloader', 'val_dataloader')]
    options += ['train_dataloader.num_workers=0', 'val_dataloader.num_workers=0', 'knn.ks=[1,2]']
    result = run_tool(f'{TOOLS}/knn.py', KNN_DEMO, tmp_path / 'pretrain.pth', '--work-dir', tmp_path / 'knn',
                      '--pretrain-config', RELLOC_DEMO, '--cfg-options', *options, process=True)
    record = read_result(str(tmp_path / 'knn' / 'result_knn.json'))
    assert record['benchmark'] == 'knn' and record['benchmark_config'] == str(KNN_DEMO)
    assert record['pretrain_config'] == RELLOC_DEMO
    assert record['checkpoint']['path'] == str(tmp_path / 'pretrain.pth')
    assert sorted(record['metrics']) == ['k1/top1', 'k1/top5', 'k2/top1', 'k2/top5']
    assert record['extra']['ks'] == [1, 2]
    assert 'k1/top1:' in result.stdout


def test_knn_records_a_random_backbone_as_no_checkpoint(tmp_path, fmnist_tiny, run_tool):
    options = [f'{loader}.dataset.data_root={fmnist_tiny["data_root"]}'
               for loader in ('train_dataloader', 'val_dataloader')]
    options += ['train_dataloader.num_workers=0', 'val_dataloader.num_workers=0', 'knn.ks=[1]']
    run_tool(f'{TOOLS}/knn.py', KNN_DEMO, 'none', '--work-dir', tmp_path / 'knn', '--cfg-options', *options)
    record = read_result(str(tmp_path / 'knn' / 'result_knn.json'))
    assert record['checkpoint'] is None and record['pretrain_config'] is None


@pytest.mark.parametrize('tool', ['knn', 'linear_eval'])
def test_a_tool_run_reads_the_checkpoint_once(tmp_path, fmnist_tiny, run_tool, monkeypatch, tool):
    import hashlib

    from mmssl.utils.checkpoint import reading as loader
    save_resnet_checkpoint(tmp_path / 'pretrain.pth', depth=18)
    loader._last_read.clear()
    reads = []
    read_bytes = loader._read_bytes
    monkeypatch.setattr(loader, '_read_bytes', lambda path: reads.append(path) or read_bytes(path))
    if tool == 'knn':
        options = [f'{split}_dataloader.dataset.data_root={fmnist_tiny["data_root"]}' for split in ('train', 'val')]
        run_tool(f'{TOOLS}/knn.py', KNN_DEMO, tmp_path / 'pretrain.pth', '--work-dir', tmp_path / 'work',
                 '--cfg-options', *options, 'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
                 'knn.ks=[1]')
        record = read_result(str(tmp_path / 'work' / 'result_knn.json'))
    else:
        run_tool(*linear_eval_args(fmnist_tiny, tmp_path / 'pretrain.pth', tmp_path / 'work'))
        record = read_result(str(tmp_path / 'work' / 'result_linear_eval.json'))
    assert reads == [str(tmp_path / 'pretrain.pth')]
    assert record['checkpoint']['sha256'] == hashlib.sha256((tmp_path / 'pretrain.pth').read_bytes()).hexdigest()

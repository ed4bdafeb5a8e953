"""A work dir's features and partial results serve exactly the input they were made from: another reading of the
same checkpoint file, a ``--cfg-options`` override of the data set, or another list file of the same length is
refused before any work, naming the old and the new value, and ``--recompute`` gives the number of a clean work dir.
"""
import inspect
import json

import numpy as np
import pytest
import torch
from builders.checkpoints import save_resnet_checkpoint
from builders.fashion_mnist import make_fashion_mnist
from builders.reuse_inputs import FMNIST_SVM, rewrite_list_same_length, save_two_weight_sets, svm_args, voc_tree

from mmssl.benchmarks import cli

KNN_DEMO = 'configs/benchmarks/classification/fashion_mnist/resnet18_knn_fmnist-demo.py'


def files_of(work_dir):
    return sorted(str(p.relative_to(work_dir)) for p in work_dir.rglob('*') if p.is_file())


@pytest.mark.parametrize('benchmark', ['svm', 'lowshot'])
def test_another_checkpoint_key_of_the_same_file_is_refused_then_recomputed(tmp_path, repo_root, capsys, benchmark):
    checkpoint = save_two_weight_sets(tmp_path / 'two.pth')
    data_root = voc_tree(tmp_path / 'voc', seed=0)
    work = tmp_path / 'work'
    first = cli.main(benchmark, svm_args(repo_root, benchmark, checkpoint, work, data_root,
                                         '--checkpoint-key', 'model'))
    before = files_of(work)
    capsys.readouterr()

    with pytest.raises(ValueError) as refused:
        cli.main(benchmark, svm_args(repo_root, benchmark, checkpoint, work, data_root,
                                     '--checkpoint-key', 'state_dict'))
    message = str(refused.value)
    assert f'{work / "features"} holds other features' in message and '--recompute' in message
    assert ("the checkpoint was read as layout 'mmssl' with --checkpoint-key 'model' when extracted, as layout "
            "'mmssl' with --checkpoint-key 'state_dict' now") in message
    assert 'resuming' not in capsys.readouterr().out and files_of(work) == before

    recomputed = cli.main(benchmark, svm_args(repo_root, benchmark, checkpoint, work, data_root,
                                              '--checkpoint-key', 'state_dict', '--recompute'))
    clean = cli.main(benchmark, svm_args(repo_root, benchmark, checkpoint, tmp_path / 'clean', data_root,
                                         '--checkpoint-key', 'state_dict'))
    assert recomputed == pytest.approx(clean) and recomputed != pytest.approx(first)
    source = json.loads((work / 'features' / 'meta.json').read_text())['source']
    assert source['checkpoint_reading'] == dict(layout='mmssl', checkpoint_format=None, prefix=None,
                                                key_path='state_dict')


@pytest.mark.parametrize('benchmark', ['svm', 'lowshot'])
def test_a_data_root_override_is_refused_then_recomputed_and_recorded(tmp_path, repo_root, capsys, benchmark):
    checkpoint = tmp_path / 'r18.pth'
    torch.manual_seed(0)
    save_resnet_checkpoint(checkpoint, depth=18)
    first_root, other_root = voc_tree(tmp_path / 'voc', seed=0), voc_tree(tmp_path / 'other', seed=1)
    work = tmp_path / 'work'
    first = cli.main(benchmark, svm_args(repo_root, benchmark, checkpoint, work, first_root))
    before, old_labels = files_of(work), np.load(work / 'features' / 'test_labels.npy')
    capsys.readouterr()

    with pytest.raises(ValueError) as refused:
        cli.main(benchmark, svm_args(repo_root, benchmark, checkpoint, work, first_root, test_root=other_root))
    message = str(refused.value)
    assert f'{work / "features"} holds other features' in message and '--recompute' in message
    assert f"config test_dataloader.dataset.data_root: '{first_root}' when extracted, '{other_root}' now" in message
    assert f'{other_root}/ImageSets/Main/test.txt (sha256 ' in message  # a list file read now, not then
    assert 'resuming' not in capsys.readouterr().out and files_of(work) == before

    recomputed = cli.main(benchmark, svm_args(repo_root, benchmark, checkpoint, work, first_root, '--recompute',
                                              test_root=other_root))
    clean = cli.main(benchmark, svm_args(repo_root, benchmark, checkpoint, tmp_path / 'clean', first_root,
                                         test_root=other_root))
    assert recomputed == pytest.approx(clean)
    source = json.loads((work / 'features' / 'meta.json').read_text())['source']
    assert source['config_parts']['test_dataloader.dataset']['data_root'] == str(other_root)
    # The two trees hold the same images (noise seeded by image id) under other labels; six test images give a
    # coarse mAP, so the new number may equal the old one by chance: the labels it was computed on do not.
    assert first.keys() == recomputed.keys()
    assert not np.array_equal(np.load(work / 'features' / 'test_labels.npy'), old_labels)
    record_file = {'svm': 'svm/result_svm_voc07.json', 'lowshot': 'lowshot/result_lowshot_svm_voc07.json'}[benchmark]
    extra = json.loads((work / record_file).read_text())['extra']
    assert extra['cfg_options']['test_dataloader.dataset.data_root'] == str(other_root)
    assert len(extra['config_sha256']) == 64
    assert f'{other_root}/ImageSets/Main/test.txt' in extra['data_files']
    assert extra['checkpoint_reading'] == dict(layout='mmssl', checkpoint_format=None, prefix=None, key_path=None)


def knn_args(repo_root, data_root, checkpoint, work_dir, *extra):
    options = [f'{split}_dataloader.dataset.data_root={data_root}' for split in ('train', 'val')]
    return [str(repo_root / KNN_DEMO), str(checkpoint), '--work-dir', str(work_dir), *extra, '--cfg-options',
            *options, 'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0', 'knn.ks=[1,3]']


def test_knn_with_another_val_list_of_the_same_length_is_refused_then_recomputed(tmp_path, repo_root, capsys):
    data = make_fashion_mnist(str(tmp_path / 'fmnist'), per_class=2, voc07=False)
    checkpoint = save_two_weight_sets(tmp_path / 'two.pth')
    work = tmp_path / 'knn'
    first = cli.main('knn', knn_args(repo_root, data['data_root'], checkpoint, work, '--checkpoint-key', 'model'))
    val_list = tmp_path / 'fmnist' / 'fashion_mnist' / 'meta' / 'val.txt'
    old_sha = json.loads((work / 'meta.json').read_text())['source']['data_files'][str(val_list)]
    capsys.readouterr()

    rewrite_list_same_length(data['data_root'], 'meta/val.txt', 'meta/train.txt')
    with pytest.raises(ValueError) as refused:
        cli.main('knn', knn_args(repo_root, data['data_root'], checkpoint, work, '--checkpoint-key', 'model'))
    message = str(refused.value)
    assert f'{work} holds other features' in message and '--recompute' in message
    assert f'{val_list}: sha256 {old_sha} when extracted, ' in message
    assert 'top1' not in capsys.readouterr().out

    recomputed = cli.main('knn', knn_args(repo_root, data['data_root'], checkpoint, work, '--checkpoint-key',
                                          'model', '--recompute'))
    clean = cli.main('knn', knn_args(repo_root, data['data_root'], checkpoint, tmp_path / 'clean',
                                     '--checkpoint-key', 'model'))
    assert recomputed == pytest.approx(clean) and recomputed != pytest.approx(first)
    record = json.loads((work / 'result_knn.json').read_text())
    assert record['extra']['data_files'][str(val_list)] != old_sha
    assert record['extra']['cfg_options']['knn.ks'] == [1, 3]


def test_recompute_is_a_shared_option_passed_to_the_benchmarks_that_reuse_work(repo_root):
    reusing = {'svm', 'lowshot', 'svm_coco2014', 'lowshot_places205', 'knn'}
    for name in cli.benchmark_names():
        benchmark = cli.get_benchmark(name)
        args = cli.build_parser(benchmark).parse_args([str(repo_root / FMNIST_SVM), 'none', '--recompute'])
        options = cli._own_options(benchmark, args)
        if name in reusing:
            assert options['recompute'] is True, name
        elif 'recompute' not in inspect.signature(benchmark.run).parameters:
            assert 'recompute' not in options, name

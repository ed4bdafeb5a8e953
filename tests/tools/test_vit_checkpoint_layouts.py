"""Vision Transformer checkpoint layouts through the real tools (the ViT counterpart of test_checkpoint_layouts.py):
on every layout, knn.py, the SVM feature extraction and the probe (``python -m mmssl.benchmarks probe``) give timm's
class token of the file's network and linear_eval.py trains one step on its frozen weights; run_suite.py takes all
layouts as runs of one row, each run's probe giving the same number. Each tool records the layout it detected. The
files are written from one timm ViT (ViT-Tiny width, two blocks, 4-px patches at 32 px) as each project's own code
writes them (``builders.vit_checkpoints``).
"""
import json

import numpy as np
import pytest
import torch
import yaml
from builders import REPO_ROOT
from builders.fashion_mnist import make_fashion_mnist
from builders.vit_checkpoints import TINY, VIT_LAYOUTS
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from mmssl.benchmarks.cli import entry_point as benchmark_entry_point
from mmssl.benchmarks.records import read_result
from mmssl.registry import DATASETS, MODELS
from mmssl.utils import read_checkpoint, register_all_modules

pytestmark = pytest.mark.slow

DEMOS = REPO_ROOT / 'configs/benchmarks/classification/fashion_mnist'
# The demo configs' ViT-Tiny (12 blocks) as the files' two-block network.
TWO_BLOCKS = f'model = dict(backbone=dict(arch=dict(_delete_=True, **{TINY!r})))\n'


def loader(split: str, data_root: str, batch_size: int = 64, dataset: str = '') -> str:
    """One ``{split}_dataloader`` assignment (a second one in the same file would replace it, not merge)."""
    return (f'{split}_dataloader = dict(batch_size={batch_size}, num_workers=0, persistent_workers=False, '
            f'dataset=dict(data_root={data_root!r}{dataset}))\n')


@pytest.fixture(scope='module')
def configs(tmp_path_factory):
    """The ViT-Tiny demo configs (kNN, VOC07 SVM extraction, probe) and a multi-head linear config on cls_last1,
    each at two blocks and on a tiny Fashion-MNIST tree (one photo per class and split, and its mosaics)."""
    root = tmp_path_factory.mktemp('vit_configs')
    data = make_fashion_mnist(str(root / 'data'), per_class=1, voc07=True)
    images = ''.join(loader(split, data['data_root']) for split in ('train', 'val'))
    mosaics = ''.join(loader(split, data['voc07']['data_root']) for split in ('trainval', 'test'))
    texts = dict(
        knn=f"_base_ = [{str(DEMOS / 'vit-tiny-p4_knn_fmnist-demo.py')!r}]\n{TWO_BLOCKS}{images}knn = dict(ks=(1, ))\n",
        svm=f"_base_ = [{str(DEMOS / 'vit-tiny-p4_svm_voc07_fmnist-demo.py')!r}]\n{TWO_BLOCKS}{mosaics}",
        # Two photos per class cannot spare a held-out split: C is fitted on train, one point.
        probe=f"_base_ = [{str(DEMOS / 'vit-tiny-p4_probe_fmnist-demo.py')!r}]\n{TWO_BLOCKS}{images}"
              "probe = dict(taps=['cls_last1'], selection='val', costs=[1.0])\n",
        # The ResNet demo's recipe on the files' network at its 32 px (the ResNet demo resizes to 112).
        linear=f"_base_ = [{str(DEMOS / 'resnet18_mhead_1xb64-steplr-4e_fmnist-demo.py')!r}]\n"
               "model = dict(backbone=dict(_delete_=True, type='VisionTransformer', "
               f"arch={TINY!r}, patch_size=4, img_size=32, out_taps=['cls_last1']), "
               "head=dict(with_avgpool_head=False))\n"
               "pipeline = [dict(type='LoadImageFromFile'), dict(type='ResizeEdge', scale=32, edge='short'), "
               "dict(type='PackInputs')]\n"
               f"{loader('train', data['data_root'], batch_size=4, dataset=', pipeline=pipeline')}"
               f"{loader('val', data['data_root'], dataset=', pipeline=pipeline')}"
               "train_cfg = dict(max_epochs=1)\ndefault_hooks = dict(checkpoint=dict(interval=1))\n")
    paths = {}
    for name, text in texts.items():
        paths[name] = root / f'vit-tiny-2blocks_{name}_fmnist.py'
        paths[name].write_text(text)
    return {name: str(path) for name, path in paths.items()}


def timm_class_tokens(source, loader_cfg: dict, data_preprocessor: dict) -> np.ndarray:
    """timm's last class token (after the final norm) on a loader's images, preprocessed as mmssl does, L2-normalised
    as the feature folders store it."""
    register_all_modules()
    dataset = DATASETS.build(loader_cfg['dataset'])
    images = MODELS.build(data_preprocessor)(pseudo_collate([dataset[i] for i in range(len(dataset))]))['inputs']
    with torch.no_grad():
        cls = source.forward_features(images)[:, 0]
    return (cls / (cls.norm(dim=1, keepdim=True) + 1e-5)).numpy()


def check_knn(source, path, layout, config, run_tool, work_dir):
    run_tool('benchmarks/classification/knn.py', config, path, '--work-dir', work_dir)
    assert read_result(str(work_dir / 'result_knn.json'))['extra']['checkpoint_format'] == VIT_LAYOUTS[layout]
    cfg = Config.fromfile(config)
    expected = timm_class_tokens(source, cfg.train_dataloader, cfg.model.data_preprocessor)
    np.testing.assert_allclose(np.load(work_dir / 'train_cls_last1.npy'), expected, atol=1e-5, rtol=0)


def check_extract(source, path, config, run_tool, work_dir):
    run_tool('benchmarks/classification/svm_voc07/extract.py', config, path, '--out', work_dir, '--layers',
             'cls_last1', '--splits', 'trainval')
    cfg = Config.fromfile(config)
    expected = timm_class_tokens(source, cfg.trainval_dataloader, cfg.model.data_preprocessor)
    np.testing.assert_allclose(np.load(work_dir / 'trainval_cls_last1.npy'), expected, atol=1e-5, rtol=0)


def check_linear(source, path, config, run_tool, work_dir):
    run_tool('benchmarks/classification/linear_eval.py', config, path, '--work-dir', work_dir)
    trained = read_checkpoint(str(work_dir / 'epoch_1.pth')).content['state_dict']
    for key, value in source.state_dict().items():  # the frozen backbone is the file's network (timm's head aside)
        if not key.startswith('head.'):
            assert torch.equal(trained[f'backbone.{key}'], value), key


def check_probe(source, path, layout, config, work_dir):
    metrics = benchmark_entry_point(['probe', config, path, '--work-dir', str(work_dir)])
    assert read_result(str(work_dir / 'result_probe.json'))['extra']['checkpoint_format'] == VIT_LAYOUTS[layout]
    assert 0 <= metrics['cls_last1/top1'] <= 100
    cfg = Config.fromfile(config)
    expected = timm_class_tokens(source, cfg.train_dataloader, cfg.model.data_preprocessor)
    np.testing.assert_allclose(np.load(work_dir / 'features' / 'train_cls_last1.npy'), expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize('layout', list(VIT_LAYOUTS))
def test_every_tool_reads_every_vit_layout_as_the_timm_model(layout, vit_source, vit_layouts, configs, run_tool,
                                                             tmp_path, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    path = vit_layouts[layout]
    check_knn(vit_source, path, layout, configs['knn'], run_tool, tmp_path / 'knn')
    check_extract(vit_source, path, configs['svm'], run_tool, tmp_path / 'features')
    check_linear(vit_source, path, configs['linear'], run_tool, tmp_path / 'linear')
    check_probe(vit_source, path, layout, configs['probe'], tmp_path / 'probe')


def test_the_suite_takes_every_vit_layout_as_runs_of_one_network(vit_layouts, configs, run_tool, tmp_path, capsys):
    """run_suite.py with the 13 files as runs of one row: each run's probe (a child process of the suite) detects its
    layout, and all give one number (std 0)."""
    suite = tmp_path / 'suite.yml'
    suite.write_text(yaml.safe_dump({'probe': configs['probe']}))
    # The row's name: the files' network has no pre-training config of the repository.
    pretrain = tmp_path / 'vit-tiny-2blocks_random.py'
    pretrain.write_text(f"_base_ = [{str(REPO_ROOT / 'configs/_base_/models/vit-tiny-p4.py')!r}]\n{TWO_BLOCKS}")
    paths = list(vit_layouts.values())
    run_tool('benchmarks/run_suite.py', pretrain, *paths, '--benchmarks', 'probe', '--suite', suite, '--work-dir',
             tmp_path / 'work')
    rows = json.loads((tmp_path / 'work' / 'records.json').read_text())['rows']
    records = rows[f'vit-tiny-2blocks_random ({len(paths)} runs)']['probe']
    assert [record['checkpoint']['path'] for record in records] == paths
    assert [record['extra']['checkpoint_format'] for record in records] == list(VIT_LAYOUTS.values())
    assert len({record['metrics']['cls_last1/top1'] for record in records}) == 1
    assert '± 0.00' in capsys.readouterr().out

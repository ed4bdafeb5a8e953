"""CheckedRunner: ``load_from`` goes through the checked loader (>= 90% of the model's keys)."""
import pytest
import torch
from builders.checkpoints import save_resnet_checkpoint
from builders.datasets import make_imagenet
from builders.runs import tiny_train_config

from mmssl.engine.runner import CheckedRunner
from mmssl.engine.train import train
from mmssl.utils import CheckpointMismatchError, register_all_modules


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    return make_imagenet(str(tmp_path_factory.mktemp('imagenet')), train_per_class=1, size=16)


def test_load_from_matching_no_key_fails_naming_the_file(tmp_path, tiny_data):
    register_all_modules(init_default_scope=False)
    backbone_only = tmp_path / 'resnet18.pth'
    save_resnet_checkpoint(backbone_only, depth=18, full=False)  # conv1.weight ...: no model key is backbone.conv1
    cfg = tiny_train_config(tiny_data, tmp_path / 'work', max_iters=1, load_from=str(backbone_only))
    with pytest.raises(CheckpointMismatchError, match=rf'{backbone_only} does not fit ImageClassifier: fewer than 90% '
                       r'of its keys match.*matched 0/\d+ module keys.*Not loaded: backbone \(0/\d+ keys\), head'):
        train(cfg)
    assert not (tmp_path / 'work' / 'iter_1.pth').exists()


def test_load_from_a_fitting_checkpoint_loads_it_and_keeps_the_report(tmp_path, tiny_data):
    register_all_modules(init_default_scope=False)
    full = tmp_path / 'full.pth'
    backbone = save_resnet_checkpoint(full, depth=18)  # backbone.* only: the 2 head keys stay initialised
    runner = CheckedRunner.from_cfg(tiny_train_config(tiny_data, tmp_path / 'work', load_from=str(full)))
    runner.load_or_resume()
    assert torch.equal(runner.model.backbone.conv1.weight, backbone['conv1.weight'])
    assert runner.load_report.not_loaded_modules() == {'head': 2}

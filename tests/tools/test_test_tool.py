"""tools/test.py evaluates only a checkpoint that holds every key of the model."""
import pytest
import torch
from builders.checkpoints import save_resnet_checkpoint
from builders.datasets import make_imagenet
from builders.runs import tiny_train_config

from mmssl.utils import CheckpointMismatchError


def write_test_config(tmp_path):
    data = make_imagenet(str(tmp_path / 'data'), train_per_class=1, val_per_class=1, size=16)
    cfg = tiny_train_config(data, tmp_path / 'work')
    cfg.val_dataloader = dict(cfg.train_dataloader, sampler=dict(type='DefaultSampler', shuffle=False))
    cfg.val_evaluator, cfg.val_cfg = dict(type='Accuracy', topk=(1, )), dict()
    path = tmp_path / 'tiny_config.py'
    cfg.dump(str(path))
    return path


def test_a_backbone_only_checkpoint_is_refused_naming_the_missing_modules(tmp_path, run_tool):
    config = write_test_config(tmp_path)
    save_resnet_checkpoint(tmp_path / 'pretrain.pth', depth=18)  # backbone.* keys, no head
    with pytest.raises(CheckpointMismatchError, match=r'pretrain.pth does not fit ImageClassifier: fewer than 100% '
                       r'of its keys match; matched 120/122.*Not loaded: head \(0/2 keys\)'):
        run_tool('test.py', config, tmp_path / 'pretrain.pth', '--work-dir', tmp_path / 'test')


def test_a_complete_checkpoint_is_evaluated(tmp_path, run_tool):
    from mmengine.config import Config

    from mmssl.registry import MODELS
    from mmssl.utils import register_all_modules
    config = write_test_config(tmp_path)
    register_all_modules()
    model = MODELS.build(Config.fromfile(str(config)).model)
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, tmp_path / 'model.pth')
    metrics = run_tool('test.py', config, tmp_path / 'model.pth', '--work-dir', tmp_path / 'test')
    assert 'accuracy/top1' in metrics

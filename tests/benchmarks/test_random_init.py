"""The baseline row: every benchmark of it evaluates one and the same seeded random network."""
import torch
from mmengine.config import Config

from mmssl.benchmarks.feature_extraction import FeatureExtractor
from mmssl.benchmarks.linear import set_backbone_checkpoint
from mmssl.registry import MODELS
from mmssl.utils import BackboneWeights, convert_sync_bn_cfg, load_backbone, register_all_modules

CONFIGS = 'configs/benchmarks/classification'


def extraction_backbone(config: str) -> dict:
    """The random backbone the SVM / kNN benchmarks evaluate (checkpoint ``none``)."""
    cfg = Config.fromfile(config)
    extractor = FeatureExtractor(cfg.model.backbone, ['feature5'])
    load_backbone(extractor.backbone, None)
    return extractor.backbone.state_dict()


def runner_backbone(config: str) -> dict:
    """The random backbone the Runner builds for the linear / semi-supervised benchmarks (checkpoint ``none``)."""
    cfg = set_backbone_checkpoint(Config.fromfile(config), None)
    model = MODELS.build(convert_sync_bn_cfg(cfg.model))
    torch.manual_seed(1234)  # the Runner's own seed must not matter
    model.init_weights()
    return model.backbone.state_dict()


def assert_same_network(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_linear_and_svm_rows_of_the_demo_evaluate_the_same_network(repo_root):
    register_all_modules()
    svm = extraction_backbone(str(repo_root / CONFIGS / 'fashion_mnist/resnet18_svm_voc07_fmnist-demo.py'))
    knn = extraction_backbone(str(repo_root / CONFIGS / 'fashion_mnist/resnet18_knn_fmnist-demo.py'))
    linear = runner_backbone(str(repo_root / CONFIGS / 'fashion_mnist/resnet18_mhead_1xb64-steplr-4e_fmnist-demo.py'))
    assert_same_network(svm, knn)
    assert_same_network(svm, linear)
    assert not torch.equal(svm['conv1.weight'], torch.zeros_like(svm['conv1.weight']))


def test_semi_supervised_and_svm_rows_evaluate_the_same_resnet50(repo_root):
    register_all_modules()
    svm = extraction_backbone(str(repo_root / CONFIGS / 'voc07/resnet50_svm_voc07.py'))
    grid_point = runner_backbone(str(
        repo_root / CONFIGS / 'imagenet/imagenet_1percent/resnet50_8xb32-steplr-20e_in1k-1pct_lr-1e-2_head10.py'))
    assert_same_network(svm, grid_point)


def test_the_random_init_seed_draws_another_network_everywhere(repo_root):
    register_all_modules()
    svm_config = str(repo_root / CONFIGS / 'fashion_mnist/resnet18_svm_voc07_fmnist-demo.py')
    linear_config = str(repo_root / CONFIGS / 'fashion_mnist/resnet18_mhead_1xb64-steplr-4e_fmnist-demo.py')
    cfg = Config.fromfile(svm_config)
    seeded = FeatureExtractor(cfg.model.backbone, ['feature5'])
    BackboneWeights.random(3).load_into(seeded.backbone)
    linear_cfg = set_backbone_checkpoint(Config.fromfile(linear_config), None, random_init_seed=3)
    assert linear_cfg.model.backbone.init_cfg == dict(type='SeededRandom', seed=3)
    model = MODELS.build(convert_sync_bn_cfg(linear_cfg.model))
    model.init_weights()
    assert_same_network(seeded.backbone.state_dict(), model.backbone.state_dict())
    default = extraction_backbone(svm_config)
    assert not torch.equal(default['conv1.weight'], seeded.backbone.state_dict()['conv1.weight'])

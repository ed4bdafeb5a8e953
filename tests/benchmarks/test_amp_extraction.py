"""Feature extraction under bfloat16 autocast (``--amp``): the features agree with float32 ones within a stated
tolerance, and a folder records its precision, so float32 and autocast features are never mixed."""
import json

import pytest
import torch
from builders.checkpoints import save_resnet_checkpoint
from builders.reuse_inputs import svm_args, voc_tree

from mmssl.benchmarks import cli
from mmssl.benchmarks.feature_extraction import FeatureExtractor
from mmssl.utils import BackboneWeights, register_all_modules

LAYERS = ['feature1', 'feature2', 'feature3', 'feature4', 'feature5']
#: Largest difference allowed between an autocast and a float32 feature entry (rows are L2-normalised).
AMP_ATOL = 2e-3


def test_autocast_features_agree_with_float32_within_the_stated_tolerance():
    register_all_modules()
    extractors = {amp: FeatureExtractor(dict(type='ResNet', depth=18), LAYERS, amp=amp).eval() for amp in (False, True)}
    for extractor in extractors.values():
        BackboneWeights.random(0).load_into(extractor.backbone)
    images = (torch.rand(3, 3, 224, 224, generator=torch.Generator().manual_seed(0)) * 255).to(torch.uint8)
    data = dict(inputs=list(images), data_samples=None)
    float32, autocast = (extractors[amp](data) for amp in (False, True))
    for layer in LAYERS:
        assert autocast[layer].dtype == torch.float32
        assert not torch.equal(autocast[layer], float32[layer]), f'{layer}: autocast changed nothing'
        torch.testing.assert_close(autocast[layer], float32[layer], atol=AMP_ATOL, rtol=0)
        assert (autocast[layer] * float32[layer]).sum(1).min() > 0.9999  # cosine of the normalised rows


def test_a_float32_folder_is_refused_for_amp_and_recomputed(tmp_path, repo_root):
    checkpoint = tmp_path / 'ckpt.pth'
    save_resnet_checkpoint(checkpoint, depth=18)
    data_root = voc_tree(tmp_path / 'voc', seed=0)
    work = tmp_path / 'work'
    cli.main('svm', svm_args(repo_root, 'svm', checkpoint, work, data_root))
    with pytest.raises(ValueError, match="precision 'float32' when extracted, 'bfloat16-autocast' now"):
        cli.main('svm', svm_args(repo_root, 'svm', checkpoint, work, data_root, '--amp'))
    cli.main('svm', svm_args(repo_root, 'svm', checkpoint, work, data_root, '--amp', '--recompute'))
    source = json.loads((work / 'features' / 'meta.json').read_text())['source']
    assert source['precision'] == 'bfloat16-autocast'
    record = json.loads((work / 'svm' / 'result_svm_voc07.json').read_text())
    assert record['extra']['precision'] == 'bfloat16-autocast'

import subprocess
import sys

import pytest
from mmengine.registry import MODELS as MMENGINE_MODELS

from mmssl.registry import DATASETS, METRICS, MODELS, TRANSFORMS, WEIGHT_INITIALIZERS, suggest_close_names
from mmssl.utils import register_all_modules


def test_registries_are_children_in_mmssl_scope():
    for registry in (MODELS, DATASETS, TRANSFORMS, METRICS, WEIGHT_INITIALIZERS):
        assert registry.scope == 'mmssl'
        assert registry.parent is not None
    assert MODELS.parent is MMENGINE_MODELS


def test_register_all_modules_registers_core_types():
    register_all_modules()
    for name in ('ResNet', 'RelativeLoc', 'RelativeLocNeck', 'ClsHead', 'SelfSupDataPreprocessor'):
        assert MODELS.get(name) is not None, name
    for name in ('RelativeLocPatches', 'PackInputs', 'ResizeEdge', 'RandomCrop', 'RandomResizedCrop'):
        assert TRANSFORMS.get(name) is not None, name
    # mmcv's transforms are reachable through the parent registry.
    assert TRANSFORMS.get('LoadImageFromFile') is not None
    assert METRICS.get('Accuracy') is not None


def test_lazy_build_from_root_registry_with_default_scope():
    register_all_modules()
    backbone = MMENGINE_MODELS.build(dict(type='mmssl.ResNet', depth=18))
    assert type(backbone).__name__ == 'ResNet'


def test_unknown_type_names_registry_and_close_matches():
    register_all_modules()
    with pytest.raises(KeyError) as excinfo, suggest_close_names():
        MODELS.build(dict(type='ResNte', depth=18))
    message = str(excinfo.value)
    assert "'ResNte' is not in the mmssl::model registry: did you mean ResNet" in message


def test_unknown_type_through_root_registry_and_no_match():
    register_all_modules()
    with pytest.raises(KeyError, match='RandomCorp.*mmssl::transform.*did you mean RandomCrop'), \
            suggest_close_names():
        TRANSFORMS.build(dict(type='RandomCorp', crop_size=3))
    with pytest.raises(KeyError, match='no similar name is registered'), suggest_close_names():
        MODELS.build(dict(type='Zzzzzzzzzzzz'))


def test_import_mmssl_does_not_import_dense_toolboxes():
    # timm too: it is imported when a VisionTransformer is built, not with mmssl.models
    code = ('import sys, mmssl, mmssl.models, mmssl.datasets, mmssl.evaluation; '
            'bad = [m for m in ("mmdet", "mmseg", "timm") if m in sys.modules]; '
            'assert not bad, bad')
    subprocess.run([sys.executable, '-c', code], check=True)

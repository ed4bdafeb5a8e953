import numpy as np
import pytest
from mmengine.config import Config

from mmssl.datasets.transforms import Lighting
from mmssl.registry import TRANSFORMS
from mmssl.utils import register_all_modules

# AlexNet PCA as in mmselfsup 0.x mmselfsup/datasets/pipelines/transforms.py (Lighting._IMAGENET_PCA).
EIGVAL = [0.2175, 0.0188, 0.0045]
EIGVEC = [[-0.5675, 0.7192, 0.4009], [-0.5808, -0.0045, -0.8140], [-0.5836, -0.6948, 0.4203]]
# The same PCA as mmselfsup 1.x passes it to mmcls Lighting for 0-255 BGR images
# (configs/benchmarks/classification/imagenet/resnet50_mhead_linear-8xb32-steplr-90e_in1k.py).
EIGVAL_1X_BGR = [55.4625, 4.7940, 1.1475]
EIGVEC_1X_BGR = [[-0.5836, -0.6948, 0.4203], [-0.5808, -0.0045, -0.8140], [-0.5675, 0.7192, 0.4009]]


def test_lighting_defaults_are_the_alexnet_pca():
    transform = Lighting()
    np.testing.assert_array_equal(transform.eigval, EIGVAL)
    np.testing.assert_array_equal(transform.eigvec, EIGVEC)
    assert transform.alphastd == 0.1 and transform.color_format == 'bgr'


def test_lighting_adds_the_toolbox_shift_in_bgr_order():
    transform = Lighting()
    img = np.full((4, 5, 3), 100, np.uint8)
    img[..., 0] = 10  # B
    np.random.seed(3)
    out = transform(dict(img=img.copy()))['img']
    np.random.seed(3)
    alpha = np.random.normal(0, 0.1, 3)
    # 0.x: rgb[i] = sum_j eigvec[i][j] * alpha[j] * eigval[j], added to [0, 1] RGB values.
    rgb = [sum(EIGVEC[i][j] * alpha[j] * EIGVAL[j] for j in range(3)) for i in range(3)]
    # 1.x (mmcv.adjust_lighting with to_rgb=False): the same sum with the BGR constants on 0-255 values.
    bgr_1x = np.asarray(EIGVEC_1X_BGR) @ (alpha * np.asarray(EIGVAL_1X_BGR))
    assert out.dtype == np.float32
    expected = img.astype(np.float64) + np.asarray(rgb[::-1]) * 255
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-3)
    np.testing.assert_allclose(out, img + bgr_1x, rtol=0, atol=1e-3)
    # One shift per image: every pixel of a channel moves by the same amount.
    assert np.ptp(out - img, axis=(0, 1)).max() < 1e-4


def test_lighting_is_not_clipped_and_can_be_disabled():
    transform = Lighting(alphastd=50.)
    np.random.seed(0)
    out = transform(dict(img=np.zeros((2, 2, 3), np.uint8)))['img']
    assert (out < 0).any()  # 0.x adds to the float tensor without clipping
    img = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    assert Lighting(alphastd=0)(dict(img=img))['img'] is img


def test_lighting_rejects_bad_input():
    with pytest.raises(ValueError, match=r'\(H, W, 3\) colour image, got shape \(4, 4\) for a\.jpg'):
        Lighting()(dict(img=np.zeros((4, 4), np.uint8), img_path='a.jpg'))
    with pytest.raises(ValueError, match='3 eigenvalues and a 3x3'):
        Lighting(eigval=[1, 2])
    with pytest.raises(ValueError, match="color_format must be 'bgr' or 'rgb'"):
        Lighting(color_format='hsv')


def test_imagenet_multihead_training_augmentation_is_the_toolbox_one(repo_root):
    register_all_modules()
    cfg = Config.fromfile(
        str(repo_root / 'configs/benchmarks/classification/imagenet/resnet50_mhead_8xb32-steplr-90e_in1k.py'))
    pipeline = cfg.train_dataloader.dataset.pipeline
    assert [step['type'] for step in pipeline] == [
        'LoadImageFromFile', 'RandomResizedCrop', 'RandomFlip', 'ColorJitter', 'Lighting', 'PackInputs']
    assert pipeline[1]['scale'] == 224 and pipeline[2]['prob'] == 0.5
    jitter = TRANSFORMS.build(pipeline[3])
    assert (jitter.brightness, jitter.contrast, jitter.saturation, jitter.hue) == (0.4, 0.4, 0.4, 0.)
    lighting = TRANSFORMS.build(pipeline[4])
    np.testing.assert_array_equal(lighting.eigval, EIGVAL)
    np.testing.assert_array_equal(lighting.eigvec, EIGVEC)
    assert lighting.alphastd == 0.1

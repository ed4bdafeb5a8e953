"""Greyscale and RGBA files go through the relative-location pipeline as 3-channel images."""
import numpy as np
import pytest
from mmengine.dataset import Compose
from PIL import Image

from mmssl.utils import register_all_modules

register_all_modules()


@pytest.mark.parametrize('mode', ['L', 'RGBA', 'RGB'])
def test_relative_loc_pipeline_accepts_image_modes(tmp_path, mode):
    rng = np.random.default_rng(0)
    channels = {'L': 1, 'RGBA': 4, 'RGB': 3}[mode]
    pixels = rng.integers(0, 255, (40, 50, channels), dtype=np.uint8).squeeze()
    path = tmp_path / f'img_{mode}.png'
    Image.fromarray(pixels, mode).save(path)
    pipeline = Compose([
        dict(type='LoadImageFromFile'),
        dict(type='ResizeEdge', scale=112, edge='short'),
        dict(type='RandomCrop', crop_size=105),
        dict(type='RandomGrayscale', prob=1.0, keep_channels=True, channel_weights=(0.114, 0.587, 0.2989)),
        dict(type='RelativeLocPatches', patch_size=32, cell_size=35),
        dict(type='PackInputs'),
    ])
    packed = pipeline(dict(img_path=str(path), sample_idx=3))
    assert tuple(packed['inputs'].shape) == (9, 3, 32, 32)
    assert packed['data_samples'].gt_label.tolist() == list(range(8))
    assert packed['data_samples'].sample_idx == 3

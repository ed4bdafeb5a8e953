"""LoadImageFromFile (mmssl scope): an image that cannot be decoded is named, with its size and sample index."""
import pytest
from builders.files import write_image

from mmssl.datasets.transforms import LoadImageFromFile
from mmssl.registry import TRANSFORMS


def test_undecodable_images_name_the_file(tmp_path):
    assert TRANSFORMS.get('LoadImageFromFile') is LoadImageFromFile  # what configs in the mmssl scope build
    good = write_image(str(tmp_path / 'good.jpg'), 16)
    assert LoadImageFromFile()(dict(img_path=good))['img'].shape == (16, 16, 3)
    empty = tmp_path / 'empty.jpg'
    empty.write_bytes(b'')
    with pytest.raises(ValueError, match=rf'image {empty} \(0 bytes, sample 3\): cannot be decoded'):
        LoadImageFromFile()(dict(img_path=str(empty), sample_idx=3))
    truncated = tmp_path / 'truncated.jpg'
    truncated.write_bytes(open(good, 'rb').read()[:100])
    with pytest.raises(ValueError, match=rf'image {truncated} \(100 bytes\): cannot be decoded'):
        LoadImageFromFile()(dict(img_path=str(truncated)))

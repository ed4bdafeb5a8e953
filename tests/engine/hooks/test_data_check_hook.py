"""The training data is checked before the first iteration: label range, and (opt-in) every image decoded."""
import pytest
import torch
from builders.datasets import make_imagenet
from builders.runs import tiny_train_config

from mmssl.engine.train import apply_train_options, train
from mmssl.utils import register_all_modules


@pytest.fixture
def tiny_data(tmp_path):
    register_all_modules(init_default_scope=False)
    torch.set_num_threads(1)
    return make_imagenet(str(tmp_path / 'data'), train_per_class=2, size=16)


def test_a_label_beyond_the_heads_classes_is_refused_before_training(tmp_path, tiny_data):
    train_list = tmp_path / 'data' / 'meta' / 'train.txt'
    lines = train_list.read_text().splitlines()
    lines[3] = lines[3].rsplit(' ', 1)[0] + ' 7'  # 3 classes: labels 0..2
    train_list.write_text('\n'.join(lines) + '\n')
    cfg = tiny_train_config(tiny_data, tmp_path / 'work', max_iters=1, interval=1)
    with pytest.raises(ValueError, match=rf'{train_list}, line 4 \(.*n01443537_1.JPEG\): label 7 is outside the '
                       r"range of the model's head, num_classes=3 \(labels 0..2\)"):
        train(cfg)
    assert not (tmp_path / 'work' / 'iter_1.pth').exists()


def test_check_images_lists_every_undecodable_image_before_training(tmp_path, tiny_data):
    train_dir = tmp_path / 'data' / 'train'
    empty, truncated = train_dir / 'n01440764' / 'n01440764_1.JPEG', train_dir / 'n01484850' / 'n01484850_0.JPEG'
    empty.write_bytes(b'')
    truncated.write_bytes(truncated.read_bytes()[:200])
    cfg = apply_train_options(tiny_train_config(tiny_data, tmp_path / 'work', max_iters=1), check_images=True)
    with pytest.raises(ValueError) as excinfo:
        train(cfg)
    message = str(excinfo.value)
    assert message.startswith('2 of 6 training images cannot be decoded:')
    assert f'train.txt, line 2 ({empty}): empty file (0 bytes)' in message
    assert f'train.txt, line 5 ({truncated}): OSError' in message
    assert not (tmp_path / 'work' / 'iter_1.pth').exists()

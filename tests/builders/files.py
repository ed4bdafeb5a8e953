"""Small files in the real formats: random-noise images, text lists, labelled and flat image folders.

Images are deterministic per seed and a few pixels wide, so a data set of a few dozen takes well under a second.
"""
import os
import os.path as osp
from typing import Any, Callable, Sequence, Tuple, Union

import numpy as np
import yaml
from PIL import Image

Size = Union[int, Tuple[int, int]]


def write_image(path: str, size: Size = 16, seed: int = 0, grey: bool = False) -> str:
    """Write a random-noise image (format from the suffix) of ``size`` = side or (height, width)."""
    height, width = (size, size) if isinstance(size, int) else size
    shape = (height, width) if grey else (height, width, 3)
    pixels = np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


def write_lines(path: str, lines: Sequence[str]) -> str:
    """Write ``lines`` (one per line, newline-terminated) to ``path``, creating its folder."""
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    with open(path, 'w') as f:
        f.writelines(line + '\n' for line in lines)
    return path


def make_image_folder(root: str, classes: Sequence[str] = ('cat', 'dog'), per_class: int = 2, size: Size = 16,
                      ext: str = '.jpg') -> str:
    """``root/<class>/<i><ext>`` for every class (a labelled folder tree); returns ``root``."""
    for label, name in enumerate(classes):
        for i in range(per_class):
            write_image(osp.join(root, name, f'{i}{ext}'), size, seed=label * 1000 + i)
    return root


def make_flat_folder(root: str, num: int = 3, size: Size = 16, ext: str = '.jpg') -> str:
    """``root/<i><ext>`` (an unlabelled folder); returns ``root``."""
    for i in range(num):
        write_image(osp.join(root, f'{i}{ext}'), size, seed=i)
    return root


def edit_yaml(path, change: Callable[[Any], None], allow_unicode: bool = False) -> None:
    """Load the YAML file ``path``, let ``change`` edit the data in place and write it back, keys in their order."""
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=allow_unicode))

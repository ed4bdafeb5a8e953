import os.path as osp
from typing import Dict, List, Optional, Union

from mmengine.fileio import join_path

from mmssl.registry import DATASETS

from .image_list import ImageList
from .utils import read_lines


@DATASETS.register_module()
class ImageNet(ImageList):
    """ImageNet (ILSVRC-2012) from its folder tree or from ``meta/train.txt``-style list files, with optional
    subsets such as the standard 1 % / 10 % semi-supervised splits.

    Typical layouts (``data_root='data/imagenet/'``)::

        train/n01440764/n01440764_10026.JPEG       folder tree: data_prefix='train', no ann_file
        meta/train.txt  'n01440764/n01440764_10026.JPEG 0'   ann_file='meta/train.txt', data_prefix='train'
        meta/val.txt    'ILSVRC2012_val_00000001.JPEG 65'    ann_file='meta/val.txt', data_prefix='val'

    Parsing, labels, class names and errors are those of :class:`ImageList` (pass
    ``metainfo=dict(classes='path/to/classes.txt')`` to name the classes of a list file).

    ``subset_file`` keeps only the listed images. It is a text file with one image file name per line (e.g.
    ``n01440764_10026.JPEG``, the format of the 1 %/10 % lists of SimCLR), matched against the base name of each
    sample's path. Samples keep the order of the full data set. A name that is not in the data set, a name listed
    twice, or a data set in which a listed name is ambiguous (two images share the base name) is an error.

    Each data info holds ``img_path``, ``gt_label`` (when labelled) and mmengine's ``sample_idx``
    (index within the subset).

    Args:
        ann_file, metainfo, data_root, data_prefix: see :class:`ImageList`.
        subset_file: list of the image names to keep, relative to ``data_root`` unless absolute; None keeps all.
        **kwargs: further :class:`ImageList` arguments (``with_label``, ``check_exists``, ``pipeline``, ...).
    """

    def __init__(self,
                 ann_file: str = '',
                 metainfo: Optional[dict] = None,
                 data_root: str = '',
                 data_prefix: Union[str, dict] = '',
                 subset_file: Optional[str] = None,
                 **kwargs):
        # Joined here because the base class may load the data (and so the subset) inside its __init__.
        if subset_file and data_root and not osp.isabs(subset_file):
            subset_file = join_path(data_root, subset_file)
        self.subset_file = subset_file
        super().__init__(ann_file=ann_file, metainfo=metainfo, data_root=data_root, data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> List[dict]:
        data_list = super().load_data_list()
        if not self.subset_file:
            return data_list
        owner = type(self).__name__
        wanted: Dict[str, int] = {}  # base name -> line number in the subset file
        for line_number, tokens in read_lines(self.subset_file, 'subset file', owner):
            where = f'{self.subset_file}, line {line_number}'
            if len(tokens) != 1:
                raise ValueError(f"{where}: malformed line {' '.join(tokens)!r}, expected one image file name")
            name = tokens[0]
            if name in wanted:
                raise ValueError(f'{where}: {name!r} is listed twice (first at line {wanted[name]})')
            wanted[name] = line_number
        if not wanted:
            raise ValueError(f'{owner}: subset file {self.subset_file!r} lists no images')
        selected, found = [], {}
        for info in data_list:
            name = osp.basename(info['img_path'])
            if name not in wanted:
                continue
            if name in found:
                raise ValueError(f'{self.subset_file}, line {wanted[name]}: {name!r} is ambiguous, the data set '
                                 f"has both {found[name]!r} and {info['img_path']!r}")
            found[name] = info['img_path']
            selected.append(info)
        missing = [name for name in wanted if name not in found]
        if missing:
            source = self.ann_file or self.img_prefix
            raise ValueError(f'{self.subset_file}, line {wanted[missing[0]]}: {missing[0]!r} is not in the data set '
                             f'{source!r} ({len(missing)} of {len(wanted)} listed names are missing)')
        return selected

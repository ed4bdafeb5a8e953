import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple, Union

from mmssl.registry import DATASETS

from .base_dataset import BaseImageDataset
from .utils import (IMG_EXTENSIONS, check_images_exist, check_unique, is_image_file, parse_label, read_lines,
                    require_dir, scan_images)


@DATASETS.register_module()
class ImageList(BaseImageDataset):
    """A generic image dataset read from a list file or from a folder tree.

    **List file** (``ann_file`` given): one image per line, ``relative/path.jpg [label]``, separated by
    white space (paths therefore contain none). Paths are relative to ``data_prefix`` (itself relative to
    ``data_root``); absolute paths are used as they are. Blank lines are ignored.

    **Folder tree** (no ``ann_file``): the folder ``data_root/data_prefix`` holds either one sub-folder per class
    (labelled; images are collected recursively inside each class folder, label = position of the folder name in
    the sorted folder names, or in ``metainfo['classes']`` when given) or only image files (unlabelled). Only
    files with one of ``extensions`` count as images. Samples are sorted by path, so ``sample_idx`` is
    reproducible.

    ``with_label`` decides whether samples carry labels:

    - ``'auto'``: list files are labelled when their lines have a second column (every line must then agree);
      folder trees are labelled when they contain class sub-folders (a mix of images and sub-folders at the top
      level is an error).
    - ``True``: labels are required (every line needs a label; the folder must hold class sub-folders).
    - ``False``: no labels: a second column in a list file is ignored and a folder tree is scanned recursively.
      Use this to pre-train on a labelled data set without its labels.

    Class names (``metainfo['classes']``) come from ``metainfo=dict(classes=[...])`` (or a path to a text file
    with one name per line, read by mmengine), else from the class folder names, else, for a labelled list file,
    they are ``'0'``, ``'1'``, ... up to the largest label. Unlabelled data sets have ``classes == ()`` unless
    given. With ``lazy_init=True`` derived class names appear once :meth:`full_init` ran.

    Each data info holds:

    - ``img_path`` (str): full path of the image.
    - ``gt_label`` (int): class index, only for labelled data.
    - ``sample_idx`` (int): added by mmengine when the sample is fetched.

    Errors name the file and line: a missing ``ann_file`` or image folder, a malformed line, a label outside the
    class range, an image listed on more than one line (unless ``allow_duplicates``) and (with
    ``check_exists=True``) a listed image that does not exist.

    Args:
        ann_file: list file, relative to ``data_root`` unless absolute. Empty for a folder tree.
        metainfo: extra meta information, e.g. ``dict(classes=(...))``.
        data_root: root folder that ``ann_file`` and ``data_prefix`` are relative to.
        data_prefix: image folder as a str, or mmengine's ``dict(img_path=...)``.
        with_label: ``'auto'``, ``True`` or ``False``, see above.
        extensions: file suffixes (case-insensitive) that count as images when scanning folders.
        check_exists: check that every listed image exists (see :class:`BaseImageDataset`).
        allow_duplicates: accept an image listed on several lines (each line is a sample). Off by default: a
            repeated line weighs its image twice in training and in every evaluation (it moved a kNN top-1 by 12
            points), which is almost always a list-building mistake.
        **kwargs: passed on to :class:`mmengine.dataset.BaseDataset` (``pipeline``, ``test_mode``,
            ``lazy_init``, ``indices``, ...).
    """

    def __init__(self,
                 ann_file: str = '',
                 metainfo: Optional[dict] = None,
                 data_root: str = '',
                 data_prefix: Union[str, dict] = '',
                 with_label: Union[str, bool] = 'auto',
                 extensions: Sequence[str] = IMG_EXTENSIONS,
                 check_exists: bool = True,
                 allow_duplicates: bool = False,
                 **kwargs):
        if not (with_label == 'auto' or isinstance(with_label, bool)):
            raise ValueError(f"{type(self).__name__}: with_label must be 'auto', True or False, got {with_label!r}")
        self.with_label = with_label
        self.allow_duplicates = allow_duplicates
        self.extensions = tuple(ext.lower() for ext in extensions)
        super().__init__(ann_file=ann_file, metainfo=metainfo, data_root=data_root, data_prefix=data_prefix,
                         check_exists=check_exists, **kwargs)

    def load_data_list(self) -> List[dict]:
        paths, labels = self._read_list_file() if self.ann_file else self._scan_folder()
        if not paths:
            where = self.ann_file or self.img_prefix
            raise ValueError(f'{type(self).__name__}: no images found in {where!r}')
        if labels is None:
            return [dict(img_path=path) for path in paths]
        return [dict(img_path=path, gt_label=label) for path, label in zip(paths, labels)]

    def _read_list_file(self) -> Tuple[List[str], Optional[List[int]]]:
        owner = type(self).__name__
        given = self._given_classes()
        num_classes = None if given is None else len(given)
        labelled = None if self.with_label == 'auto' else self.with_label
        reason = f'with_label={self.with_label}'
        # Only line numbers are kept per entry: messages are built on error, which matters for 1.28 M lines.
        names, labels, line_numbers = [], [], []
        for line_number, tokens in read_lines(self.ann_file, 'annotation file', owner):
            if labelled is None:
                labelled = len(tokens) == 2
                reason = 'the first line has a label' if labelled else 'the first line has none'
            # with_label=False accepts (and drops) a label column.
            if len(tokens) > 2 or ((len(tokens) == 2) != labelled and self.with_label is not False):
                expected = "'<path> <label>'" if labelled else "'<path>'"
                raise ValueError(f"{self.ann_file}, line {line_number}: malformed line {' '.join(tokens)!r}, "
                                 f'expected {expected} ({reason})')
            if labelled:
                labels.append(parse_label(tokens[1], f'{self.ann_file}, line {line_number}', num_classes))
            names.append(tokens[0])
            line_numbers.append(line_number)
        if not self.allow_duplicates:
            check_unique(names, line_numbers, self.ann_file)
        paths = [osp.join(self.img_prefix, name) for name in names]
        if self.check_exists:
            check_images_exist(paths, lambda i: f'{self.ann_file}, line {line_numbers[i]}', owner)
        if not labelled:
            self._metainfo['classes'] = given if given is not None else ()
            return paths, None
        if given is None:
            given = self._derive_classes(names, labels, line_numbers)
        self._metainfo['classes'] = given
        return paths, labels

    def _derive_classes(self, names: List[str], labels: List[int], line_numbers: List[int]) -> Tuple[str, ...]:
        """Class names for a labelled list file that came without them: the label numbers as strings.

        Args:
            names: the image paths as written in the list file.
            labels: their labels.
            line_numbers: the line of each entry in ``self.ann_file``, for error messages.
        """
        return tuple(str(i) for i in range(max(labels) + 1))

    def _scan_folder(self) -> Tuple[List[str], Optional[List[int]]]:
        owner = type(self).__name__
        root = self.img_prefix
        if not root:
            raise ValueError(f'{owner}: give an ann_file, or a data_root / data_prefix folder to scan')
        require_dir(root, 'image folder', owner)
        entries = sorted(os.listdir(root))
        subdirs = [name for name in entries if osp.isdir(osp.join(root, name))]
        top_images = [name for name in entries if is_image_file(name, self.extensions)
                      and osp.isfile(osp.join(root, name))]
        given = self._given_classes()
        if self.with_label is False:
            paths = [osp.join(root, rel) for rel in scan_images(root, self.extensions)]
            self._metainfo['classes'] = given if given is not None else ()
            return paths, None
        if subdirs and top_images:
            raise ValueError(f'{owner}: image folder {root!r} mixes images (e.g. {top_images[0]!r}) and '
                             f'sub-folders (e.g. {subdirs[0]!r}); with with_label={self.with_label!r} it must hold '
                             'either class sub-folders or only images (with_label=False scans everything)')
        if not subdirs:
            if self.with_label is True:
                raise ValueError(f'{owner}: image folder {root!r} has no class sub-folders (with_label=True)')
            self._metainfo['classes'] = given if given is not None else ()
            return [osp.join(root, name) for name in top_images], None
        classes = given if given is not None else tuple(subdirs)
        paths, labels = [], []
        for folder in subdirs:
            if folder not in classes:
                raise ValueError(f'{owner}: class folder {osp.join(root, folder)!r} is not one of the '
                                 f'{len(classes)} classes given in metainfo')
            images = scan_images(osp.join(root, folder), self.extensions)
            if not images:
                raise ValueError(f'{owner}: class folder {osp.join(root, folder)!r} holds no images '
                                 f'(extensions {self.extensions})')
            paths.extend(osp.join(root, folder, rel) for rel in images)
            labels.extend([classes.index(folder)] * len(images))
        self._metainfo['classes'] = classes
        return paths, labels

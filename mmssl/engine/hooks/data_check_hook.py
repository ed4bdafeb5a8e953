"""Check the training data against the model before the first iteration: labels in range, images decodable."""
import os.path as osp
from typing import Dict, Iterator, List, Optional, Tuple

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.utils import ProgressBar
from PIL import Image

from mmssl.registry import HOOKS

__all__ = ['DataCheckHook', 'leaf_datasets', 'list_lines']


def leaf_datasets(dataset) -> Iterator:
    """The data sets inside mmengine's wrappers (``ConcatDataset``, ``RepeatDataset``, ...)."""
    if hasattr(dataset, 'datasets'):
        for inner in dataset.datasets:
            yield from leaf_datasets(inner)
    elif hasattr(dataset, 'dataset'):
        yield from leaf_datasets(dataset.dataset)
    else:
        yield dataset


def list_lines(dataset) -> Dict[str, int]:
    """Image path -> line of the data set's list file, for messages (empty for other annotation formats)."""
    from mmssl.datasets import ImageList
    from mmssl.datasets.utils import read_lines
    ann_file = getattr(dataset, 'ann_file', '')
    if not isinstance(dataset, ImageList) or not ann_file or not osp.isfile(ann_file):
        return {}
    try:
        return {osp.join(dataset.img_prefix, tokens[0]): number
                for number, tokens in read_lines(ann_file, 'annotation file', type(dataset).__name__)}
    except (UnicodeDecodeError, ValueError):
        return {}


def _where(dataset, index: int, lines: Optional[Dict[str, int]] = None) -> str:
    """``LIST, line N (PATH)`` of sample ``index`` (``lines`` from :func:`list_lines`, read here if not given)."""
    info = dataset.get_data_info(index)
    path = info.get('img_path', f'sample {index}')
    ann_file = getattr(dataset, 'ann_file', '') or getattr(dataset, 'img_prefix', '') or type(dataset).__name__
    line = (list_lines(dataset) if lines is None else lines).get(path)
    return f'{ann_file}, line {line} ({path})' if line else f'{ann_file}: {path}'


def _bad_image(path: str) -> Optional[str]:
    """Why ``path`` cannot be used as an image, or None (a full decode: headers alone miss truncated files)."""
    try:
        if osp.getsize(path) == 0:
            return 'empty file (0 bytes)'
        with Image.open(path) as image:
            image.load()
    except Exception as error:  # OSError (truncated), PIL.UnidentifiedImageError, SyntaxError for bad headers ...
        return f'{type(error).__name__}: {error}'
    return None


@HOOKS.register_module()
class DataCheckHook(Hook):
    """Refuse training data that would fail or mislead mid-training, before the first iteration.

    - A classifier (:class:`mmssl.models.ImageClassifier`, whose targets are the data set's labels) needs a label
      on every training sample, each below its head's ``num_classes``; otherwise cross-entropy fails (or indexes
      out of range on the GPU) at the first batch holding such a label, hours in. The message names the list file,
      the line, the label and ``num_classes``.
    - With ``check_images=True`` (``tools/train.py --check-images``) every training image is decoded once and all
      unreadable ones (0-byte, truncated, not an image) are listed together.

    mmssl's Runner (:class:`mmssl.engine.runner.CheckedRunner`) adds this hook to every training run.
    """
    priority = 'VERY_HIGH'

    def __init__(self, check_images: bool = False):
        self.check_images = check_images

    def before_train(self, runner) -> None:
        """Run the checks on the training data set."""
        from mmssl.models.classifiers import ImageClassifier
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        num_classes = getattr(model.head, 'num_classes', None) if isinstance(model, ImageClassifier) else None
        for dataset in leaf_datasets(runner.train_dataloader.dataset):
            if not hasattr(dataset, 'get_data_info'):
                continue
            if isinstance(num_classes, int):
                self.check_labels(dataset, num_classes)
            if self.check_images:
                self.scan_images(dataset, runner.logger)

    @staticmethod
    def check_labels(dataset, num_classes: int) -> None:
        """Raise ``ValueError`` for the first sample without a label or with one outside ``0..num_classes-1``."""
        for index in range(len(dataset)):
            label = dataset.get_data_info(index).get('gt_label')
            if label is None:
                raise ValueError(f'{_where(dataset, index)}: no label, but the classifier trains on labels '
                                 '(a labelled list / annotations file, or with_label=True)')
            if int(label) < 0 or int(label) >= num_classes:
                raise ValueError(f'{_where(dataset, index)}: label {int(label)} is outside the range of the '
                                 f"model's head, num_classes={num_classes} (labels 0..{num_classes - 1}); fix the "
                                 'list or model.head.num_classes')

    @staticmethod
    def scan_images(dataset, logger) -> None:
        """Decode every image of ``dataset``; raise ``ValueError`` listing all that fail."""
        logger.info(f'--check-images: decoding the {len(dataset)} training images once')
        bad: List[Tuple[int, str]] = []
        progress = ProgressBar(len(dataset))
        for index in range(len(dataset)):
            path = dataset.get_data_info(index).get('img_path')
            reason = path and _bad_image(path)
            if reason:
                bad.append((index, reason))
            progress.update()
        if bad:
            lines = list_lines(dataset)
            listed = '\n  '.join(f'{_where(dataset, index, lines)}: {reason}' for index, reason in bad)
            raise ValueError(f'{len(bad)} of {len(dataset)} training images cannot be decoded:\n  {listed}')
        logger.info(f'--check-images: all {len(dataset)} training images decode')

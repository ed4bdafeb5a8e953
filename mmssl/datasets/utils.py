"""File-system helpers shared by the dataset classes.

Every helper raises with a message that names the offending file (and line or entry), because a dataset that
fails deep inside a data loader worker is hard to trace back to its annotation file.
"""
import os
import os.path as osp
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Set, Tuple, Union

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp')


def img_prefix(data_prefix: Union[str, dict]) -> dict:
    """Accept ``data_prefix`` as a plain string (the image folder) or mmengine's ``dict(img_path=...)``."""
    if isinstance(data_prefix, str):
        return dict(img_path=data_prefix)
    if not isinstance(data_prefix, dict) or 'img_path' not in data_prefix:
        raise TypeError(f"data_prefix must be a str or a dict with an 'img_path' key, got {data_prefix!r}")
    return dict(data_prefix)


def require_file(path: str, what: str, owner: str) -> None:
    """Raise ``FileNotFoundError`` naming ``path`` unless it is a file."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{owner}: {what} {path!r} does not exist')


def require_dir(path: str, what: str, owner: str) -> None:
    """Raise ``FileNotFoundError`` naming ``path`` unless it is a directory."""
    if not osp.isdir(path):
        raise FileNotFoundError(f'{owner}: {what} {path!r} does not exist or is not a directory')


def read_lines(path: str, what: str, owner: str) -> Iterator[Tuple[int, List[str]]]:
    """Yield ``(line_number, tokens)`` for every non-blank line of a text list file (1-based line numbers)."""
    require_file(path, what, owner)
    with open(path, encoding='utf-8') as f:
        for line_number, line in enumerate(f, start=1):
            tokens = line.split()
            if tokens:
                yield line_number, tokens


def check_unique(names: Sequence[str], line_numbers: Sequence[int], path: str) -> None:
    """Raise ``ValueError`` when an entry of list file ``path`` is listed on more than one line, naming the first
    repeated entry and all its lines (``a/x.jpg`` and ``a/./x.jpg`` are one image).

    Args:
        names: the entries as written, one per non-blank line.
        line_numbers: the line of each entry.
        path: the list file, for the message.
    """
    first_line: Dict[str, int] = {}
    repeated = []
    for name, line_number in zip(names, line_numbers):
        key = osp.normpath(name)
        if first_line.setdefault(key, line_number) != line_number:
            repeated.append(key)
    if not repeated:
        return
    lines = [line for name, line in zip(names, line_numbers) if osp.normpath(name) == repeated[0]]
    others = len(set(repeated)) - 1
    times = 'twice' if len(lines) == 2 else f'{len(lines)} times'
    raise ValueError(f'{path}: image {repeated[0]!r} is listed {times}, on lines {", ".join(map(str, lines))}'
                     + (f' ({others} more entries repeat too)' if others else '')
                     + '; each line is a sample, so a repeated image counts twice in training and evaluation. '
                     'Remove the repeats, or pass allow_duplicates=True in the dataset config if they are meant')


def parse_label(token: str, where: str, num_classes: Optional[int] = None) -> int:
    """A class index from its text form; ``where`` ("file, line N") prefixes the error message."""
    try:
        label = int(token)
    except ValueError:
        raise ValueError(f'{where}: label {token!r} is not an integer') from None
    if label < 0 or (num_classes is not None and label >= num_classes):
        limit = f'0..{num_classes - 1}' if num_classes is not None else '>= 0'
        raise ValueError(f'{where}: label {label} is outside the class range {limit}')
    return label


def is_image_file(name: str, extensions: Sequence[str] = IMG_EXTENSIONS) -> bool:
    return name.lower().endswith(tuple(extensions))


def scan_images(folder: str, extensions: Sequence[str] = IMG_EXTENSIONS) -> List[str]:
    """All image files below ``folder`` (recursive), as sorted paths relative to ``folder``.

    Sorting makes the sample order, and so ``sample_idx``, identical on every machine and file system.
    """
    found = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames.sort()
        rel_dir = osp.relpath(dirpath, folder)
        for name in filenames:
            if is_image_file(name, extensions):
                found.append(name if rel_dir == '.' else osp.join(rel_dir, name))
    return sorted(found)


class ExistenceChecker:
    """Check that many files exist with one directory listing per folder instead of one ``stat`` per file.

    A list of 1.28 M ImageNet images lives in 1,000 folders, so this costs 1,000 ``listdir`` calls.
    """

    def __init__(self):
        self._listings: Dict[str, Set[str]] = {}

    def exists(self, path: str) -> bool:
        folder, name = osp.split(osp.normpath(path))
        if folder not in self._listings:
            try:
                self._listings[folder] = set(os.listdir(folder or '.'))
            except (FileNotFoundError, NotADirectoryError):
                self._listings[folder] = set()
        return name in self._listings[folder]


def check_images_exist(paths: Sequence[str], where: Callable[[int], str], owner: str) -> None:
    """Raise ``FileNotFoundError`` for the first of ``paths`` that is missing.

    Args:
        paths: image paths to check.
        where: maps an index of ``paths`` to where that path was listed (e.g. ``"train.txt, line 7"``); called
            only to build the error message.
        owner: the dataset class name, used in the message.
    """
    checker = ExistenceChecker()
    missing = [i for i, path in enumerate(paths) if not checker.exists(path)]
    if missing:
        first = missing[0]
        raise FileNotFoundError(
            f'{owner}: {where(first)}: image {paths[first]!r} does not exist ({len(missing)} of {len(paths)} '
            'listed images are missing; pass check_exists=False to skip this check)')

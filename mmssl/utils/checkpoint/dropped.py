"""What reading a backbone left out of a checkpoint file: the file's other tensors (neck, head, the other encoder,
the optimizer state ...), counted under the names that set them apart from the backbone's.

A load report used to say "unexpected 0" for a full algorithm checkpoint whose neck and head were stripped with its
prefix; :func:`dropped_tensors` makes what was left out part of the report (``{'neck': 4, 'head': 2}``).
"""
from typing import Any, Dict, Iterable, Iterator, List, Set, Tuple

import numpy as np
import torch

__all__ = ['dropped_tensors']

Path = Tuple[str, ...]


def _arrays(node: Any, path: Path = ()) -> Iterator[Tuple[Path, Any]]:
    """Every tensor / numpy array in nested dicts, lists and tuples, with the keys that lead to it."""
    if isinstance(node, (torch.Tensor, np.ndarray)):
        yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _arrays(value, path + (str(key), ))
    elif isinstance(node, (list, tuple)):
        for index, value in enumerate(node):
            yield from _arrays(value, path + (str(index), ))


def _parts(path: Path) -> Path:
    """A path as name components: a flat state dict's dotted keys count as nesting too."""
    return tuple(part for key in path for part in key.split('.'))


def _leading(paths: Iterable[Path]) -> Set[Path]:
    return {parts[:depth] for parts in paths for depth in range(1, len(parts) + 1)}


def _group(parts: Path, kept: Set[Path]) -> str:
    """The shortest leading part of ``parts`` that no kept tensor's name starts with (``neck`` for ``neck.fc.weight``
    beside ``backbone.*``, ``module.encoder_k`` beside ``module.encoder_q.*``)."""
    for depth in range(1, len(parts) + 1):
        if parts[:depth] not in kept:
            return '.'.join(parts[:depth])
    return '.'.join(parts)


def _common_container(paths: List[Path]) -> Path:
    """The nested dict that holds every kept tensor (``('state_dict',)``), whose names groups are relative to."""
    containers = [path[:-1] for path in paths]
    if not containers:
        return ()
    common = containers[0]
    for container in containers[1:]:
        depth = 0
        while depth < min(len(common), len(container)) and common[depth] == container[depth]:
            depth += 1
        common = common[:depth]
    return common


def dropped_tensors(content: Any, kept: Iterable[Any]) -> Dict[str, int]:
    """The tensors of ``content`` (an unpickled checkpoint) that are not among ``kept`` (the very objects read as
    the backbone), counted per group: names inside the dict that holds the backbone are relative to it
    (``{'neck': 4, 'head': 2}``), others start at the file's top level (``optimizer``). A tensor reachable twice
    counts once; an empty dict when nothing was left out.
    """
    kept_ids = {id(value) for value in kept}
    seen: Set[int] = set()
    kept_paths: List[Path] = []
    dropped_paths: List[Path] = []
    for path, value in _arrays(content):
        if id(value) in seen:
            continue
        seen.add(id(value))
        (kept_paths if id(value) in kept_ids else dropped_paths).append(path)
    container = _common_container(kept_paths)
    inner = _leading(_parts(path[len(container):]) for path in kept_paths)
    outer = _leading(_parts(path) for path in kept_paths)
    groups: Dict[str, int] = {}
    for path in dropped_paths:
        if path[:len(container)] == container:
            name = _group(_parts(path[len(container):]), inner)
        else:
            name = _group(_parts(path), outer)
        groups[name] = groups.get(name, 0) + 1
    return groups

"""What decides the content of a feature folder, so that a folder (and the partial results computed from it) is
reused only for exactly the input a run asks for.

A folder's identity, written into the ``source`` of its ``meta.json`` at extraction and compared before any reuse:

- the weights: the checkpoint's sha256 (or the random backbone's seed) and how the file was read
  (``checkpoint_reading``: the layout and the ``--checkpoint-format`` / ``--checkpoint-prefix`` /
  ``--checkpoint-key`` options);
- the benchmark config's path and its relevant parts *after* every ``--cfg-options`` override
  (``config_parts``: the backbone, the data preprocessor and the data set - pipeline included - of every extracted
  split; ``config_sha256`` hashes them as canonical JSON);
- ``data_files``: the sha256 of every list / annotation file those data sets read (the images are not hashed);
- the ``pooling`` and the ``precision`` of the extraction (``float32`` or ``bfloat16-autocast``).

The layers are not part of it: a folder serves any of the layers it holds (the features of a layer do not depend
on which others were extracted), as a Places205 low-shot folder serves any samples whose images it holds.
"""
import hashlib
import json
import os
import os.path as osp
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from mmssl.constants import VOC_CLASSES

#: Identity fields besides the weights, with how a refusal names them.
IDENTITY_FIELDS = ('checkpoint_reading', 'config', 'config_sha256', 'data_files', 'pooling', 'precision')
_SHOWN_DIFFERENCES = 5  # differing config keys / files a message spells out
_READING_FLAGS = (('checkpoint_format', '--checkpoint-format'), ('prefix', '--checkpoint-prefix'),
                  ('key_path', '--checkpoint-key'))


def _plain(value):
    """Config values as JSON: a class or function (new-style configs) by its qualified name."""
    if callable(value):
        return f'{getattr(value, "__module__", "")}.{getattr(value, "__qualname__", repr(value))}'
    return repr(value)


def canonical_json(value) -> str:
    """``value`` as canonical JSON (sorted keys, tuples as lists), the text its sha256 is taken of."""
    return json.dumps(value, sort_keys=True, separators=(',', ':'), default=_plain)


def config_parts(cfg, dataloaders: Sequence[str]) -> dict:
    """The parts of a (resolved) benchmark config that decide extracted features: ``model.backbone``,
    ``model.data_preprocessor`` and the ``dataset`` of each of ``dataloaders``, as plain JSON values."""
    model = cfg.get('model') or {}
    parts = {'model.backbone': model.get('backbone'), 'model.data_preprocessor': model.get('data_preprocessor')}
    for name in dataloaders:
        parts[f'{name}.dataset'] = (cfg.get(name) or {}).get('dataset')
    return json.loads(canonical_json(_to_dict(parts)))


def _to_dict(value):
    if hasattr(value, 'to_dict'):
        return value.to_dict()
    if isinstance(value, dict):
        return {key: _to_dict(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_dict(item) for item in value]
    return value


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def file_sha256(path: str) -> Optional[str]:
    """sha256 of a file's bytes, ``None`` if it does not exist."""
    if not osp.isfile(path):
        return None
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def _join(root: str, path: str) -> str:
    return osp.abspath(path if osp.isabs(path) or not root else osp.join(root, path))


def _img_folder(dataset: dict) -> str:
    prefix = dataset.get('data_prefix') or ''
    prefix = prefix.get('img_path', '') if isinstance(prefix, dict) else prefix
    return _join(dataset.get('data_root') or '', prefix)


def _read_ids(path: str) -> List[str]:
    if not osp.isfile(path):
        return []
    with open(path) as f:
        return [line.split()[0] for line in f if line.strip()]


def _digest_of(entries: Iterable[Tuple[str, Optional[str]]]) -> str:
    digest = hashlib.sha256()
    for name, value in entries:
        digest.update(f'{name}\0{value}\n'.encode())
    return digest.hexdigest()


def _voc_files(dataset: dict) -> Dict[str, Optional[str]]:
    """VOC07Classification reads ``<image_set_dir>/<split>.txt``, ``<class>_<split>.txt`` per class and the XML
    annotation of every listed image (its labels, or their cross-check)."""
    root = dataset.get('data_root') or ''
    split = dataset.get('split', 'trainval')
    sets = _join(root, dataset.get('image_set_dir', 'ImageSets/Main'))
    split_file = osp.join(sets, f'{split}.txt')
    classes = (dataset.get('metainfo') or {}).get('classes') or VOC_CLASSES
    classes = _read_ids(classes) if isinstance(classes, str) else classes
    files = {path: file_sha256(path) for path in
             [split_file] + [osp.join(sets, f'{name}_{split}.txt') for name in classes]}
    ann_dir = _join(root, dataset.get('ann_subdir', 'Annotations'))
    if osp.isdir(ann_dir):
        ids = _read_ids(split_file)
        files[osp.join(ann_dir, f'*.xml (the images of {split_file})')] = _digest_of(
            (img_id, file_sha256(osp.join(ann_dir, f'{img_id}.xml'))) for img_id in ids)
    return files


def _coco_files(dataset: dict) -> Dict[str, Optional[str]]:
    """COCO2014Classification reads the converter's ids, labels and classes files."""
    label_dir = _join(dataset.get('data_root') or '', dataset.get('label_dir', 'svm_labels'))
    split = dataset.get('split', 'train2014')
    paths = [osp.join(label_dir, name) for name in (f'{split}_ids.txt', f'{split}_labels.npy', 'classes.txt')]
    return {path: file_sha256(path) for path in paths}


def _folder_listing(folder: str) -> Dict[str, Optional[str]]:
    """A data set scanned from a folder tree (no list file): the sorted relative paths of its files."""
    if not osp.isdir(folder):
        return {osp.join(folder, ''): None}
    names = sorted(osp.relpath(osp.join(top, name), folder) for top, _, files in os.walk(folder) for name in files)
    return {osp.join(folder, '') + ' (file names)': _digest_of((name, '') for name in names)}


def dataset_files(dataset: Optional[dict]) -> Dict[str, Optional[str]]:
    """Path (or pattern) -> sha256 of every list / annotation file a data set config reads, as the mmssl data sets
    read them (``None``: missing). Wrappers (``dataset`` / ``datasets``) are followed."""
    if not isinstance(dataset, dict):
        return {}
    files: Dict[str, Optional[str]] = {}
    for inner in [dataset.get('dataset')] + list(dataset.get('datasets') or []):
        files.update(dataset_files(inner))
    kind = str(dataset.get('type', '')).rsplit('.', 1)[-1]
    root = dataset.get('data_root') or ''
    if kind == 'VOC07Classification':
        files.update(_voc_files(dataset))
    elif kind == 'COCO2014Classification':
        files.update(_coco_files(dataset))
    elif dataset.get('ann_file'):
        path = _join(root, dataset['ann_file'])
        files[path] = file_sha256(path)
    elif kind in ('ImageList', 'ImageNet'):
        files.update(_folder_listing(_img_folder(dataset)))
    if dataset.get('subset_file'):
        path = _join(root, dataset['subset_file'])
        files[path] = file_sha256(path)
    classes = (dataset.get('metainfo') or {}).get('classes')
    if isinstance(classes, str):  # a classes file, read by mmengine relative to the working directory
        files[osp.abspath(classes)] = file_sha256(classes)
    return files


def config_identity(cfg, dataloaders: Sequence[str]) -> dict:
    """``config_parts``, their ``config_sha256`` and the ``data_files`` of the ``dataloaders``' data sets."""
    parts = config_parts(cfg, dataloaders)
    files: Dict[str, Optional[str]] = {}
    for name in dataloaders:
        files.update(dataset_files(parts[f'{name}.dataset']))
    return dict(config_parts=parts, config_sha256=sha256_text(canonical_json(parts)), data_files=files)


def reading_identity(weights) -> Optional[dict]:
    """How a checkpoint was read: its layout and the reading options as given; ``None`` for the random backbone."""
    if weights.is_random:
        return None
    return dict(layout=weights.layout, **weights.options)


def describe_reading(reading: Optional[dict]) -> str:
    """``layout 'mmssl', --checkpoint-key 'model'``, for messages."""
    if not reading:
        return 'not recorded'
    options = [f'{flag} {reading[name]!r}' for name, flag in _READING_FLAGS if reading.get(name) is not None]
    return f'layout {reading.get("layout")!r}' + (f' with {", ".join(options)}' if options else ' (no options)')


def _flatten(value, prefix: str = '') -> Dict[str, object]:
    if isinstance(value, dict) and value:
        return {k: v for key, item in value.items() for k, v in _flatten(item, f'{prefix}{key}.').items()}
    if isinstance(value, list) and value:
        return {k: v for i, item in enumerate(value) for k, v in _flatten(item, f'{prefix}{i}.').items()}
    return {prefix[:-1]: value}


def _limited(items: List[str]) -> List[str]:
    if len(items) > _SHOWN_DIFFERENCES:
        return items[:_SHOWN_DIFFERENCES] + [f'and {len(items) - _SHOWN_DIFFERENCES} more']
    return items


def config_differences(old: Optional[dict], new: dict) -> List[str]:
    """The config keys whose resolved values differ: ``KEY: OLD when extracted, NEW now``."""
    if old is None:
        return ['the resolved config was not recorded when extracted']
    old_flat, new_flat = _flatten(old), _flatten(new)
    keys = sorted(k for k in set(old_flat) | set(new_flat) if old_flat.get(k, '<unset>') != new_flat.get(k, '<unset>'))
    return _limited([f'config {key}: {old_flat.get(key, "<unset>")!r} when extracted, '
                     f'{new_flat.get(key, "<unset>")!r} now' for key in keys])


def file_differences(old: Optional[dict], new: dict) -> List[str]:
    """The list / annotation files whose content differs, or that one side reads and the other does not."""
    if old is None:
        return ['the list / annotation files read were not recorded when extracted']
    lines = []
    for path in sorted(set(old) | set(new)):
        if path not in old:
            lines.append(f'{path} (sha256 {new[path]}) is read now, not when extracted')
        elif path not in new:
            lines.append(f'{path} was read when extracted, not now')
        elif old[path] != new[path]:
            lines.append(f'{path}: sha256 {old[path]} when extracted, {new[path]} now')
    return _limited(lines)


def identity_differences(old: dict, new: dict) -> List[str]:
    """What differs between two sources' identities besides the weights and the config path (compared by the
    feature folder, whose messages for those stay), each naming the old and the new value."""
    problems = []
    if old.get('checkpoint_reading') != new.get('checkpoint_reading'):
        problems.append(f'the checkpoint was read as {describe_reading(old.get("checkpoint_reading"))} when '
                        f'extracted, as {describe_reading(new.get("checkpoint_reading"))} now')
    if old.get('config_sha256') != new.get('config_sha256'):
        problems += config_differences(old.get('config_parts'), new.get('config_parts') or {})
    if old.get('data_files') != new.get('data_files'):
        problems += file_differences(old.get('data_files'), new.get('data_files') or {})
    if old.get('pooling') != new.get('pooling'):
        problems.append(f'pooling {old.get("pooling")!r} when extracted, {new.get("pooling")!r} now')
    # Folders written before the precision was recorded hold float32 features.
    old_precision, new_precision = old.get('precision', 'float32'), new.get('precision', 'float32')
    if old_precision != new_precision:
        problems.append(f'precision {old_precision!r} when extracted, {new_precision!r} now')
    return problems


def identity_record(source: Optional[dict]) -> dict:
    """The identity fields of a source, for records and partial results (``config_parts`` left to
    ``meta.json``: ``config_sha256`` stands for them)."""
    source = source or {}
    return {key: source.get(key) for key in IDENTITY_FIELDS if key in source}

"""Partial results on disk, so an interrupted benchmark resumes where it stopped."""
import hashlib
import json
import os
import os.path as osp
import re
import shutil
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.logging import MMLogger

from mmssl.utils.atomic_files import atomic_write_text

from ..feature_folder import FeatureSplit, weights_identity
from ..folder_identity import identity_record

_SIGNATURE = 'signature.json'
_DIGEST_ROWS = 1024  # rows hashed at a time: a memory-mapped layer is streamed, never loaded whole
#: Signature keys whose stored and new values a refusal spells out in full (the others are named only).
_SHOWN = ('source', 'folder', 'features_sha256', 'layer', 'train_shape', 'test_shape', 'solver')


def features_digest(features: np.ndarray) -> str:
    """sha256 of a feature matrix's dtype, shape and bytes, read in row chunks (a 5011 x 9216 float32 memory map
    takes ~0.15 s once cached)."""
    digest = hashlib.sha256(f'{features.dtype.str}{tuple(features.shape)}'.encode())
    for start in range(0, len(features), _DIGEST_ROWS):
        digest.update(np.ascontiguousarray(features[start:start + _DIGEST_ROWS]).data)
    return digest.hexdigest()


def data_signature(train: FeatureSplit, test: FeatureSplit) -> dict:
    """What the results depend on besides the settings: layer, shapes, a digest of the labels, a digest of the
    features themselves, the weights they were extracted from (checkpoint sha256 or random-init seed) and the rest
    of the feature folder's identity (how the checkpoint was read, the config hash, the list files' hashes:
    :func:`~mmssl.evaluation.folder_identity.identity_record`), so that partial results are reused only for the
    same folder identity."""
    digest = hashlib.sha1()
    for split in (train, test):
        digest.update(np.ascontiguousarray(split.labels).tobytes())
        digest.update('\n'.join(split.ids).encode())
    return dict(layer=train.layer, train_shape=list(train.features.shape),
                test_shape=list(test.features.shape), labels_sha1=digest.hexdigest(),
                features_sha256=dict(train=features_digest(train.features), test=features_digest(test.features)),
                source=weights_identity(train.source), folder=identity_record(train.source))


def write_json(path: str, value) -> None:
    """Write JSON atomically: a killed process leaves the old file or the new one, never half."""
    atomic_write_text(path, json.dumps(value, indent=2))


class StaleResultsError(ValueError):
    """A results folder holds partial results of another run (other features, checkpoint or settings)."""


def _difference(stored: dict, signature: dict) -> str:
    changed = sorted(k for k in set(stored) | set(signature) if stored.get(k) != signature.get(k))
    shown = [f'{k}: stored {stored.get(k)!r} vs now {signature.get(k)!r}' for k in changed if k in _SHOWN]
    others = [k for k in changed if k not in _SHOWN]
    return '; '.join(shown + ([f'also differs in {others}'] if others else []))


def _item_path(directory: str, key: str) -> str:
    return osp.join(directory, re.sub(r'[^\w.-]', '_', key) + '.json')


def finished_items(directory: str, keys: Sequence[str]) -> List[str]:
    """The ``keys`` a :class:`PartialResults` in ``directory`` holds, i.e. that a run there would reuse."""
    return [key for key in keys if osp.isfile(_item_path(directory, key))]


class PartialResults:
    """One JSON file per finished item (a class, a shot count) in ``directory``.

    The directory also records the signature of the run (settings, data, features digest and source weights).
    Reusing it with a different signature raises instead of silently reporting another run's results, unless
    ``recompute`` is set: then the stale items are deleted and everything is computed again.

    Args:
        directory: where the items live; created if missing.
        signature: JSON-serialisable description of everything the items depend on.
        recompute: delete the items of a different run instead of raising.

    Raises:
        StaleResultsError: the stored signature differs and ``recompute`` is off; names the folder, the stored and
            new values, and ``--recompute``.
    """

    def __init__(self, directory: str, signature: dict, recompute: bool = False):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        path = osp.join(directory, _SIGNATURE)
        signature = json.loads(json.dumps(signature))  # normalise tuples and keys as JSON would
        if osp.isfile(path):
            with open(path) as f:
                stored = json.load(f)
            if stored != signature:
                difference = _difference(stored, signature)
                if not recompute:
                    raise StaleResultsError(
                        f'{directory} holds partial results of a different run ({difference}); refusing to reuse them. '
                        'Pass --recompute (recompute=True) to delete them and compute again, or use another work '
                        'dir')
                MMLogger.get_current_instance().warning(f'{directory}: deleting the partial results of a different run '
                                                        f'({difference}) and computing again (recompute)')
                shutil.rmtree(directory)  # the folder holds only this store's files
                os.makedirs(directory)
                write_json(path, signature)
        else:
            write_json(path, signature)

    def _path(self, key: str) -> str:
        return _item_path(self.directory, key)

    def get(self, key: str) -> Optional[dict]:
        """The stored item, or ``None`` if it was not finished."""
        path = self._path(key)
        if not osp.isfile(path):
            return None
        with open(path) as f:
            return json.load(f)

    def put(self, key: str, value: dict) -> None:
        write_json(self._path(key), value)

    def items(self, keys) -> Dict[str, dict]:
        """The finished items among ``keys``."""
        found = {key: self.get(key) for key in keys}
        return {key: value for key, value in found.items() if value is not None}

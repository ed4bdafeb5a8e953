"""Partial results on disk, so an interrupted benchmark resumes where it stopped."""
import hashlib
import json
import os
import os.path as osp
import re
from typing import Dict, Optional

import numpy as np

from .features import FeatureSplit

_SIGNATURE = 'signature.json'


def data_signature(train: FeatureSplit, test: FeatureSplit) -> dict:
    """What the results depend on besides the settings: layer, shapes and a digest of the labels."""
    digest = hashlib.sha1()
    for split in (train, test):
        digest.update(np.ascontiguousarray(split.labels).tobytes())
        digest.update('\n'.join(split.ids).encode())
    return dict(layer=train.layer, train_shape=list(train.features.shape),
                test_shape=list(test.features.shape), labels_sha1=digest.hexdigest())


def write_json(path: str, value) -> None:
    """Write JSON atomically: a killed process leaves the old file or the new one, never half."""
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump(value, f, indent=2)
    os.replace(tmp, path)


class PartialResults:
    """One JSON file per finished item (a class, a shot count) in ``directory``.

    The directory also records the signature of the run (settings and data). Reusing it with a
    different signature raises instead of silently mixing results of two configurations.

    Args:
        directory: where the items live; created if missing.
        signature: JSON-serialisable description of everything the items depend on.
    """

    def __init__(self, directory: str, signature: dict):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        path = osp.join(directory, _SIGNATURE)
        signature = json.loads(json.dumps(signature))  # normalise tuples and keys as JSON would
        if osp.isfile(path):
            with open(path) as f:
                stored = json.load(f)
            if stored != signature:
                changed = sorted(k for k in set(stored) | set(signature)
                                 if stored.get(k) != signature.get(k))
                raise ValueError(f'{directory} holds partial results of a different run (differs in '
                                 f'{changed}); use another work dir or delete it')
        else:
            write_json(path, signature)

    def _path(self, key: str) -> str:
        return osp.join(self.directory, re.sub(r'[^\w.-]', '_', key) + '.json')

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

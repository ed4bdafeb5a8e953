"""Importing mmssl changes nothing in torch or mmengine; ``setup_runtime()`` does, once."""
import json
import subprocess
import sys

# Runs in a fresh interpreter: the test process itself has long been set up by other tests.
PROBE = r'''
import json

import torch
from mmengine.fileio.backends import registry_utils
from mmengine.runner.checkpoint import CheckpointLoader


def name(obj):
    return f'{getattr(obj, "__module__", "?")}.{getattr(obj, "__qualname__", repr(obj))}'


def state():
    return dict(safe_globals=sorted(name(g) for g in torch.serialization.get_safe_globals()),
                loaders={prefix: name(loader) for prefix, loader in CheckpointLoader._schemes.items()},
                backends={key: name(cls) for key, cls in registry_utils.backends.items()},
                prefixes={key: name(cls) for key, cls in registry_utils.prefix_to_backends.items()})


states = dict(before=state())
import mmssl  # noqa: E402
import mmssl.benchmarks.all  # noqa: E402,F401  (every module of the package, through the benchmarks)
import mmssl.datasets  # noqa: E402,F401
import mmssl.engine  # noqa: E402,F401
import mmssl.evaluation  # noqa: E402,F401
import mmssl.models  # noqa: E402,F401
from mmssl.utils import setup_runtime  # noqa: E402
states['imported'] = state()
setup_runtime()
states['set_up'] = state()
setup_runtime()
states['set_up_twice'] = state()
print(json.dumps(states))
'''


def test_import_leaves_torch_and_mmengine_alone_and_setup_runtime_is_idempotent(repo_root):
    result = subprocess.run([sys.executable, '-c', PROBE], cwd=repo_root, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-5000:]
    states = json.loads(result.stdout.strip().splitlines()[-1])
    before, imported, set_up = states['before'], states['imported'], states['set_up']
    assert imported == before
    assert 'mmengine.logging.history_buffer.HistoryBuffer' in set_up['safe_globals']
    assert set(before['safe_globals']) < set(set_up['safe_globals'])
    # mmengine's own loader and backend before, mmssl's after
    assert before['loaders'][''].startswith('mmengine.')
    assert set_up['loaders'][''].startswith('mmssl.utils.checkpoint')
    local = 'mmengine.fileio.backends.local_backend.LocalBackend'
    assert before['backends']['local'] == before['prefixes'][''] == local
    assert set_up['backends']['local'] == set_up['prefixes'][''] == 'mmssl.utils.atomic_files.AtomicLocalBackend'
    assert states['set_up_twice'] == set_up

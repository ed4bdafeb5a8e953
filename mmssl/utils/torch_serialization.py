"""Let ``torch.load(weights_only=True)`` read full mmengine checkpoints.

Since torch 2.6 ``torch.load`` only unpickles allow-listed globals. mmengine 0.10.7 checkpoints also hold the
message hub (``HistoryBuffer`` with numpy arrays and scalars), so resume, ``load_from`` and
``init_cfg=dict(type='Pretrained')`` fail with ``Unsupported global``. Allow-listing exactly those types keeps
weights-only loading (no arbitrary code runs) while restoring mmengine's behaviour.
"""
import builtins

import numpy as np
import torch


def _numpy_reconstruct_globals():
    # numpy 2 moved the pickling helpers to numpy._core; checkpoints written with numpy 1 name numpy.core.
    found = []
    for module_name in ('numpy._core.multiarray', 'numpy.core.multiarray'):
        try:
            module = __import__(module_name, fromlist=['_reconstruct'])
        except ImportError:
            continue
        found += [module._reconstruct, module.scalar]
    return found


def checkpoint_safe_globals():
    """Return the list of globals that mmengine checkpoints need beyond torch's default allow-list."""
    from mmengine.logging.history_buffer import HistoryBuffer
    dtype_classes = [getattr(np.dtypes, name) for name in dir(np.dtypes) if name.endswith('DType')]
    return [HistoryBuffer, np.ndarray, np.dtype, builtins.getattr, *_numpy_reconstruct_globals(), *dtype_classes]


def allow_mmengine_checkpoints():
    """Register :func:`checkpoint_safe_globals` with torch's weights-only unpickler (idempotent).

    It changes torch for the whole process, so mmssl calls it where it runs (:func:`mmssl.utils.setup_runtime`).
    """
    torch.serialization.add_safe_globals(checkpoint_safe_globals())

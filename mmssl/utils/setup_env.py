"""Where mmssl sets up a process: its registries and default scope, and the process-wide state its checkpoints need.

``import mmssl`` changes nothing outside mmssl. The state below is set by :func:`setup_runtime`, which
:func:`register_all_modules`, :class:`mmssl.engine.CheckedRunner` (so every training and test run) and every tool
that reads checkpoints call.
"""
import datetime
import warnings

from mmengine import DefaultScope

from .atomic_files import use_atomic_local_writes
from .checkpoint import use_for_mmengine
from .torch_serialization import allow_mmengine_checkpoints


def setup_runtime() -> None:
    """Set the process-wide state that mmssl's checkpoint reads and writes rely on; calling it again changes nothing.

    - torch's weights-only allow-list gains the types of a full mmengine checkpoint
      (:func:`mmssl.utils.torch_serialization.allow_mmengine_checkpoints`), so resume and ``load_from`` work
      without ever unpickling arbitrary objects;
    - mmengine's loader of local checkpoint files becomes mmssl's one reader
      (:func:`mmssl.utils.checkpoint.use_for_mmengine`), so ``load_from`` and mmdet's / mmseg's
      ``init_cfg=dict(type='Pretrained')`` read a file once and refuse a damaged one with a clear message;
    - mmengine's local file backend writes atomically (:func:`mmssl.utils.atomic_files.use_atomic_local_writes`),
      so a killed run never leaves a truncated checkpoint under its final name.

    These change torch and mmengine for the whole process, so they are set where mmssl runs, never at import.
    """
    allow_mmengine_checkpoints()
    use_for_mmengine()
    use_atomic_local_writes()


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every mmssl module that registers something, set up the runtime (:func:`setup_runtime`) and,
    optionally, make ``mmssl`` the default scope.

    Args:
        init_default_scope: set the current default scope to ``mmssl`` so that configs without a
            ``default_scope`` build from mmssl's registries. An existing different scope is replaced by a new
            instance named with a timestamp, as mmengine-based toolboxes do.
    """
    import mmssl.datasets  # noqa: F401
    import mmssl.engine  # noqa: F401
    import mmssl.evaluation  # noqa: F401
    import mmssl.models  # noqa: F401
    import mmssl.structures  # noqa: F401

    setup_runtime()
    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None or not DefaultScope.check_instance_created('mmssl'):
        DefaultScope.get_instance('mmssl', scope_name='mmssl')
        return
    if current.scope_name != 'mmssl':
        warnings.warn(f'The current default scope "{current.scope_name}" is not "mmssl"; '
                      '`register_all_modules` creates a new default scope named "mmssl".')
        DefaultScope.get_instance(f'mmssl-{datetime.datetime.now()}', scope_name='mmssl')

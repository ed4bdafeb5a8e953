from .utils.atomic_files import use_atomic_local_writes
from .utils.checkpoint import use_for_mmengine
from .utils.torch_serialization import allow_mmengine_checkpoints
from .version import __version__

allow_mmengine_checkpoints()
use_for_mmengine()
use_atomic_local_writes()

__all__ = ['__version__']

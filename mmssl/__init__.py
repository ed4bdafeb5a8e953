"""mmssl: self-supervised pre-training and its benchmarks on mmengine.

Importing it changes nothing outside mmssl; :func:`mmssl.utils.setup_runtime` (called by ``register_all_modules``,
the Runner and the tools) sets the torch and mmengine state that its checkpoints need.
"""
from .version import __version__

__all__ = ['__version__']

"""Imports every module of :mod:`mmssl.benchmarks`, so that each benchmark registers itself (the ``BENCHMARKS``
registry's location): adding a benchmark to mmssl is adding a module here, nothing else.

Plugins register their own benchmarks from their own packages, imported through ``custom_imports`` in their
benchmark config (docs/en/add_new_benchmark.md).
"""
import importlib
import pkgutil

import mmssl.benchmarks

for _module in pkgutil.iter_modules(mmssl.benchmarks.__path__):
    if _module.name not in ('all', '__main__'):
        importlib.import_module(f'mmssl.benchmarks.{_module.name}')

"""Benchmark a pre-training while it runs: every checkpoint it writes (:func:`watch_training`, the watcher of
``tools/benchmarks/watch.py``) or its in-memory backbone every N steps (:class:`BenchmarkHook`), into one layout
of records (:mod:`.results`) drawn as curves (:mod:`.curves`).

- :mod:`.checkpoints`: the checkpoints of a work dir, when each is complete, what training it belongs to;
- :mod:`.results`: the records of one step and the ``watch.json`` that marks it done;
- :mod:`.watcher`: the polling loop;
- :mod:`.session`: a watch from a pre-training config and a suite file;
- :mod:`.curves`: ``curves.png`` and ``curves.md``;
- :mod:`.hook`: ``BenchmarkHook``.
"""
from .curves import write_curves
from .hook import BenchmarkHook
from .session import watch_training
from .watcher import CheckpointVanishedWarning, IdleTimeoutError, watch

__all__ = ['BenchmarkHook', 'CheckpointVanishedWarning', 'IdleTimeoutError', 'watch', 'watch_training', 'write_curves']

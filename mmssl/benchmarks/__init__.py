"""Benchmarks: evaluation protocols run on a pre-trained (or seeded random) backbone.

One module per benchmark (``svm``, ``lowshot``, ``linear``, ``knn``, ``semi_sup``, ``dense`` for ``det`` / ``seg``),
each registered in :data:`mmssl.registry.BENCHMARKS` (:mod:`mmssl.benchmarks.base` says what a benchmark declares);
``python -m mmssl.benchmarks NAME CONFIG CHECKPOINT`` runs one (:mod:`mmssl.benchmarks.cli`), and
:mod:`mmssl.benchmarks.suite` runs a suite of them. :mod:`mmssl.benchmarks.protocol` holds the constants every layer
shares; it imports nothing, which is why this package's ``__init__`` imports nothing either (models import it).
"""

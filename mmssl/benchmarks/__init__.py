"""Benchmarks: evaluation protocols run on a pre-trained (or seeded random) backbone.

One module per benchmark (``svm``, ``lowshot``, ``linear``, ``knn``, ``semi_sup``, ``dense`` for ``det`` / ``seg``),
each registered in :data:`mmssl.registry.BENCHMARKS` (:mod:`mmssl.benchmarks.base` says what a benchmark declares);
``python -m mmssl.benchmarks NAME CONFIG CHECKPOINT`` runs one (:mod:`mmssl.benchmarks.cli`), and
:mod:`mmssl.benchmarks.suite` runs a suite of them. :mod:`mmssl.benchmarks.tables` renders their result records as
the model-zoo tables (a suite run's, and the repository's through ``tools/analysis_tools/model_zoo``). The protocol
constants that lower layers share live at the bottom of the package, in :mod:`mmssl.constants`.
"""

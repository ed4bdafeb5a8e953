"""Interchangeable solvers for batches of VOC07-protocol SVMs.

``sklearn`` fits ``sklearn.svm.LinearSVC`` with exactly the protocol settings, one fit per (problem, cost),
spread over processes with joblib - the reference. ``fast`` solves the same problems to a much tighter
optimality tolerance, through one shared Gram matrix (the dual, see :mod:`mmssl.evaluation.svm.newton`) when
that fits the memory budget ``max_memory`` and otherwise in the primal over chunks of the (memory-mapped)
features (see :mod:`mmssl.evaluation.svm.primal`); the choice is logged. All take an :class:`SVMProblems`
batch and return decision values.

:mod:`.base` holds the interface, :mod:`.reference`, :mod:`.fast` and :mod:`.primal` the solvers,
:mod:`.builder` the names the benchmarks choose them by.
"""
from .base import DEFAULT_MAX_MEMORY, BaseSVMSolver, SVMProblems, SVMSolution, parse_memory
from .builder import SOLVERS, build_svm_solver
from .fast import FastSVMSolver
from .primal import PrimalSVMSolver
from .reference import SklearnSVMSolver

__all__ = [
    'DEFAULT_MAX_MEMORY', 'SOLVERS', 'BaseSVMSolver', 'FastSVMSolver', 'PrimalSVMSolver', 'SklearnSVMSolver',
    'SVMProblems', 'SVMSolution', 'build_svm_solver', 'parse_memory'
]

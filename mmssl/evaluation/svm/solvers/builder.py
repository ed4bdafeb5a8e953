"""The solvers by name, as the benchmarks and their command lines choose them."""
from ..protocol import SVMProtocol
from .base import BaseSVMSolver
from .fast import FastSVMSolver
from .primal import PrimalSVMSolver
from .reference import SklearnSVMSolver

#: Solver names accepted by :func:`build_svm_solver`. A plain mapping: the solvers are not
#: config-built modules, so a registry would add a scope and lazy imports for two entries.
SOLVERS = {'fast': FastSVMSolver, 'sklearn': SklearnSVMSolver, 'primal': PrimalSVMSolver}


def build_svm_solver(name: str, protocol: SVMProtocol, **kwargs) -> BaseSVMSolver:
    """Build the solver ``name`` (``'fast'``, ``'sklearn'`` or ``'primal'``) for ``protocol``.

    ``kwargs`` go to the solver's constructor, e.g. ``device``, ``max_memory`` (fast, primal) or
    ``n_jobs`` (sklearn).
    """
    if name not in SOLVERS:
        raise ValueError(f'unknown SVM solver {name!r}, expected one of {sorted(SOLVERS)}')
    return SOLVERS[name](protocol, **kwargs)

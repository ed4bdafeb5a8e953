"""Linear-SVM benchmarks on extracted features: VOC07 (and COCO2014, same protocol), low-shot VOC07 and
low-shot Places205. The feature folder they read (:mod:`mmssl.evaluation.feature_folder`) is re-exported for
them: its splits are the solvers' input."""
from ..feature_folder import FeatureSplit, check_layers, l2_normalize, load_split, read_meta, write_meta
from .lowshot import (LowShotSamples, generate_lowshot_samples, load_lowshot_samples, run_lowshot_svm,
                      save_lowshot_samples)
from .lowshot_places import (PLACES_LOWSHOT_COSTS, PlacesLowShotSamples, check_places_lowshot, class_indices,
                             generate_places_lowshot_samples, read_fair_places_samples, run_places_lowshot_svm)
from .protocol import COST_PRESETS, SVMProtocol, cv_fold_ids, evaluation_mask, resolve_costs, select_cost, train_targets
from .solvers import (DEFAULT_MAX_MEMORY, SOLVERS, BaseSVMSolver, FastSVMSolver, PrimalSVMSolver, SklearnSVMSolver,
                      SVMProblems, SVMSolution, build_svm_solver, parse_memory)
from .voc07 import run_voc07_svm

__all__ = [
    'FeatureSplit', 'check_layers', 'l2_normalize', 'load_split', 'read_meta', 'write_meta', 'LowShotSamples',
    'generate_lowshot_samples', 'load_lowshot_samples',
    'run_lowshot_svm', 'save_lowshot_samples', 'COST_PRESETS', 'SVMProtocol',
    'cv_fold_ids', 'evaluation_mask', 'resolve_costs', 'select_cost', 'train_targets', 'SOLVERS',
    'DEFAULT_MAX_MEMORY', 'parse_memory', 'PrimalSVMSolver', 'BaseSVMSolver', 'FastSVMSolver', 'SklearnSVMSolver',
    'SVMProblems', 'SVMSolution', 'build_svm_solver', 'run_voc07_svm',
    'PLACES_LOWSHOT_COSTS', 'PlacesLowShotSamples', 'generate_places_lowshot_samples',
    'run_places_lowshot_svm', 'check_places_lowshot', 'class_indices',
    'read_fair_places_samples'
]

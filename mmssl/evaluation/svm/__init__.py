"""VOC07 linear-SVM and low-shot SVM benchmarks on extracted features."""
from .features import FeatureSplit, check_layers, l2_normalize, load_split, read_meta, write_meta, write_split
from .lowshot import (LowShotSamples, generate_lowshot_samples, load_lowshot_samples, run_lowshot_svm,
                      save_lowshot_samples)
from .protocol import COST_PRESETS, SVMProtocol, cv_fold_ids, evaluation_mask, resolve_costs, select_cost, train_targets
from .solvers import (SVM_SOLVERS, BaseSVMSolver, FastSVMSolver, SklearnSVMSolver, SVMProblems, SVMSolution,
                      build_svm_solver)
from .synthetic import make_voc_like_features
from .voc07 import run_voc07_svm

__all__ = [
    'FeatureSplit', 'check_layers', 'l2_normalize', 'load_split', 'read_meta', 'write_meta',
    'write_split', 'LowShotSamples', 'generate_lowshot_samples', 'load_lowshot_samples',
    'run_lowshot_svm', 'save_lowshot_samples', 'COST_PRESETS', 'SVMProtocol',
    'cv_fold_ids', 'evaluation_mask', 'resolve_costs', 'select_cost', 'train_targets', 'SVM_SOLVERS',
    'BaseSVMSolver', 'FastSVMSolver', 'SklearnSVMSolver', 'SVMProblems', 'SVMSolution',
    'build_svm_solver', 'make_voc_like_features', 'run_voc07_svm'
]

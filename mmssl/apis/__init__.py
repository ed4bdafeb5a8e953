from .knn import run_knn
from .results import BENCHMARKS, read_result, write_result
from .train import add_train_arguments, load_train_config, train

__all__ = ['add_train_arguments', 'load_train_config', 'train', 'run_knn', 'BENCHMARKS', 'read_result', 'write_result']

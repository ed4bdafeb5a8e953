from .knn import run_knn
from .train import add_train_arguments, load_train_config, train

__all__ = ['add_train_arguments', 'load_train_config', 'train', 'run_knn']

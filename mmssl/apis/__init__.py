from .train import add_train_arguments, load_train_config, train

__all__ = ['add_train_arguments', 'load_train_config', 'train']

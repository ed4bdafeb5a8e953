from .train import add_train_arguments, add_train_options, apply_train_options, load_train_config, train

__all__ = ['add_train_arguments', 'add_train_options', 'apply_train_options', 'load_train_config', 'train']

"""Training with mmengine's Runner: mmssl's Runner, its hooks, and the training entry of the tools and benchmarks."""
from .hooks import CheckpointHook, DataCheckHook, MemoryBankSizeCheckHook, PretrainedWeightsCheckHook
from .optimizers import LARS
from .runner import CheckedRunner
from .train import add_train_arguments, add_train_options, apply_train_options, load_train_config, train

__all__ = [
    'CheckpointHook', 'DataCheckHook', 'MemoryBankSizeCheckHook', 'PretrainedWeightsCheckHook', 'LARS', 'CheckedRunner',
    'add_train_arguments', 'add_train_options', 'apply_train_options', 'load_train_config', 'train'
]

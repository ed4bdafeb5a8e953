from .checkpoint_hook import CheckpointHook
from .data_check_hook import DataCheckHook
from .memory_bank_check_hook import MemoryBankSizeCheckHook
from .pretrained_weights_check_hook import PretrainedWeightsCheckHook

__all__ = ['CheckpointHook', 'DataCheckHook', 'MemoryBankSizeCheckHook', 'PretrainedWeightsCheckHook']

from .checkpoint_hook import CheckpointHook
from .memory_bank_check_hook import MemoryBankSizeCheckHook
from .pretrained_weights_check_hook import PretrainedWeightsCheckHook

__all__ = ['CheckpointHook', 'MemoryBankSizeCheckHook', 'PretrainedWeightsCheckHook']

from .memory_bank_check_hook import MemoryBankSizeCheckHook
from .pretrained_weights_check_hook import PretrainedWeightsCheckHook

__all__ = ['MemoryBankSizeCheckHook', 'PretrainedWeightsCheckHook']

from .memory_bank_check_hook import MemoryBankSizeCheckHook

__all__ = ['MemoryBankSizeCheckHook']

from .simple_memory import SimpleMemory

__all__ = ['SimpleMemory']

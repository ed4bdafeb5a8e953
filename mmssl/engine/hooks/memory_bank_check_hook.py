from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmssl.registry import HOOKS


@HOOKS.register_module()
class MemoryBankSizeCheckHook(Hook):
    """Refuse to train when the model's memory bank and the training set differ in size.

    A bank shorter than the data set would fail at some random iteration with an index error; a longer one
    would silently keep never-updated random entries as negatives. Checked once, before the first iteration.
    """

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        bank = getattr(model, 'memory_bank', None)
        if bank is None:
            raise RuntimeError(f'MemoryBankSizeCheckHook: {type(model).__name__} has no memory_bank')
        dataset_size = len(runner.train_dataloader.dataset)
        if bank.length != dataset_size:
            raise ValueError(f'memory bank length {bank.length} differs from the training set size {dataset_size}; '
                             f'set model.memory_bank.length={dataset_size}')

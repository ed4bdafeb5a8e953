from typing import Optional, Sequence

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop

from mmssl.registry import HOOKS
from mmssl.utils.checkpoint import require_prefixed_checkpoint, verify_loaded_weights, write_load_report


@HOOKS.register_module()
class PretrainedWeightsCheckHook(Hook):
    """Refuse to train a detector / segmentor whose pre-trained modules did not receive the checkpoint.

    mmdet and mmseg load ``init_cfg=dict(type='Pretrained', checkpoint=..., prefix=...)`` with ``strict=False``
    and only log what did not fit. This hook reads each listed module's own ``init_cfg`` (so it checks exactly
    what was asked for), refuses a missing checkpoint or one without the prefix before the weights are
    initialised, and after initialisation compares the module's tensors with the checkpoint's
    (:func:`~mmssl.utils.verify_loaded_weights`): training stops unless at least ``min_match_ratio`` of the
    keys are equal and the input layer is among them. The result is logged.

    Used from mmdet / mmseg configs as ``custom_hooks = [dict(type='mmssl.PretrainedWeightsCheckHook', ...)]``
    with ``custom_imports = dict(imports=['mmssl.engine'])``.

    Args:
        modules: the modules that load the pre-trained checkpoint, each ``dict(name='backbone')`` (a dotted
            path in the model, e.g. ``'roi_head.shared_head'``) with optional ``new_keys``: key prefixes of layers
            the benchmark adds on top of the pre-trained ones (e.g. ``['norm.']``), which are not compared.
        min_match_ratio: least share of a module's keys that must equal the checkpoint's.
    """

    priority = 'VERY_HIGH'

    def __init__(self, modules: Sequence[dict] = (dict(name='backbone'), ), min_match_ratio: float = 0.9,
                 report_file: Optional[str] = None):
        self.modules = [dict(name=m['name'], new_keys=tuple(m.get('new_keys', ()))) for m in modules]
        self.min_match_ratio = min_match_ratio
        #: where the report of the first listed module's check goes (JSON, main process), for the result record
        self.report_file = report_file

    @staticmethod
    def _model(runner):
        return runner.model.module if is_model_wrapper(runner.model) else runner.model

    def _pretrained_init(self, runner, name: str) -> dict:
        module = self._model(runner).get_submodule(name)
        init_cfg = getattr(module, 'init_cfg', None)
        if not isinstance(init_cfg, dict) or init_cfg.get('type') != 'Pretrained':
            raise ValueError(f"model.{name}.init_cfg must be dict(type='Pretrained', checkpoint=..., "
                             f"prefix='backbone.'), got {init_cfg!r}")
        if not init_cfg.get('checkpoint'):
            raise ValueError(f'model.{name}.init_cfg.checkpoint is not set: pass the pre-trained checkpoint '
                             '(tools/benchmarks/mmdetection/train.py or mmsegmentation/train.py '
                             f'CONFIG PRETRAIN, or --cfg-options model.{name}.init_cfg.checkpoint=PRETRAIN)')
        return init_cfg

    def before_run(self, runner) -> None:
        # Testing and validation load a trained model; only a training run initialises from the checkpoint.
        # ``train()`` builds its loop before ``before_run``, ``test()`` / ``val()`` never build it.
        if not isinstance(getattr(runner, '_train_loop', None), BaseLoop):
            return
        for spec in self.modules:
            init_cfg = self._pretrained_init(runner, spec['name'])
            require_prefixed_checkpoint(init_cfg['checkpoint'], init_cfg.get('prefix') or '')

    def before_train(self, runner) -> None:
        if runner.iter > 0 or runner.cfg.get('load_from'):
            runner.logger.info('PretrainedWeightsCheckHook: weights come from a resumed / load_from checkpoint, '
                               'not from the pre-trained one; nothing to check')
            return
        cache: dict = {}
        for spec in self.modules:
            name = spec['name']
            init_cfg = self._pretrained_init(runner, name)
            checkpoint, prefix = init_cfg['checkpoint'], init_cfg.get('prefix') or ''
            if (checkpoint, prefix) not in cache:
                cache[checkpoint, prefix] = require_prefixed_checkpoint(checkpoint, prefix)
            result = verify_loaded_weights(
                self._model(runner).get_submodule(name), cache[checkpoint, prefix], name=name, checkpoint=checkpoint,
                prefix=prefix, new_keys=spec['new_keys'], min_match_ratio=self.min_match_ratio)
            runner.logger.info(f'Pre-trained weights in model.{name} from {checkpoint} (prefix "{prefix}"): '
                               f'{result.summary()}; e.g. {result.first_key} equals the checkpoint')
            if spec is self.modules[0]:
                write_load_report(result, self.report_file)

    @staticmethod
    def find(custom_hooks: Optional[Sequence[dict]]) -> Optional[dict]:
        """The config entry of this hook in ``custom_hooks`` (``None`` when absent)."""
        for hook in custom_hooks or ():
            if str(hook.get('type', '')).split('.')[-1] == 'PretrainedWeightsCheckHook':
                return hook
        return None

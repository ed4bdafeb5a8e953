"""mmssl's ``CheckpointHook``: mmengine's, with a save order that never leaves a work dir without a checkpoint, and
optionally a checkpoint of the initial weights (``iter_0.pth`` / ``epoch_0.pth``)."""
import inspect
import logging
import os.path as osp
from contextlib import contextmanager

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook as MMEngineCheckpointHook

from mmssl.registry import HOOKS
from mmssl.utils.atomic_files import atomic_write_text

LAST_CHECKPOINT = 'last_checkpoint'
#: The deprecation notices mmengine (0.10) logs when ``CheckpointHook.before_train`` and ``save_checkpoint`` build a
#: ``FileClient`` that they never use (``file_client_args`` is None: they save through ``get_file_backend``).
UNUSED_FILE_CLIENT_NOTICES = ('"FileClient" will be deprecated in future.',
                              '"HardDiskBackend" is the alias of "LocalBackend"')


class _DropUnusedFileClientNotices(logging.Filter):
    """Drops :data:`UNUSED_FILE_CLIENT_NOTICES` and nothing else."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(UNUSED_FILE_CLIENT_NOTICES)


@contextmanager
def _unused_file_client_notices_dropped(logger: logging.Logger, active: bool):
    """Drops :data:`UNUSED_FILE_CLIENT_NOTICES` from ``logger`` inside the block when ``active``."""
    notices = _DropUnusedFileClientNotices()
    if active:
        logger.addFilter(notices)
    try:
        yield
    finally:
        logger.removeFilter(notices)


@HOOKS.register_module()
class CheckpointHook(MMEngineCheckpointHook):
    """mmengine's ``CheckpointHook`` (same arguments), registered under the same name in the ``mmssl`` scope, so
    every config with ``default_scope='mmssl'`` uses it (mmdet / mmseg configs get it as ``mmssl.CheckpointHook``
    from :func:`mmssl.engine.apply_train_options`).

    mmengine deletes the oldest checkpoint before it writes the new one and writes ``last_checkpoint`` in place;
    a run killed in between leaves fewer checkpoints than ``max_keep_ckpts`` (none with 1) or an empty
    ``last_checkpoint``. Here the new checkpoint is written first (atomically, :mod:`mmssl.utils.atomic_files`),
    then ``last_checkpoint`` (atomically), and only then the oldest one is deleted.

    Args:
        save_initial: also save the weights the training starts from, before its first step, as step 0
            (``iter_0.pth``, or ``epoch_0.pth`` with ``by_epoch``), so that a curve of benchmarks over training
            starts at the initial network of the same seed. Only a run that starts at step 0 saves it (a resumed
            run does not). Default ``False``: nothing changes for existing configs.
        **kwargs: mmengine's ``CheckpointHook`` arguments.
    """

    def __init__(self, *args, save_initial: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.save_initial = save_initial

    def before_train(self, runner) -> None:
        """mmengine's set-up, then the step-0 checkpoint when ``save_initial`` asks for it.

        Without ``file_client_args`` mmengine's set-up (and its checkpoint saving) builds a ``FileClient`` only to
        keep an attribute it does not use, and that logs two deprecation notices on every training that no config
        can avoid; they are dropped here and in each save (those two messages, during those calls only). With
        ``file_client_args`` they still show: the config then asks for the deprecated client.
        """
        with _unused_file_client_notices_dropped(runner.logger, self.file_client_args is None):
            super().before_train(runner)
        if self.save_initial and runner.iter == 0 and runner.epoch == 0:
            runner.logger.info('Saving checkpoint of the initial weights (step 0)')
            self._save_checkpoint_with_step(runner, 0, meta=dict(epoch=0, iter=0))

    def _save_checkpoint_with_step(self, runner, step, meta):
        outdated = []
        # both the interval save and a best-checkpoint save may call this for one step; count the step once
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            self.keep_ckpt_ids.append(step)
            while len(self.keep_ckpt_ids) > self.max_keep_ckpts:
                outdated.append(self.keep_ckpt_ids.popleft())
            # saved with the checkpoint, so that a resumed run keeps deleting the right files
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        with _unused_file_client_notices_dropped(runner.logger, self.file_client_args is None):
            runner.save_checkpoint(self.out_dir, filename, self.file_client_args, save_optimizer=self.save_optimizer,
                                   save_param_scheduler=self.save_param_scheduler, meta=meta, by_epoch=self.by_epoch,
                                   backend_args=self.backend_args, **self.args)
        if not is_main_process():
            return
        atomic_write_text(osp.join(runner.work_dir, LAST_CHECKPOINT), self.last_ckpt)
        for old_step in outdated:
            path = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(old_step))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # deepspeed writes a folder per checkpoint
                self.file_backend.rmtree(path)


def _with_save_initial(signature: inspect.Signature) -> inspect.Signature:
    """mmengine's signature with ``save_initial`` before its ``**kwargs``, so that the check of hook arguments
    (``mmssl.engine.hook_arguments``) still sees every argument by name."""
    parameters = list(signature.parameters.values())
    extra = inspect.Parameter('save_initial', inspect.Parameter.KEYWORD_ONLY, default=False, annotation=bool)
    return signature.replace(parameters=parameters[:-1] + [extra, parameters[-1]])


CheckpointHook.__init__.__signature__ = _with_save_initial(inspect.signature(MMEngineCheckpointHook.__init__))

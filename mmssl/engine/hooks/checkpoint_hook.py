"""mmssl's ``CheckpointHook``: mmengine's, with a save order that never leaves a work dir without a checkpoint."""
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook as MMEngineCheckpointHook

from mmssl.registry import HOOKS
from mmssl.utils.atomic_files import atomic_write_text

LAST_CHECKPOINT = 'last_checkpoint'


@HOOKS.register_module()
class CheckpointHook(MMEngineCheckpointHook):
    """mmengine's ``CheckpointHook`` (same arguments), registered under the same name in the ``mmssl`` scope, so
    every config with ``default_scope='mmssl'`` uses it (mmdet / mmseg configs get it as ``mmssl.CheckpointHook``
    from :func:`mmssl.engine.apply_train_options`).

    mmengine deletes the oldest checkpoint before it writes the new one and writes ``last_checkpoint`` in place;
    a run killed in between leaves fewer checkpoints than ``max_keep_ckpts`` (none with 1) or an empty
    ``last_checkpoint``. Here the new checkpoint is written first (atomically, :mod:`mmssl.utils.atomic_files`),
    then ``last_checkpoint`` (atomically), and only then the oldest one is deleted.
    """

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

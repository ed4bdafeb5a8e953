"""mmssl's Runner: mmengine's, with checked loading and resuming (:mod:`mmssl.engine.resume`)."""
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from mmssl.registry import RUNNERS
from mmssl.utils.checkpoint import load_state_dict_checked, read_checkpoint
from mmssl.utils.setup_env import setup_runtime

from .hook_arguments import check_hook_arguments
from .hooks.data_check_hook import DataCheckHook
from .resume import check_resumable, find_resume_checkpoint

__all__ = ['CheckedRunner']


@RUNNERS.register_module()
class CheckedRunner(Runner):
    """mmengine's ``Runner`` whose ``load_from``, ``--resume`` and ``--resume FILE`` are checked.

    mmengine loads ``load_from`` with ``strict=False`` (a checkpoint matching no key trains from scratch, rc 0),
    auto-resumes only through ``last_checkpoint`` (without it, training restarts at iteration 1 over the
    checkpoints present) and fails on a checkpoint of another config with ``KeyError: 'epoch'``. Here:

    - ``load_from`` goes through :func:`mmssl.utils.load_state_dict_checked` for the whole model: at least
      ``min_load_ratio`` of its keys must load (0.9 for training; ``tools/test.py`` sets 1.0, every key);
    - ``resume=True`` without a file finds the checkpoint by :func:`mmssl.engine.resume.find_resume_checkpoint`;
    - a file to resume from must pass :func:`mmssl.engine.resume.check_resumable`;
    - a misspelled hook argument fails when the hooks are built (:func:`check_hook_arguments`), not at first use;
    - the training data is checked before the first iteration (:class:`DataCheckHook`: labels within the head's
      ``num_classes``; with ``check_images=True`` in the config, ``--check-images``, every image decoded).

    Building one sets up the runtime (:func:`mmssl.utils.setup_runtime`), whoever builds it: its checkpoints are
    read by mmssl's loader and written atomically. ``load_report`` holds the :class:`mmssl.utils.LoadReport` of
    the last load.
    """
    #: least share of the model's keys that ``load_from`` must provide
    min_load_ratio: float = 0.9
    load_report = None

    def __init__(self, *args, **kwargs) -> None:
        """Set up the runtime (:func:`mmssl.utils.setup_runtime`), then build the Runner as mmengine does."""
        setup_runtime()
        super().__init__(*args, **kwargs)

    def register_hooks(self, default_hooks=None, custom_hooks=None) -> None:
        """Check the hook configs' arguments, then register the hooks as mmengine does."""
        check_hook_arguments(default_hooks, custom_hooks)
        super().register_hooks(default_hooks, custom_hooks)
        if not any(isinstance(hook, DataCheckHook) for hook in self._hooks):
            self.register_hook(DataCheckHook(check_images=bool(self.cfg.get('check_images', False))))

    def load_or_resume(self) -> None:
        """As mmengine's, but an automatic resume takes the checkpoint :func:`find_resume_checkpoint` picks."""
        if self._has_loaded:
            return None
        if self._resume and self._load_from is None:
            found = find_resume_checkpoint(self.work_dir, self.logger)
            if found is None:
                self._resume = False  # nothing to resume yet: a fresh start, not mmengine's 'Auto resumed from None'
            self._load_from = found
        return super().load_or_resume()

    def resume(self, filename: str, *args, **kwargs) -> None:
        """Refuse a checkpoint the model cannot resume from (naming it), then resume as mmengine does."""
        check_resumable(filename, self._bare_model())
        return super().resume(filename, *args, **kwargs)

    def load_checkpoint(self, filename: str, map_location='cpu', strict: bool = False, revise_keys=None) -> dict:
        """Load ``filename`` into the model through the checked loader; returns the checkpoint as read.

        ``strict=True`` requires every key; ``revise_keys`` is not supported (the loader strips DDP's
        ``module.`` itself): key renaming belongs in a converter (``tools/model_converters``).
        """
        if revise_keys not in (None, [(r'^module.', '')]):
            raise ValueError(f'{type(self).__name__}.load_checkpoint: revise_keys={revise_keys!r} is not supported')
        file = read_checkpoint(filename)
        checkpoint = file.content
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        self.load_report = load_state_dict_checked(
            self._bare_model(), file.state_dict, min_match_ratio=1.0 if strict else self.min_load_ratio,
            source=file.path, logger=self.logger)
        self._has_loaded = True
        return checkpoint

    def _bare_model(self):
        return self.model.module if is_model_wrapper(self.model) else self.model

"""Check the arguments of the hooks a config lists before the Runner builds them.

mmengine's ``CheckpointHook`` takes ``**kwargs`` and hands them to ``Runner.save_checkpoint``, so
``checkpoint=dict(type='CheckpointHook', intervall=100)`` builds fine and fails only at the first save, hours
into training. :func:`check_hook_arguments` refuses an argument that no parameter takes, naming the hook, the key
and the closest accepted names.
"""
import difflib
import inspect
from typing import Iterable, Optional, Set, Tuple

from mmengine.hooks import CheckpointHook as MMEngineCheckpointHook
from mmengine.registry import HOOKS, DefaultScope
from mmengine.runner import Runner

__all__ = ['accepted_arguments', 'check_hook_arguments']

# What mmengine's CheckpointHook passes to Runner.save_checkpoint itself; its **kwargs may add only the rest.
_SAVE_ARGUMENTS_SET_BY_THE_HOOK = {'self', 'out_dir', 'filename', 'file_client_args', 'save_optimizer',
                                   'save_param_scheduler', 'meta', 'by_epoch', 'backend_args'}


def accepted_arguments(hook_class: type) -> Optional[Set[str]]:
    """The config keys ``hook_class`` accepts, or None when it takes ``**kwargs`` that cannot be checked here."""
    parameters = inspect.signature(hook_class.__init__).parameters
    names = {name for name, parameter in parameters.items() if name != 'self'
             and parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)}
    if not any(parameter.kind is parameter.VAR_KEYWORD for parameter in parameters.values()):
        return names
    if issubclass(hook_class, MMEngineCheckpointHook):  # its **kwargs go to Runner.save_checkpoint
        return names | (set(inspect.signature(Runner.save_checkpoint).parameters) - _SAVE_ARGUMENTS_SET_BY_THE_HOOK)
    return None


def _hook_configs(default_hooks: Optional[dict], custom_hooks: Optional[list]) -> Iterable[Tuple[str, dict]]:
    for name, hook in (default_hooks or {}).items():
        yield f'default_hooks.{name}', hook
    for index, hook in enumerate(custom_hooks or []):
        yield f'custom_hooks[{index}]', hook


def check_hook_arguments(default_hooks: Optional[dict], custom_hooks: Optional[list]) -> None:
    """Raise ``TypeError`` for a hook config key that its hook does not accept (current default scope).

    Already built hooks and hooks whose type is unknown (the registry reports those when building) are skipped.
    """
    for where, hook in _hook_configs(default_hooks, custom_hooks):
        if not isinstance(hook, dict) or 'type' not in hook:
            continue
        if inspect.isclass(hook['type']):
            hook_class = hook['type']
        else:
            # configs inherited from mmdet / mmseg name their scope per entry, as the registry reads it
            # and, as the builder does, a name without a scope resolves in the default scope's own registry first
            with DefaultScope.overwrite_default_scope(hook.get('_scope_')):
                with HOOKS.switch_scope_and_registry(None) as registry:
                    hook_class = registry.get(hook['type'])
        if hook_class is None:
            continue
        accepted = accepted_arguments(hook_class)
        if accepted is None:
            continue
        for key in sorted(set(hook) - accepted - {'type', 'priority', '_scope_'}):
            close = difflib.get_close_matches(key, sorted(accepted), n=3, cutoff=0.6)
            hint = f'did you mean {", ".join(close)}?' if close else f'it accepts {", ".join(sorted(accepted))}'
            raise TypeError(f'{where}: {hook_class.__name__} has no argument {key!r}: {hint}')

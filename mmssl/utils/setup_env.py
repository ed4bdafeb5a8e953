import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every mmssl module that registers something and, optionally, make ``mmssl`` the default scope.

    Args:
        init_default_scope: set the current default scope to ``mmssl`` so that configs without a
            ``default_scope`` build from mmssl's registries. An existing different scope is replaced by a new
            instance named with a timestamp, as mmengine-based toolboxes do.
    """
    import mmssl.datasets  # noqa: F401
    import mmssl.engine  # noqa: F401
    import mmssl.evaluation  # noqa: F401
    import mmssl.models  # noqa: F401
    import mmssl.structures  # noqa: F401

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None or not DefaultScope.check_instance_created('mmssl'):
        DefaultScope.get_instance('mmssl', scope_name='mmssl')
        return
    if current.scope_name != 'mmssl':
        warnings.warn(f'The current default scope "{current.scope_name}" is not "mmssl"; '
                      '`register_all_modules` creates a new default scope named "mmssl".')
        DefaultScope.get_instance(f'mmssl-{datetime.datetime.now()}', scope_name='mmssl')

"""The exceptions of an input that mmssl refuses; a leaf module, so that any layer can raise them."""

__all__ = ['CheckpointMismatchError', 'InputError']


class InputError(ValueError):
    """A file, config value or option that mmssl refuses; the message names it and says what was expected.

    The command-line tools print it as one ``error: <message>`` line and exit with status 2
    (:mod:`mmssl.utils.cli_errors`). It is a ``ValueError``, so callers that catch those keep working.
    """


class CheckpointMismatchError(InputError, RuntimeError):
    """A checkpoint that cannot be read, is ambiguous, or whose keys do not fit the module it is meant for.

    An :class:`InputError`, so every tool reports it as one line; still a ``RuntimeError`` (what it was before it
    became one), so callers that catch those keep working.
    """

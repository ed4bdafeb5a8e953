"""The exception of an input that mmssl refuses; a leaf module, so that any layer can raise it."""

__all__ = ['InputError']


class InputError(ValueError):
    """A file, config value or option that mmssl refuses; the message names it and says what was expected.

    The command-line tools print it as one ``error: <message>`` line and exit with status 2
    (:mod:`mmssl.utils.cli_errors`). It is a ``ValueError``, so callers that catch those keep working.
    """

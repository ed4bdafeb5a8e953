"""Expected input errors on the command line: one ``error: <message>`` line on stderr and exit status 2.

Every tool runs its ``main`` through :func:`run_cli`. An expected input error is

- an :class:`mmssl.utils.errors.InputError` (:class:`mmssl.utils.CheckpointMismatchError` is one);
- a ``FileNotFoundError`` (a path that was given does not exist);
- a ``ValueError`` or ``KeyError`` that a ``raise`` statement of mmssl's own code raised (the package, and the
  repository's tools and projects): the validation of a file, a config value or an option. The same types raised
  inside torch, numpy or mmengine, or a failed lookup such as ``d[key]``, are bugs and keep their traceback (an
  mmengine builder that re-raises one of ours with the class name in front still counts as ours).

Any other error keeps its traceback, and ``SystemExit`` (argparse's usage errors, a tool's own message) passes
unchanged. ``--debug`` on a tool's command line or ``MMSSL_DEBUG=1`` in the environment shows the traceback of an
input error too.
"""
import contextlib
import linecache
import os
import os.path as osp
import sys
from typing import Any, Callable, Iterator, Optional

from .errors import InputError

__all__ = ['DEBUG_ENV', 'DEBUG_FLAG', 'EXIT_INPUT_ERROR', 'is_input_error', 'run_cli', 'user_errors']

DEBUG_ENV = 'MMSSL_DEBUG'
DEBUG_FLAG = '--debug'
# argparse's status for a usage error: the input was wrong, not the program
EXIT_INPUT_ERROR = 2

INPUT_ERRORS = (InputError, FileNotFoundError)
VALIDATION_ERRORS = (ValueError, KeyError)


def _own_code_roots() -> tuple:
    """The folders of mmssl's own code: the package, and a source checkout's ``tools/`` and ``projects/``."""
    package = osp.dirname(osp.dirname(osp.abspath(__file__)))
    repo = osp.dirname(package)
    roots = [package]
    if osp.isfile(osp.join(repo, 'setup.py')) or osp.isfile(osp.join(repo, 'pyproject.toml')):
        roots += [osp.join(repo, 'tools'), osp.join(repo, 'projects')]
    return tuple(root + os.sep for root in roots)


OWN_CODE = _own_code_roots()


def _raised_by_own_raise(error: BaseException) -> bool:
    """Whether the innermost frame of ``error``'s traceback is a ``raise`` statement of mmssl's own code."""
    frame = error.__traceback__
    if frame is None:
        return False
    while frame.tb_next is not None:
        frame = frame.tb_next
    filename = osp.abspath(frame.tb_frame.f_code.co_filename)
    if not filename.startswith(OWN_CODE):
        return False
    return linecache.getline(filename, frame.tb_lineno).lstrip().startswith('raise')


def is_input_error(error: BaseException) -> bool:
    """Whether ``error`` is an expected input error (see the module's docstring), not a bug."""
    if isinstance(error, INPUT_ERRORS):
        return True
    if not isinstance(error, VALIDATION_ERRORS):
        return False
    current: Optional[BaseException] = error
    while current is not None:
        if _raised_by_own_raise(current):
            return True
        cause = current.__cause__ or current.__context__
        # mmengine's builders re-raise an error as the same type with the class name in front
        current = cause if type(cause) is type(current) else None
    return False


def _message(error: BaseException) -> str:
    # str() of a KeyError is the repr of its argument, quotes and escaped newlines included
    if isinstance(error, KeyError) and len(error.args) == 1 and isinstance(error.args[0], str):
        return error.args[0]
    return str(error) or type(error).__name__


def _debug_from_env() -> bool:
    return os.environ.get(DEBUG_ENV, '').strip().lower() not in ('', '0', 'false', 'no')


@contextlib.contextmanager
def user_errors(debug: Optional[bool] = None) -> Iterator[None]:
    """Turn an expected input error raised inside into ``error: <message>`` on stderr and ``SystemExit(2)``.

    Args:
        debug: re-raise it with its traceback instead; ``None``: only when ``MMSSL_DEBUG`` is set (not 0).
    """
    try:
        yield
    except Exception as error:
        if (debug or _debug_from_env()) or not is_input_error(error):
            raise
        print(f'error: {_message(error)}', file=sys.stderr)
        raise SystemExit(EXIT_INPUT_ERROR) from None


def run_cli(main: Callable[[], Any]) -> Any:
    """Run a tool's ``main()`` from its command line inside :func:`user_errors`; return what it returns.

    ``--debug`` is taken off ``sys.argv`` before ``main`` parses it (every tool accepts it) and shows the traceback.
    """
    debug = DEBUG_FLAG in sys.argv[1:]
    if debug:
        sys.argv = [sys.argv[0], *(arg for arg in sys.argv[1:] if arg != DEBUG_FLAG)]
    with user_errors(debug or None):
        return main()

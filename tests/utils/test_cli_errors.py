"""Which errors a tool shows as one ``error:`` line (exit 2), and which keep their traceback."""
import sys

import numpy as np
import pytest
from mmengine.config import Config

from mmssl.engine import apply_train_options
from mmssl.utils import CheckpointMismatchError, InputError, read_checkpoint
from mmssl.utils.cli_errors import is_input_error, run_cli, user_errors
from mmssl.utils.config import merge_cfg_options


def raised(function, *args):
    try:
        function(*args)
    except Exception as error:  # noqa: B902 - any error is the subject here
        return error
    raise AssertionError(f'{function.__name__} raised nothing')


def test_own_validation_errors_are_input_errors():
    cfg = Config(dict(optim_wrapper=dict(type='DeepSpeedOptimWrapper')))
    assert isinstance(raised(apply_train_options, cfg, None, None, True), InputError)
    assert is_input_error(raised(apply_train_options, cfg, None, None, True))  # --amp on another wrapper
    assert is_input_error(raised(merge_cfg_options, Config(dict(a=1)), {'b.c': 1}))  # KeyError of ours
    assert is_input_error(CheckpointMismatchError('x.pth: not a checkpoint'))
    assert is_input_error(FileNotFoundError('checkpoint x.pth does not exist'))


def test_a_checkpoint_mismatch_is_an_input_error_from_the_leaf_module():
    from mmssl.utils import errors
    assert errors.CheckpointMismatchError is CheckpointMismatchError
    assert issubclass(CheckpointMismatchError, InputError) and issubclass(CheckpointMismatchError, RuntimeError)
    assert is_input_error(raised(read_checkpoint, __file__))  # a text file given as checkpoint, raised deep inside


def test_errors_raised_elsewhere_keep_their_traceback():
    assert not is_input_error(raised(np.zeros, -1))  # ValueError inside numpy
    assert not is_input_error(raised(lambda: {}['key']))  # a failed lookup
    assert not is_input_error(RuntimeError('boom'))


def test_an_error_of_ours_rewrapped_by_a_builder_is_still_ours():
    def build():
        try:
            merge_cfg_options(Config(dict(a=1)), {'b.c': 1})
        except KeyError as error:  # mmengine's builders re-raise the same type with the class name in front
            raise KeyError(f'class `Thing` in mmssl/thing.py: {error}')
    assert is_input_error(raised(build))


def test_user_errors_prints_one_line_and_exits_2(capsys, monkeypatch):
    monkeypatch.delenv('MMSSL_DEBUG', raising=False)
    with pytest.raises(SystemExit) as exit_info:
        with user_errors():
            raise CheckpointMismatchError('/data/x.pth: not a checkpoint')
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == 'error: /data/x.pth: not a checkpoint\n'
    with pytest.raises(SystemExit) as exit_info:
        with user_errors():
            merge_cfg_options(Config(dict(a=1)), {'b.c': 1})
    assert capsys.readouterr().err.startswith("error: --cfg-options b.c: ")  # the KeyError's text, not its repr
    with pytest.raises(RuntimeError):
        with user_errors():
            raise RuntimeError('a bug')


def test_debug_shows_the_traceback(monkeypatch):
    monkeypatch.setenv('MMSSL_DEBUG', '1')
    with pytest.raises(CheckpointMismatchError):
        with user_errors():
            raise CheckpointMismatchError('x.pth: not a checkpoint')
    monkeypatch.delenv('MMSSL_DEBUG')
    monkeypatch.setattr(sys, 'argv', ['tool.py', 'x.pth', '--debug'])
    seen = []

    def main():
        seen.append(list(sys.argv))
        raise CheckpointMismatchError('x.pth: not a checkpoint')
    with pytest.raises(CheckpointMismatchError):
        run_cli(main)
    assert seen == [['tool.py', 'x.pth']]  # main's parser never sees --debug

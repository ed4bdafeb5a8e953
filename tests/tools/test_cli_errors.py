"""A tool given a bad input prints one ``error:`` line naming it and exits 2; --debug / MMSSL_DEBUG=1 show the
traceback."""
import os
import subprocess
import sys

import pytest

KNN_CONFIG = 'configs/benchmarks/classification/fashion_mnist/resnet18_knn_fmnist-demo.py'


@pytest.fixture
def not_a_checkpoint(tmp_path):
    path = tmp_path / 'notes.pth'
    path.write_text('these are notes, not weights\n')
    return path


def quiet_env(**extra):
    env = {key: value for key, value in os.environ.items() if key != 'MMSSL_DEBUG'}
    return dict(env, **extra)


def test_a_converter_names_the_bad_checkpoint_in_one_line(run_tool, not_a_checkpoint, tmp_path):
    result = run_tool('model_converters/to_torchvision.py', not_a_checkpoint, tmp_path / 'out.pth', process=True,
                      expect_ok=False, env=quiet_env())
    assert result.returncode == 2, result.stderr
    assert 'Traceback' not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: ') and str(not_a_checkpoint) in lines[0], lines


@pytest.mark.parametrize('debug', ['env', 'flag'])
def test_debug_shows_the_traceback(run_tool, not_a_checkpoint, tmp_path, debug):
    flag = ['--debug'] if debug == 'flag' else []
    env = quiet_env(MMSSL_DEBUG='1') if debug == 'env' else quiet_env()
    result = run_tool('model_converters/to_torchvision.py', not_a_checkpoint, tmp_path / 'out.pth', *flag,
                      process=True, expect_ok=False, env=env)
    assert result.returncode == 1
    assert 'Traceback' in result.stderr and 'CheckpointMismatchError' in result.stderr


def test_the_benchmark_command_names_a_missing_checkpoint_in_one_line(repo_root, tmp_path):
    missing = tmp_path / 'missing.pth'
    result = subprocess.run([sys.executable, '-m', 'mmssl.benchmarks', 'knn', KNN_CONFIG, str(missing)],
                            cwd=repo_root, capture_output=True, text=True, timeout=300, env=quiet_env())
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == f'error: checkpoint {missing} does not exist'

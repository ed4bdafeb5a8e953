"""A work dir whose path is not UTF-8 is refused before any work, naming the path (it used to fail at the first
checkpoint save, writing ``last_checkpoint``)."""
import os
import re
import sys

import pytest
from builders.datasets import make_imagenet
from builders.runs import tiny_train_config

from mmssl.engine.train import train
from mmssl.utils import register_all_modules
from mmssl.utils.errors import InputError

pytestmark = pytest.mark.skipif(sys.platform != 'linux', reason='a name that is not UTF-8 needs a bytes file system')


def test_training_into_a_work_dir_that_is_not_utf8_is_refused_before_any_work(tmp_path):
    register_all_modules(init_default_scope=False)
    data = make_imagenet(str(tmp_path / 'data'), train_per_class=1, size=16)
    work_dir = os.path.join(str(tmp_path), os.fsdecode(b'work_\xff'))
    expected = repr(os.fsencode(work_dir))
    with pytest.raises(InputError, match=f'work dir {re.escape(expected)} is not a UTF-8 path.*--work-dir'):
        train(tiny_train_config(data, work_dir, max_iters=2, interval=1))
    assert not os.path.exists(os.fsencode(work_dir))  # nothing created, nothing trained


def test_the_train_tool_refuses_it_as_an_input_error(tmp_path, run_tool, repo_root):
    work_dir = os.path.join(str(tmp_path), os.fsdecode(b'caf\xe9'), 'run')
    result = run_tool('train.py', repo_root / 'configs/selfsup/relative_loc/'
                      'relative-loc_resnet18_1xb32-300it_fmnist-demo.py', '--work-dir', work_dir, process=True,
                      expect_ok=False, timeout=300)
    assert result.returncode == 2, result.stderr[-3000:]
    assert result.stderr.strip().splitlines()[-1] == (f'error: work dir {os.fsencode(work_dir)!r} is not a UTF-8 '
                                                      'path: training writes it into UTF-8 text files '
                                                      '(last_checkpoint, logs) and would fail at its first checkpoint '
                                                      'save; give a --work-dir whose path is UTF-8 (rename the '
                                                      'folder)')

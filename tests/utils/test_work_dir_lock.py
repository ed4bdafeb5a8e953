"""The work-dir lock: a second run on a work dir fails at once naming the holder; nested and stale uses do not."""
import json
import os
import subprocess
import sys

import pytest
from builders import REPO_ROOT
from builders.runs import hold_work_dir_lock

from mmssl.utils.work_dir_lock import LOCK_FILE, work_dir_lock


def test_a_second_holder_is_refused_with_the_holders_pid_and_command(tmp_path):
    with hold_work_dir_lock(tmp_path) as holder:
        with pytest.raises(RuntimeError, match=rf'work dir {tmp_path} is in use by another run: pid {holder.pid} '
                           r'\(.*HOLDER-MARK\)'):
            with work_dir_lock(tmp_path):
                pass
    with work_dir_lock(tmp_path):  # free again once the holder exits
        holder_info = json.loads((tmp_path / LOCK_FILE).read_text())
    assert holder_info['pid'] != holder.pid and 'command' in holder_info and 'started' in holder_info


def test_reentrant_in_one_process_and_independent_per_folder(tmp_path):
    with work_dir_lock(tmp_path):
        with work_dir_lock(tmp_path / '.' / ''), work_dir_lock(tmp_path / 'point'):
            pass
        # still held after the inner exit: another process is refused, naming this one
        code = 'import sys; from mmssl.utils.work_dir_lock import work_dir_lock; work_dir_lock(sys.argv[1]).__enter__()'
        other = subprocess.run([sys.executable, '-c', code, str(tmp_path)], capture_output=True, text=True,
                               env=dict(os.environ, PYTHONPATH=REPO_ROOT), timeout=120)
        assert other.returncode != 0
        assert f'WorkDirLockedError: work dir {tmp_path} is in use by another run: pid {os.getpid()}' in other.stderr


def test_released_on_exceptions_and_a_dead_holders_file_is_no_obstacle(tmp_path):
    (tmp_path / LOCK_FILE).write_text(json.dumps(dict(pid=999999, command='killed run', started='yesterday')))
    with pytest.raises(ValueError):
        with work_dir_lock(tmp_path):
            raise ValueError('training failed')
    with hold_work_dir_lock(tmp_path):  # would not start if the failed run still held it
        pass
    assert (tmp_path / LOCK_FILE).read_text() == ''

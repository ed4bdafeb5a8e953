"""Checkpoint writes are atomic: a write that fails leaves the old file (or none), never a partial one."""
import os

import pytest
import torch
from mmengine.fileio import get_file_backend
from mmengine.runner.checkpoint import save_checkpoint

from mmssl.utils import setup_runtime
from mmssl.utils.atomic_files import AtomicLocalBackend, atomic_write_text


def fail_rename(monkeypatch):
    def replace(src, dst):
        raise OSError(28, 'No space left on device')
    monkeypatch.setattr(os, 'replace', replace)


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp_file(tmp_path, monkeypatch):
    target = tmp_path / 'last_checkpoint'
    atomic_write_text(target, 'iter_2.pth')
    fail_rename(monkeypatch)
    with pytest.raises(OSError, match='No space left'):
        atomic_write_text(target, 'iter_4.pth')
    assert target.read_text() == 'iter_2.pth'
    assert [path.name for path in tmp_path.iterdir()] == ['last_checkpoint']


def test_mmengine_checkpoints_are_written_through_the_atomic_backend(tmp_path, monkeypatch):
    setup_runtime()  # installs the atomic backend
    assert isinstance(get_file_backend(str(tmp_path / 'iter_2.pth')), AtomicLocalBackend)
    save_checkpoint({'state_dict': {'w': torch.ones(3)}}, str(tmp_path / 'iter_2.pth'))
    assert torch.equal(torch.load(tmp_path / 'iter_2.pth', weights_only=True)['state_dict']['w'], torch.ones(3))
    fail_rename(monkeypatch)  # the write of iter_4.pth is interrupted before it is complete
    with pytest.raises(OSError):
        save_checkpoint({'state_dict': {'w': torch.ones(3)}}, str(tmp_path / 'iter_4.pth'))
    assert sorted(path.name for path in tmp_path.iterdir()) == ['iter_2.pth']

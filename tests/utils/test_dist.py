"""teardown_distributed on a real one-process gloo group: barrier on a clean exit only."""
import torch.distributed as dist

from mmssl.utils import teardown_distributed


def open_group(tmp_path):
    dist.init_process_group('gloo', init_method=f'file://{tmp_path}/store', rank=0, world_size=1)


def test_teardown_waits_at_a_barrier_on_a_clean_exit(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(dist, 'barrier', lambda *args, **kwargs: calls.append('barrier'))
    open_group(tmp_path)
    try:
        pass
    finally:
        teardown_distributed()
    assert calls == ['barrier'] and not dist.is_initialized()


def test_teardown_skips_the_barrier_while_an_exception_propagates(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(dist, 'barrier', lambda *args, **kwargs: calls.append('barrier'))
    open_group(tmp_path)
    try:
        try:
            raise RuntimeError('a rank failed')
        finally:
            teardown_distributed()
    except RuntimeError:
        pass
    assert calls == [] and not dist.is_initialized()


def test_teardown_without_a_group_does_nothing():
    teardown_distributed()
    assert not dist.is_initialized()

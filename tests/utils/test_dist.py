"""teardown_distributed on a real one-process gloo group: barrier on a clean exit only."""
import pytest
import torch.distributed as dist

from mmssl.utils import teardown_distributed


@pytest.fixture
def barrier_calls(tmp_path, monkeypatch):
    """Opens a one-process gloo group and records the barriers that teardown waits at."""
    calls = []
    monkeypatch.setattr(dist, 'barrier', lambda *args, **kwargs: calls.append('barrier'))
    dist.init_process_group('gloo', init_method=f'file://{tmp_path}/store', rank=0, world_size=1)
    yield calls
    if dist.is_initialized():  # a failed test must not leave its group to the next one
        dist.destroy_process_group()


def test_teardown_waits_at_a_barrier_on_a_clean_exit(barrier_calls):
    teardown_distributed()
    assert barrier_calls == ['barrier'] and not dist.is_initialized()


def test_teardown_skips_the_barrier_while_an_exception_propagates(barrier_calls):
    with pytest.raises(RuntimeError, match='a rank failed'):
        try:
            raise RuntimeError('a rank failed')
        finally:
            teardown_distributed()
    assert barrier_calls == [] and not dist.is_initialized()


def test_teardown_without_a_group_does_nothing():
    teardown_distributed()
    assert not dist.is_initialized()

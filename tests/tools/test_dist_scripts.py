"""tools/dist_train.sh and tools/dist_test.sh refuse a missing or bad GPUS with a usage line and exit status 2."""
import pytest


@pytest.mark.parametrize('script, args, problem', [
    ('dist_train.sh', ['configs/x.py', '0'], "GPUS must be a whole number >= 1, got '0'"),
    ('dist_train.sh', ['configs/x.py', 'two'], "GPUS must be a whole number >= 1, got 'two'"),
    ('dist_train.sh', ['configs/x.py'], 'expected 2 arguments (CONFIG GPUS), got 1'),
    ('dist_test.sh', ['configs/x.py', 'model.pth', '0'], "GPUS must be a whole number >= 1, got '0'"),
    ('dist_test.sh', ['configs/x.py', 'model.pth'], 'expected 3 arguments (CONFIG CHECKPOINT GPUS), got 2'),
])
def test_bad_gpus_prints_the_usage_and_exits_2(run_tool, script, args, problem):
    result = run_tool(script, *args, process=True, expect_ok=False, timeout=60)
    assert result.returncode == 2
    assert f'{script}: {problem}' in result.stderr
    assert 'usage: ' in result.stderr and f'{script} CONFIG ' in result.stderr

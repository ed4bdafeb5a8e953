"""Every tool that writes into a work dir takes its lock: a second run fails at once, naming the holder."""
import pytest
from builders.runs import hold_work_dir_lock

DEMO = 'configs/selfsup/relative_loc/relative-loc_resnet18_1xb32-300it_fmnist-demo.py'
FMNIST = 'configs/benchmarks/classification/fashion_mnist/'


@pytest.mark.parametrize('tool, args', [
    ('train.py', [DEMO, '--work-dir', '{dir}']),
    ('test.py', [DEMO, 'iter_4.pth', '--work-dir', '{dir}']),
    ('benchmarks/classification/knn.py', [FMNIST + 'resnet18_knn_fmnist-demo.py', 'none', '--work-dir', '{dir}']),
    ('benchmarks/classification/svm_voc07/run_svm.py', ['features', '--work-dir', '{dir}']),
    ('benchmarks/classification/svm_voc07/run_lowshot.py', ['features', '--work-dir', '{dir}']),
    ('benchmarks/classification/svm_voc07/extract.py',
     [FMNIST + 'resnet18_svm_voc07_fmnist-demo.py', 'none', '--out', '{dir}']),
])
def test_a_second_run_on_a_locked_work_dir_fails_naming_the_holder(tmp_path, run_tool, repo_root, tool, args):
    argv = [str(repo_root / arg) if arg.endswith('.py') else arg.format(dir=tmp_path) for arg in args]
    with hold_work_dir_lock(tmp_path) as holder:
        with pytest.raises(RuntimeError, match=rf'work dir {tmp_path} is in use by another run: pid {holder.pid} '
                           r'\(.*HOLDER-MARK\)'):
            run_tool(tool, *argv)
    assert sorted(path.name for path in tmp_path.iterdir()) == ['.lock']  # nothing written

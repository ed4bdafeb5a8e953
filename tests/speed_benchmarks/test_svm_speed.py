import re
import subprocess
import sys

import pytest


@pytest.fixture
def script(repo_root):
    return repo_root / 'speed_benchmarks' / 'svm_speed.py'


def test_svm_speed_prints_agreement_ratios_and_time_breakdown(tmp_path, script):
    # A tiny run: it checks that the script works and that the solvers agree, never how fast they are.
    result = subprocess.run([sys.executable, str(script), '--num-train', '150', '--num-test', '100', '--dim', '64',
                             '--costs', '0.1,1', '--n-jobs', '1', '--primal-vs-dual', '--precision-vs-double',
                             '--versus-cpu', '--coco-size', '--coco-train', '300', '--coco-test', '100',
                             '--work-dir', str(tmp_path)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    fast, reference = map(float, re.search(r'mAP fast (\S+)\s+reference (\S+)', out).groups())
    assert abs(fast - reference) < 0.5  # liblinear stops at the protocol's tol 1e-4
    assert re.search(r'wall time: fast [\d.]+s, reference [\d.]+s \(all cores\) -> [\d.]+x', out)
    assert re.search(r'time breakdown of fast .*Gram matrices [\d.]+s .*Newton/CG solves [\d.]+s', out)
    assert re.search(r'Gram step: [\d.]+ GFLOP/s .* -> \d+% of it', out)
    gap = float(re.search(r'primal/dual time [\d.]+x, max \|ΔAP\| (\S+)', out).group(1))
    assert gap < 0.01
    gap = float(re.search(r"precision 'mixed' [\d.]+s vs 'double' [\d.]+s .*x, max \|ΔAP\| (\S+)", out).group(1))
    assert gap < 0.01
    gap = float(re.search(r'cpu/cpu time [\d.]+x, max \|ΔAP\| (\S+), chosen costs agree for 20/20', out).group(1))
    assert gap == 0  # the same solver on the same device
    assert re.search(r"COCO-size layer: 300 train x 64 dims, 100 val, 80 classes \(VOC07 trainval's frequencies "
                     r"repeated over 80 classes, not COCO's\); peak resident memory [\d.]+ GiB", out)
    assert re.search(r"fast \((dual|primal) path, 16 classes at a time\): [\d.]+s in this run, mAP [\d.]+; the 80 "
                     r"classes' solves sum to [\d.]+s \(with any resumed from an earlier run\); peak resident", out)
    gap = float(re.search(r'reference \(n_jobs 1\) on .*: [\d.]+s in this run, solves [\d.]+s -> projected '
                          r'[\d.]+s for 80 classes; fast is [\d.]+x faster \(solve seconds\); max \|ΔAP\| on those '
                          r'classes (\S+); peak resident', out).group(1))
    assert gap < 0.5


def test_svm_speed_resumes_from_its_work_dir(tmp_path, script):
    cmd = [sys.executable, str(script), '--num-train', '150', '--num-test', '100', '--dim', '32', '--costs', '0.1,1',
           '--coco-size', '--coco-train', '300', '--coco-test', '100', '--skip-reference', '--work-dir', str(tmp_path)]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr[-3000:]
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    first_map, again_map = (re.search(r'fast: .*mAP ([\d.]+)', run.stdout).group(1) for run in (first, again))
    assert f'20 of 20 classes loaded from {tmp_path / "fast" / "classes"}' in again.stdout and again_map == first_map
    assert 'fast (every class loaded): ' in again.stdout
    solves = [re.search(r"the 80 classes' solves sum to (\S+)s", run.stdout).group(1) for run in (first, again)]
    assert solves[0] == solves[1]  # the resumed run reports the classes' times as first measured

    # A run killed inside the VOC07 layer leaves some classes: the next run times only the rest, which is refused too.
    (tmp_path / 'fast' / 'classes' / 'dog.json').unlink()
    refused = subprocess.run([arg for arg in cmd if arg != '--skip-reference'], capture_output=True, text=True,
                             timeout=600)
    assert refused.returncode != 0 and '19 of 20 classes loaded' in refused.stdout
    assert not (tmp_path / 'fast' / 'classes' / 'dog.json').exists()  # refused before solving anything
    assert "the reference run compare with the VOC07 layer's time, which this run did not measure" in refused.stderr

    # The COCO-size layer's reference compares solve seconds, which a resumed run still has.
    coco_only = [arg if arg != '--skip-reference' else '--skip-voc07-reference' for arg in cmd]
    ran = subprocess.run(coco_only + ['--n-jobs', '1'], capture_output=True, text=True, timeout=600)
    assert ran.returncode == 0, ran.stderr[-3000:]
    times = re.search(r'solves ([\d.]+)s -> projected ([\d.]+)s for 80 classes; fast is [\d.]+x faster', ran.stdout)
    reference_solve, projected = map(float, times.groups())
    assert abs(projected - 40 * reference_solve) <= 2.1  # two classes scaled to 80 (printed to 0.1 s)
    assert 'mAP fast' not in ran.stdout  # no reference on the VOC07 layer

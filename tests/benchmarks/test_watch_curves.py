"""Several runs watched into one folder (step by step across them), and the curves of a watch: curves.png drawn
without touching matplotlib's backend, curves.md with a row per step (mean ± std over runs) and the random-init
row; taps are lines of one panel."""
import io

from builders.watch_runs import StandIn, write_checkpoint
from PIL import Image

from mmssl.benchmarks.watch import watch, write_curves
from mmssl.benchmarks.watch.curves import collect_points, split_tap


def test_tap_names_are_split_off_metric_names():
    assert split_tap('feature5/top1') == ('top1', 'feature5')
    assert split_tap('feature3') == ('', 'feature3')
    assert split_tap('k20') == ('k20', None)


def test_two_runs_in_step_order_and_their_curves_with_two_baseline_seeds(tmp_path):
    import matplotlib
    backend = matplotlib.get_backend()
    for seed in (0, 1):
        for step in (0, 2):
            write_checkpoint(tmp_path / f'seed{seed}', step, seed=seed)
    out, stand_in = tmp_path / 'out', StandIn()
    watch([str(tmp_path / 'seed0'), str(tmp_path / 'seed1')], str(out), ['knn', 'probe'], stand_in, 'iter', 2,
          poll=0.01, idle_timeout=5, baseline_seeds=[0, 1])
    assert [call[1] and call[1].split('/')[-2:] for call in stand_in.calls if call[0] == 'knn'] == [
        None, None, ['seed0', 'iter_0.pth'], ['seed1', 'iter_0.pth'], ['seed0', 'iter_2.pth'],
        ['seed1', 'iter_2.pth']]  # the baselines, then step by step across the runs
    assert (out / 'seed1' / 'iter_2' / 'watch.json').exists() and (out / 'random_init_seed1' / 'watch.json').exists()
    written = write_curves(str(out))

    assert matplotlib.get_backend() == backend
    png = (out / 'curves.png').read_bytes()
    assert png.startswith(b'\x89PNG\r\n\x1a\n') and written['figure'] == str(out / 'curves.png')
    image = Image.open(io.BytesIO(png))
    image.verify()
    assert image.size[0] > image.size[1]  # two panels side by side: knn k1, probe (feature4 and feature5 lines)

    table = (out / 'curves.md').read_text().splitlines()
    assert table[0] == '| iter | knn k1 | probe feature4 | probe feature5 |'
    assert [line.split(' | ')[0] for line in table[2:5]] == ['| 0', '| 2', '| random init (seeds 0, 1)']
    assert all('(n=2)' in cell for cell in table[2].split(' | ')[1:])  # two runs: mean ± std
    assert table[4].split(' | ')[1].startswith('0.00 ± 0.00 (n=2)')
    points = collect_points(str(out))
    assert {(p.run, p.step) for p in points if p.benchmark == 'knn'} == {
        ('seed0', 0), ('seed0', 2), ('seed1', 0), ('seed1', 2), ('random init', None)}

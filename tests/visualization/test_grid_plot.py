"""probe_grid.png: a readable PNG for single-label, multi-label, lr x wd and val-selected grids; matplotlib's global
backend is left alone; a grid without a swept value is refused naming what it expected."""
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.image import imread

from mmssl.visualization import PLOT_FILE, plot_grid
from mmssl.visualization.grid_plot import infer_param, is_selected


def probe_extra(multi_label=False, rule='heldout'):
    metric = 'mAP' if multi_label else 'top1'
    costs = [0.01, 0.1, 1.0, 10.0]

    def metrics(score):
        return {metric: score} if multi_label else dict(top1=score, top5=min(100.0, score + 20))

    grid = {tap: [dict(C=c, val=metrics(40 + 10 * i + shift), iterations=5,
                       **({} if rule == 'val' else dict(heldout=metrics(42 + 9 * i - 3 * i * i + shift))))
                  for i, c in enumerate(costs)] for tap, shift in (('feature4', 0), ('feature5', 5))}
    return dict(grid=grid, selected_C=dict(feature4=1.0, feature5=0.1), multi_label=multi_label,
                selection=dict(rule=rule, metric=metric, refit=rule == 'heldout', heldout=None))


def assert_png(path):
    with open(path, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    image = imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    assert np.ptp(image[..., :3]) > 0  # something is drawn


@pytest.mark.parametrize('multi_label, rule', [(False, 'heldout'), (True, 'heldout'), (False, 'val')])
def test_plot_grid_writes_a_png(tmp_path, multi_label, rule):
    path = plot_grid(probe_extra(multi_label, rule), str(tmp_path))
    assert path == str(tmp_path / PLOT_FILE)
    assert_png(path)
    assert not list(tmp_path.glob('*.tmp*'))


def test_lr_grid_with_weight_decays_one_line_each(tmp_path):
    grid = [dict(lr=lr, wd=wd, heldout=dict(top1=50 + lr * 10 - wd * 100), val=dict(top1=48 + lr * 10))
            for lr in (0.01, 0.1, 1.0) for wd in (0.0, 1e-4)]
    extra = dict(grid=dict(feature5=grid), selected_lr=dict(feature5=dict(lr=1.0, wd=0.0)),
                 selection=dict(rule='heldout', metric='top1'))
    assert infer_param(extra['grid']) == 'lr'
    assert_png(plot_grid(extra, str(tmp_path / 'sub' / 'grid.png')))
    # a record that does not say how (or whether) a point was chosen
    assert_png(plot_grid(dict(grid=extra['grid']), str(tmp_path / 'unselected.png')))
    assert is_selected(grid[-2], 'lr', dict(lr=1.0, wd=0.0)) and not is_selected(grid[-1], 'lr', dict(lr=1.0, wd=0.0))


def test_a_grid_without_a_swept_value_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"every point needs one of \['C', 'lr'\]"):
        plot_grid(dict(grid=dict(feature5=[dict(val=dict(top1=1.0))])), str(tmp_path))
    with pytest.raises(ValueError, match='non-empty list of grid points'):
        plot_grid(dict(grid={}), str(tmp_path))
    with pytest.raises(ValueError, match=r"extra.grid\['feature5'\]: every point needs a number C > 0"):
        plot_grid(dict(grid=dict(feature5=[dict(C=0.0, val=dict(top1=1.0))])), str(tmp_path))


def test_plotting_leaves_the_global_backend_alone(tmp_path):
    # A fresh interpreter: the backend chosen there before importing mmssl must still be chosen after a plot.
    code = ('import matplotlib; matplotlib.use("svg"); from mmssl.visualization import plot_grid; '
            f'plot_grid({probe_extra()!r}, {str(tmp_path)!r}); print(matplotlib.get_backend())')
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().lower() == 'svg'

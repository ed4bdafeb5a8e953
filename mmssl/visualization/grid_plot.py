"""``probe_grid.png``: the metric of every grid point against the swept value (``C`` or ``lr``), one panel per tap.

Reads the ``extra`` of a probe or linear-grid record: ``grid[tap]`` is a list of points, each a dict with the swept
value (``C`` or ``lr``, optionally ``wd``), ``val`` metrics and, under held-out selection, ``heldout`` metrics;
``selected_<param>[tap]`` is the chosen value (or a dict of the chosen values); ``selection`` holds ``rule`` and
``metric``. The figure is drawn on a :class:`~matplotlib.figure.Figure` with an Agg canvas of its own, so that
matplotlib's global backend and pyplot's state stay untouched.
"""
import math
import os.path as osp
from typing import Dict, List, Optional, Sequence

from mmssl.utils.atomic_files import atomic_write_bytes

from .canvas import agg_figure, figure_png

PLOT_FILE = 'probe_grid.png'
#: Swept values recognised on the x axis, in order of preference when ``param`` is not given.
PARAMS = ('C', 'lr')
#: A second swept value drawn as separate lines of the same panel.
SECONDARY = 'wd'
PANELS_PER_ROW = 3


def infer_param(grid: Dict[str, List[dict]], where: str = 'extra.grid') -> str:
    """The swept value of the grid: the first of :data:`PARAMS` that every point holds."""
    points = [point for tap_points in grid.values() for point in tap_points]
    for param in PARAMS:
        if points and all(param in point for point in points):
            return param
    raise ValueError(f'{where}: every point needs one of {list(PARAMS)} (the swept value), got points with keys '
                     f'{sorted({key for point in points for key in point})}')


def metric_value(metrics: Optional[dict], metric: str) -> float:
    """``metrics[metric]`` as a float (NaN where the point has no such split or metric)."""
    if not metrics:
        return math.nan
    value = metrics.get(metric)
    if value is None:  # a head's metrics may carry a prefix, e.g. 'accuracy/top1'
        value = next((v for k, v in metrics.items() if k.split('/')[-1] == metric), None)
    return math.nan if value is None else float(value)


def default_metric(points: Sequence[dict]) -> str:
    """``mAP`` for multi-label grids, else ``top1``."""
    keys = {key.split('/')[-1] for point in points for key in (point.get('val') or {})}
    return 'mAP' if 'mAP' in keys and 'top1' not in keys else 'top1'


def is_selected(point: dict, param: str, selected) -> bool:
    """Whether ``point`` is the chosen one: ``selected`` is the chosen value of ``param`` or a dict of values."""
    if selected is None:
        return False
    chosen = selected if isinstance(selected, dict) else {param: selected}
    return all(key in point and math.isclose(float(point[key]), float(value), rel_tol=1e-9)
               for key, value in chosen.items() if isinstance(value, (int, float)))


def split_lines(points: Sequence[dict], param: str) -> Dict[Optional[float], List[dict]]:
    """Points grouped by :data:`SECONDARY` (one line per weight decay; one group ``None`` without it), each group
    sorted by the swept value."""
    groups: Dict[Optional[float], List[dict]] = {}
    for point in points:
        groups.setdefault(point.get(SECONDARY), []).append(point)
    return {key: sorted(group, key=lambda p: float(p[param])) for key, group in groups.items()}


def draw_panel(ax, tap: str, points: Sequence[dict], param: str, metric: str, rule: Optional[str],
               selected) -> None:
    """One tap: held-out (solid) and val (dashed) lines per weight decay, the chosen point starred; the title names
    the rule that chose it (``None``: not recorded)."""
    lines = split_lines(points, param)
    for index, (wd, group) in enumerate(lines.items()):
        color = f'C{index % 10}'
        # A weight decay is named only where several were swept.
        suffix = '' if wd is None or len(lines) == 1 else f' ({SECONDARY}={wd:g})'
        xs = [float(point[param]) for point in group]
        heldout = [metric_value(point.get('heldout'), metric) for point in group]
        val = [metric_value(point.get('val'), metric) for point in group]
        if not all(math.isnan(value) for value in heldout):
            ax.plot(xs, heldout, '-o', color=color, markersize=3, label=f'held-out{suffix}')
        ax.plot(xs, val, '--s', color=color, markersize=3, label=f'val{suffix}')
        for x, h, v, point in zip(xs, heldout, val, group):
            if is_selected(point, param, selected):
                y = v if rule == 'val' or math.isnan(h) else h
                ax.plot([x], [y], marker='*', markersize=14, color='black', linestyle='none',
                        label=f'selected {param}={x:.3g}')
    ax.set_xscale('log')
    ax.set_xlabel(param)
    ax.set_ylabel(f'{metric} (%)')
    ax.grid(True, which='both', alpha=0.3)
    ax.legend(fontsize='x-small', loc='best')
    title = f'{tap}: {metric} per {param}' if rule is None else f'{tap}: {param} chosen on {rule} {metric}'
    if rule == 'val':
        ax.set_title(f'(!) {title}\nselected on the reported split', color='red', fontsize='small')
    else:
        ax.set_title(title, fontsize='small')


def plot_grid(extra: dict, out_path: str, param: Optional[str] = None) -> str:
    """Write the grid plot of a record's ``extra`` to ``out_path`` (a directory gets :data:`PLOT_FILE` inside);
    return the file's path.

    Args:
        extra: ``grid`` (tap -> points), ``selected_<param>`` (tap -> chosen value) and ``selection`` (``rule``,
            ``metric``) as the probe and linear-grid records hold them.
        out_path: the PNG file, or a directory.
        param: the swept value on the x axis (``'C'`` or ``'lr'``); inferred from the points when ``None``.
    """
    grid = extra.get('grid')
    if not isinstance(grid, dict) or not grid or not all(isinstance(p, list) and p for p in grid.values()):
        raise ValueError(f'extra.grid must map each tap to a non-empty list of grid points, got {grid!r}')
    param = param or infer_param(grid)
    for tap, points in grid.items():
        bad = [point for point in points if not isinstance(point.get(param), (int, float)) or point[param] <= 0]
        if bad:
            raise ValueError(f'extra.grid[{tap!r}]: every point needs a number {param} > 0 (a log axis), got {bad[0]}')
    selection = extra.get('selection') or {}
    rule = selection.get('rule')  # None: a record that does not say how its point was chosen
    selected = extra.get(f'selected_{param}') or {}
    taps = list(grid)
    cols = min(len(taps), PANELS_PER_ROW)
    rows = math.ceil(len(taps) / cols)
    figure = agg_figure(figsize=(4.5 * cols, 3.6 * rows), layout='constrained')
    for index, tap in enumerate(taps):
        metric = selection.get('metric') or default_metric(grid[tap])
        draw_panel(figure.add_subplot(rows, cols, index + 1), tap, grid[tap], param, metric, rule, selected.get(tap))
    path = osp.join(out_path, PLOT_FILE) if osp.isdir(out_path) else out_path
    atomic_write_bytes(path, figure_png(figure, dpi=100))  # creates its folder; a reader never sees half a file
    return path

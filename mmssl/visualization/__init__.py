"""Figures of benchmark records, drawn without touching matplotlib's global state."""
from .canvas import agg_figure, figure_png
from .grid_plot import PLOT_FILE, plot_grid

__all__ = ['PLOT_FILE', 'agg_figure', 'figure_png', 'plot_grid']

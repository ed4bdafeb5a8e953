"""Figures of benchmark records, drawn without touching matplotlib's global state."""
from .grid_plot import PLOT_FILE, plot_grid

__all__ = ['PLOT_FILE', 'plot_grid']

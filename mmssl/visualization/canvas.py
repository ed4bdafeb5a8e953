"""A matplotlib figure with its own Agg canvas, and its PNG bytes: the figures of mmssl never go through pyplot, so
drawing one changes neither matplotlib's backend nor its list of open figures."""
import io

__all__ = ['agg_figure', 'figure_png']


def agg_figure(**kwargs):
    """A ``matplotlib.figure.Figure(**kwargs)`` attached to its own ``FigureCanvasAgg``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(**kwargs)
    FigureCanvasAgg(figure)
    return figure


def figure_png(figure, dpi: int) -> bytes:
    """The PNG bytes of ``figure`` at ``dpi``."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format='png', dpi=dpi)
    return buffer.getvalue()

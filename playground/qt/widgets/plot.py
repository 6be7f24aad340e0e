"""One way to make a matplotlib canvas in a tab: made once, updated in place, drawn only when seen.

``make_canvas`` returns a (figure, canvas) pair. The canvas is a ``FigureCanvasQTAgg`` whose
``draw_idle`` waits while the canvas is hidden (another tab, a closed sub-tab) and draws once when
it is shown again, so a panel may update every view's data without paying for the hidden ones.
The presenter's zoom scales every canvas's figure dpi (qt/presenter.py), so text follows the zoom.
matplotlib is imported on the first call, not when this module is imported.
"""

from __future__ import annotations

from PySide6.QtWidgets import QSizePolicy

_canvas_class = None


def _lazy_canvas_class():
    global _canvas_class
    if _canvas_class is None:
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg

        class LazyCanvas(FigureCanvasQTAgg):
            """A canvas that defers ``draw_idle`` while hidden and catches up when shown."""

            stale_while_hidden = False

            def draw_idle(self) -> None:
                if not self.isVisible():
                    self.stale_while_hidden = True
                    return
                super().draw_idle()

            def showEvent(self, event) -> None:
                super().showEvent(event)
                if self.stale_while_hidden:
                    self.stale_while_hidden = False
                    super().draw_idle()

        _canvas_class = LazyCanvas
    return _canvas_class


def lazy_canvas(figure):
    """A canvas for ``figure`` that does not render while hidden and renders once when shown again."""
    from playground.qt.design import apply_chart_style

    apply_chart_style()  # for the axes added from now on (make the figure with make_canvas to style it all)
    return _lazy_canvas_class()(figure)


def make_canvas(width: float = 6.0, height: float = 4.5, min_size: tuple[int, int] = (260, 200)):
    """A (figure, canvas) pair for one chart, with constrained layout; update it in place, then ``draw_idle``."""
    from matplotlib.figure import Figure

    from playground.qt.design import apply_chart_style

    apply_chart_style()  # the app's one chart style (fonts, grid, colours), before the figure exists
    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    canvas = lazy_canvas(figure)
    canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
    canvas.setMinimumSize(*min_size)
    return figure, canvas


class EmptyState:
    """A sentence in place of a chart's axes until the chart has something to show.

    Empty axes with made-up ticks (-0.04…0.04, a negative perplexity) tell a learner nothing; the
    sentence says what will appear and after which action (issue 28). ``show(empty)`` switches.
    """

    def __init__(self, figure, sentence: str, axes=None) -> None:
        self.axes = list(axes if axes is not None else figure.axes)
        from playground.qt.design import current_colours

        self.text = figure.text(0.5, 0.5, sentence, ha="center", va="center", fontsize=10,
                                color=current_colours().lesson,
                                wrap=True)
        self.show(True)

    def show(self, empty: bool) -> None:
        for ax in self.axes:
            ax.set_visible(not empty)
        self.text.set_visible(empty)

    @property
    def empty(self) -> bool:
        return self.text.get_visible()

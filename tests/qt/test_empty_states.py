"""Issue 28: a chart with nothing to show says what will appear, instead of empty axes with made-up ticks."""

from PySide6.QtCore import Qt


def test_precision_forgetting_and_align_charts_start_with_a_sentence(qtbot, context_with_tiny_llama):
    from playground.qt.align import AlignPanel
    from playground.qt.lifecycle import LifecyclePanel

    life = LifecyclePanel(context_with_tiny_llama)
    qtbot.addWidget(life)
    align = AlignPanel(context_with_tiny_llama)
    qtbot.addWidget(align)
    charts = [life.precision, life.forgetting, align.optimize.curves]
    for chart in charts:
        assert chart.empty.empty and chart.empty.text.get_text().strip()
        assert not any(ax.get_visible() for ax in chart.empty.axes)  # no axes, no meaningless ticks


def test_the_precision_chart_shows_its_axes_once_a_format_is_measured(qtbot, context_with_tiny_llama):
    from playground.qt.lifecycle import LifecyclePanel

    panel = LifecyclePanel(context_with_tiny_llama)
    qtbot.addWidget(panel)
    page = panel.precision
    for name, box in page.checks.items():
        box.setChecked(name == "fp32")
    qtbot.mouseClick(page.bar.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.slot.busy, timeout=120000)
    assert not page.empty.empty and page.ax.get_visible()


def test_align_curves_show_their_axes_with_the_first_step(qtbot):
    from playground.qt.align.curves import AlignCurves

    curves = AlignCurves()
    qtbot.addWidget(curves)
    curves.add("reward", 1, 0.5)
    assert not curves.empty.empty and all(ax.get_visible() for ax in curves.axes.values())
    curves.clear()
    assert curves.empty.empty

"""Issue 29, newcomer finding: the Forgetting plot stayed empty after "Probes finished" and its verdict was
small grey text. After the probes, the plot shows their results; the verdict is dark, normal-sized text
with its key number in bold."""

from __future__ import annotations


from PySide6.QtCore import Qt

from playground.qt.lifecycle.panel import LifecyclePanel
from tests.qt.shown import shown
from tests.screens import keep_screenshot

SMALL = {"questions": [{"q": "What is the capital of France?", "a": ["paris"]}],
         "facts": [{"q": "The capital of France is", "right": " Paris", "wrong": " Madrid"},
                   {"q": "Bees make", "right": " honey", "wrong": " milk"}]}


def _bars(ax) -> dict[str, float]:
    """The plot's horizontal bars: {label on the y axis: bar length}."""
    names = ax.yaxis.get_major_formatter().format_ticks(ax.get_yticks())
    labels = [name.split("\n")[0] for name in names]  # the model; its counts are on the next line
    bars = ax.containers[0] if ax.containers else []
    return {label: patch.get_width() for label, patch in zip(labels, bars)}


def test_probe_results_are_plotted_and_the_verdict_is_readable(qtbot, context_with_tiny_llama, monkeypatch):
    from playground.core.lifecycle import forgetting as F
    from playground.core.lifecycle.precision import at_precision

    monkeypatch.setattr(F, "load_probes", lambda path=None: SMALL)
    ctx = context_with_tiny_llama
    panel = shown(qtbot, LifecyclePanel(ctx))  # held: the page lives as long as its panel
    page = panel.forgetting
    qtbot.mouseClick(page.bar.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.slot.busy, timeout=120000)
    bars = _bars(page.ax)
    assert list(bars) == ["base", "base rounded to BF16"]
    assert abs(bars["base"] - float(page.table.item(0, 3).text())) < 0.006  # the table's mean margin
    assert "margin" in page.ax.get_xlabel()

    ctx.set_adapter(at_precision(ctx.session.base, "bf16"))  # a stand-in for a fine-tuned model
    qtbot.mouseClick(page.bar.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.slot.busy, timeout=120000)
    assert page.bar.message.text() == "Probes finished."
    bars = _bars(page.ax)
    assert len(bars) == 3 and any(label.startswith("fine-tuned") for label in bars)
    # The verdict: dark, normal size, the margin change in bold.
    verdict = page.verdict
    assert "placeholder-text" not in verdict.styleSheet()
    assert verdict.font().pointSizeF() >= page.font().pointSizeF()
    assert verdict.palette().color(verdict.foregroundRole()).lightness() < 100
    change = page.table.item(2, 3).text()
    assert "<b>" in verdict.text() and "nats" in verdict.text()
    assert "noise floor" in verdict.text() and change in verdict.text()
    panel.sections.setCurrentWidget(page)
    keep_screenshot(page, "lifecycle-forgetting-probes.png")

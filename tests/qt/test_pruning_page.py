"""The Pruning section on the tiny Llama, driven as a person would: pick heads, slide the sparsity, Run, read
the table, the text and the charts, use the pruned model in every tab, sweep; a bad sparsity said plainly."""

import os
from pathlib import Path

from PySide6.QtCore import Qt

from playground.qt.lifecycle.pruning_page import PruningPage
from tests.qt.shown import shown


def make_page(qtbot, context):
    page = shown(qtbot, PruningPage(context))
    page.draft.set("texts", 3)  # a quick measure on the tiny model
    page.draft.set("new_tokens", 4)
    return page


def test_heads_run_table_text_charts_and_use_this_model(qtbot, context_with_tiny_llama):
    context = context_with_tiny_llama
    page = make_page(qtbot, context)
    assert page.header.plain_text().startswith("No run yet") and page.charts.empty.empty
    assert page.notebook_state() is None and not page.use_button.isEnabled()
    page.method_combo.setCurrentIndex(page.method_combo.findData("heads"))
    page.slider.setFocus()
    qtbot.keyClick(page.slider, Qt.Key.Key_End)  # the slider's top: 90%
    assert page.draft.value.method == "heads" and page.draft.value.sparsity == 90
    assert page.sparsity_label.text() == "90%"
    with qtbot.waitSignal(page.sig_run_done, timeout=240000) as done:
        qtbot.mouseClick(page.bar.run_button, Qt.MouseButton.LeftButton)
        assert page.slot.busy and page.bar.stop_button.isEnabled() and not page.sweep_button.isEnabled()
    qtbot.waitUntil(lambda: not page.slot.busy, timeout=10000)
    assert [page.table.item(r, 0).text() for r in range(page.table.rowCount())] == ["Dense", "Attention heads 90%"]
    dense, heads = page.rows
    assert heads.params < dense.params and heads.weight_bytes < dense.weight_bytes
    assert page.table.item(0, 5).text() == "0.0000" and page.table.item(0, 6).text() == "100.0%"
    # 90% of 8 heads would empty a layer: each layer keeps its best head, said beside the text
    assert "keeps its most important head" in page.texts.toPlainText() and "6 of 8" in heads.note
    assert done.args[0]["method"] == "heads" and done.args[0]["sparsity"] == 0.9
    name = context.session.base.info.name
    header = page.header.plain_text()
    assert header.startswith(f"{name} (base, no adapter)") and "Attention heads at 90%" in header
    assert "loss change when masked" in header
    assert page.charts.image is not None and page.charts.mask.get_title().startswith("heads kept")
    assert "decoding at" in page.bar.message.text()
    assert page.notebook_state()["kind"] == "pruning" and page.notebook_state()["plan"]
    # every tab gets the pruned model
    with qtbot.waitSignal(page.sig_used, timeout=120000):
        qtbot.mouseClick(page.use_button, Qt.MouseButton.LeftButton)
    current = context.session.current
    assert current.info.parameters == heads.params and "pruned" in current.info.name
    assert "Every tab now uses the pruned model" in page.bar.message.text()
    assert page.use_button.isEnabled()  # measured on the model as loaded: still the same base


def test_sweep_charts_quality_against_sparsity_for_each_kind(qtbot, context_with_tiny_llama):
    page = make_page(qtbot, context_with_tiny_llama)
    page.draft.set("texts", 1)  # twelve models: measure each on one text, two greedy tokens
    page.draft.set("new_tokens", 2)
    with qtbot.waitSignal(page.sig_swept, timeout=300000) as swept:
        qtbot.mouseClick(page.sweep_button, Qt.MouseButton.LeftButton)
    assert swept.args[0] == {"methods": ["global", "heads", "layers"], "points": 12}
    assert set(page.charts.lines) == {"global", "heads", "layers"}
    xs = list(page.charts.lines["global"].get_xdata())
    assert xs == [0.0, 0.3, 0.5, 0.7, 0.9]
    unstructured = [r for r in page.rows if r.method == "global"]
    assert {r.params for r in unstructured} == {page.rows[0].params}  # zeros keep every parameter
    assert page.charts.cut_line is None or page.rows[-1].method != "global"
    if os.environ.get("PLAYGROUND_SCREENS"):
        page.resize(1180, 700)
        page.grab().save(str(Path(os.environ["PLAYGROUND_SCREENS"]) / "lifecycle-pruning-sweep.png"))


def test_a_sparsity_outside_0_to_99_is_said_plainly(qtbot, context_with_tiny_llama):
    page = make_page(qtbot, context_with_tiny_llama)
    page.draft.set("sparsity", 150)  # e.g. from an edited settings file: the slider cannot show it
    qtbot.mouseClick(page.bar.run_button, Qt.MouseButton.LeftButton)
    assert not page.slot.busy and page.table.rowCount() == 0
    assert "outside 0-99%" in page.bar.message.text()


def test_the_lifecycle_tab_has_pruning_right_after_precision(qtbot, app_context):
    from playground.qt.lifecycle.panel import LifecyclePanel

    panel = shown(qtbot, LifecyclePanel(app_context))
    titles = [panel.sections.tabText(i) for i in range(panel.sections.count())]
    assert titles[titles.index("Precision") + 1] == "Pruning"
    page = panel.sections.widget(titles.index("Pruning"))
    assert {"pruning.run", "pruning.swept", "pruning.used", "precision.run"} <= set(panel.lab_events())
    assert panel.reveal("pruning_sweep") is page.sweep_button and panel.sections.currentWidget() is page
    # lab 5's precision and pruning steps name controls this tab reveals
    from playground.core.labs import load_labs

    lab = {lab.id: lab for lab in load_labs()[0]}["smaller"]
    named = [s.control for s in lab.steps if s.check.startswith(("precision", "prun")) and s.control]
    assert len(named) == 6 and all(panel.reveal(c) is not None for c in named)
    # it fits the Lifecycle tab's room in a 1200x800 window: nothing cut or squeezed
    from PySide6.QtWidgets import QApplication

    from playground.qt.layout_audit import page_findings

    panel.resize(1180, 660)
    for _ in range(3):
        QApplication.processEvents()
    assert page_findings(panel) == []

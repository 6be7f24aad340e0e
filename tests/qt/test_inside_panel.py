import csv

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPoint, Qt

from playground.qt.inside import InsidePanel
from tests.qt.shown import in_tab_room, shown

TEXT = "The animal didn't cross the street because it was too tired."


def make_panel(qtbot, context):
    panel = shown(qtbot, InsidePanel(context), 1200, 800)
    qtbot.waitUntil(lambda: bool(panel.token_view.pieces), timeout=5000)  # the model was seen
    return panel


def analyse(qtbot, panel, text=TEXT):
    panel.text_edit.setPlainText(text)
    with qtbot.waitSignal(panel.sig_analysis_finished, timeout=60000) as blocker:
        qtbot.keyClick(panel.text_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    return blocker.args[0]


def show_view(qtbot, panel, name):
    with qtbot.waitSignal(panel.sig_view_updated, timeout=5000):
        panel.view_tabs.setCurrentIndex(list(panel.views).index(name))


def heatmap_state(panel):
    return np.array(panel.heatmap.image.get_array()).copy(), panel.heatmap.ax.get_title()


def test_tokens_show_while_typing(qtbot, context_with_tiny_llama):
    panel = make_panel(qtbot, context_with_tiny_llama)
    panel.text_edit.setPlainText("Hello antidisestablishmentarian world")
    n = len(context_with_tiny_llama.session.current.tokenizer("Hello antidisestablishmentarian world")["input_ids"])
    qtbot.waitUntil(lambda: f"{n} tokens" in panel.token_view.count_label.text(), timeout=3000)
    assert "antidisestablishmentarian →" in panel.token_view.splits_label.text()
    html = panel.token_view.browser.toHtml()
    assert html.count("tok:") == n
    first = context_with_tiny_llama.session.current.tokenizer("Hello")["input_ids"][0]
    assert panel.token_view.describe(0).startswith(f"token #0: id {first}, piece 'Hello', characters 0–5")
    assert "attention needs about" in panel.status_label.text()


def test_changing_layer_and_head_changes_the_heatmap(qtbot, context_with_tiny_llama):
    panel = make_panel(qtbot, context_with_tiny_llama)
    result = analyse(qtbot, panel)
    assert result is not None and panel.message_label.text() == ""
    show_view(qtbot, panel, "attention")
    data0, title0 = heatmap_state(panel)
    assert "layer 0" in title0 and "head 0" in title0
    np.testing.assert_allclose(data0, result.maps["self"].weights[0, 0], rtol=1e-6)
    with qtbot.waitSignal(panel.sig_view_updated, timeout=3000):
        panel.layer_slider.setFocus()
        qtbot.keyClick(panel.layer_slider, Qt.Key.Key_Right)  # a person moving the slider one step
    data1, title1 = heatmap_state(panel)
    assert "layer 1" in title1 and not np.allclose(data0, data1)
    np.testing.assert_allclose(data1, result.maps["self"].weights[1, 0], rtol=1e-6)
    with qtbot.waitSignal(panel.sig_view_updated, timeout=3000):
        panel.head_combo.setCurrentIndex(panel.head_combo.findData(3))
    data2, title2 = heatmap_state(panel)
    assert "head 3" in title2 and not np.allclose(data1, data2)
    np.testing.assert_allclose(data2, result.maps["self"].weights[1, 3], rtol=1e-6)
    with qtbot.waitSignal(panel.sig_view_updated, timeout=3000):
        panel.head_combo.setCurrentIndex(panel.head_combo.findData("mean"))
    np.testing.assert_allclose(heatmap_state(panel)[0], result.maps["self"].weights[1].mean(0), rtol=1e-5)
    with qtbot.waitSignal(panel.sig_view_updated, timeout=3000):
        panel.head_combo.setCurrentIndex(panel.head_combo.findData("rollout"))
    assert "rollout" in heatmap_state(panel)[1]
    # Hover tells the value under the mouse.
    assert "0.0000" in panel.heatmap.cell_text(0, 5) and "'The' (#0)" in panel.heatmap.cell_text(0, 5)


def test_clicking_a_head_thumbnail_enlarges_it(qtbot, context_with_tiny_llama):
    panel = make_panel(qtbot, context_with_tiny_llama)
    analyse(qtbot, panel)
    show_view(qtbot, panel, "heads")
    assert len(panel.heads.axes) == 4
    canvas = panel.heads.canvas
    canvas.draw()
    box = panel.heads.axes[2].get_window_extent()
    ratio = canvas.device_pixel_ratio
    x, y = (box.x0 + box.x1) / 2 / ratio, canvas.height() - (box.y0 + box.y1) / 2 / ratio
    with qtbot.waitSignal(panel.sig_view_updated, timeout=3000):
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(int(x), int(y)))
    assert panel.current_view() == "attention"
    assert panel.head_combo.currentData() == 2
    assert "head 2" in panel.heatmap.ax.get_title()


def test_lines_follow_the_chosen_token(qtbot, context_with_tiny_llama):
    panel = make_panel(qtbot, context_with_tiny_llama)
    result = analyse(qtbot, panel)
    show_view(qtbot, panel, "lines")
    t = len(result.tokens)
    assert panel.lines.query == t - 1  # a new text starts at its last token: it sees them all
    panel.lines.query_spin.setValue(3)
    weights = result.maps["self"].weights[0, 0, 3]
    widths = panel.lines.lines.get_linewidths()
    assert len(panel.lines.lines.get_segments()) == int((weights >= 0.002).sum()) == 4  # causal: tokens 0..3
    np.testing.assert_allclose(sorted(widths), sorted(0.4 + 10.0 * weights[weights >= 0.002]), rtol=1e-5)


def test_logit_lens_table_ends_with_the_models_prediction(qtbot, context_with_tiny_llama):
    panel = make_panel(qtbot, context_with_tiny_llama)
    result = analyse(qtbot, panel)
    with qtbot.waitSignal(panel.sig_lens_finished, timeout=30000) as blocker:
        panel.view_tabs.setCurrentIndex(list(panel.views).index("lens"))
    lens = blocker.args[0]
    model = panel.lens.model
    assert model.rowCount() == 3 and model.columnCount() == len(result.tokens)
    ids = torch.tensor([[p.id for p in result.tokens]])
    with torch.no_grad():
        predicted = context_with_tiny_llama.session.current.model(ids).logits[0, -1].argmax().item()
    assert lens.top_ids[-1, -1, 0] == predicted
    cell = model.data(model.index(2, len(result.tokens) - 1))
    assert cell.split("\n")[0] == lens.top_tokens[-1][-1][0]
    assert "1. '" in model.data(model.index(2, 0), Qt.ItemDataRole.ToolTipRole)
    # The model's real guess (last layer, last position) is in full view, not cut at the right edge.
    table = panel.lens.table
    last = model.index(2, len(result.tokens) - 1)
    qtbot.waitUntil(lambda: table.viewport().rect().contains(table.visualRect(last)), timeout=3000)


def test_embeddings_for_typed_words(qtbot, context_with_tiny_llama):
    panel = make_panel(qtbot, context_with_tiny_llama)
    panel.view_tabs.setCurrentIndex(list(panel.views).index("embeddings"))
    view = panel.embeddings
    # Before the first Compare: no placeholder matrix, no ticks, a line saying what to do.
    assert np.isnan(np.array(view.sim_image.get_array(), dtype=float)).all()
    assert list(view.ax_sim.get_xticks()) == [] and list(view.ax_map.get_yticks()) == []
    assert all(t.get_visible() and "press Compare" in t.get_text() for t in view.empty_texts)
    panel.embeddings.words_edit.setText("king, queen, cat")
    with qtbot.waitSignal(panel.sig_embeddings_finished, timeout=10000) as blocker:
        qtbot.mouseClick(panel.embeddings.compare_button, Qt.MouseButton.LeftButton)
    result = blocker.args[0]
    assert result.words == ["king", "queen", "cat"]
    np.testing.assert_allclose(np.array(panel.embeddings.sim_image.get_array()), result.similarity)
    assert len(panel.embeddings.scatter.get_offsets()) == 3
    assert not any(t.get_visible() for t in view.empty_texts) and len(view.ax_sim.get_xticks()) == 3
    assert len(view.ax_map.get_xticks()) > 1
    name = context_with_tiny_llama.session.current.info.name
    assert f"{name} (base, no adapter)" in view.header.plain_text()  # issue 28: the vectors name their model
    assert "with a space before" in view.header.plain_text()
    panel.embeddings.words_edit.setText("king")
    with qtbot.waitSignal(panel.sig_embeddings_finished, timeout=10000):
        qtbot.mouseClick(panel.embeddings.compare_button, Qt.MouseButton.LeftButton)
    assert "at least two" in panel.message_label.text()


def test_export_png_and_csv(qtbot, context_with_tiny_llama, tmp_path):
    panel = make_panel(qtbot, context_with_tiny_llama)
    result = analyse(qtbot, panel)
    show_view(qtbot, panel, "attention")
    panel.export_current(str(tmp_path / "map.png"), "png")
    panel.export_current(str(tmp_path / "map.csv"), "csv")
    assert (tmp_path / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = list(csv.reader((tmp_path / "map.csv").open(encoding="utf-8")))
    labels = [p.label for p in result.tokens]
    assert rows[0][1:] == labels and [r[0] for r in rows[1:]] == labels
    values = np.array([[float(v) for v in r[1:]] for r in rows[1:]])
    np.testing.assert_allclose(values, result.maps["self"].weights[0, 0], atol=1e-6)
    panel.view_tabs.setCurrentIndex(0)
    panel.export_current(str(tmp_path / "tokens.csv"), "csv")
    assert (tmp_path / "tokens.csv").read_text(encoding="utf-8").startswith("index,id,piece")


def test_encoder_decoder_shows_cross_attention(qtbot, app_context, tiny_t5):
    app_context.session.set(tiny_t5)
    panel = make_panel(qtbot, app_context)
    assert panel.target_edit.isVisibleTo(panel)
    panel.target_edit.setText("Das Tier")
    result = analyse(qtbot, panel)
    assert [panel.map_combo.itemData(i) for i in range(panel.map_combo.count())] == ["encoder", "decoder", "cross"]
    show_view(qtbot, panel, "attention")
    with qtbot.waitSignal(panel.sig_view_updated, timeout=3000):
        panel.map_combo.setCurrentIndex(2)
    data, title = heatmap_state(panel)
    assert "Cross-attention" in title
    assert data.shape == (len(result.target_ids), len(result.tokens))
    assert panel.head_combo.findData("rollout") == -1  # no rollout through cross-attention


def test_bad_inputs_are_explained(qtbot, context_with_tiny_llama):
    panel = make_panel(qtbot, context_with_tiny_llama)
    panel.text_edit.setPlainText("   ")
    with qtbot.waitSignal(panel.sig_analysis_finished, timeout=10000) as blocker:
        panel.analyse_button.click()
    assert blocker.args[0] is None and "empty" in panel.message_label.text()
    with qtbot.waitSignal(panel.sig_analysis_finished, timeout=10000):
        panel.text_edit.setPlainText("word " * 300)
        panel.analyse_button.click()
    assert "context window is 256 tokens" in panel.message_label.text()
    # Past the memory limit: refused when the user chose so, with the numbers.
    panel.controls.limit_spin.setValue(1)
    panel.controls.policy_combo.setCurrentIndex(panel.controls.policy_combo.findData("refuse"))
    with qtbot.waitSignal(panel.sig_analysis_finished, timeout=10000):
        panel.text_edit.setPlainText("word " * 250)
        panel.analyse_button.click()
    assert "more than the limit of 1.00 MiB" in panel.message_label.text()
    assert panel.analyse_button.isEnabled() and not panel.stop_button.isEnabled()
    # ...and downsampled when the user prefers.
    panel.controls.policy_combo.setCurrentIndex(panel.controls.policy_combo.findData("downsample"))
    with qtbot.waitSignal(panel.sig_analysis_finished, timeout=30000) as blocker:
        panel.analyse_button.click()
    assert blocker.args[0] is not None and blocker.args[0].plan.downsampled
    assert "downsampled" in panel.status_label.text()


def test_no_model_yet(qtbot, app_context):
    panel = InsidePanel(app_context)
    qtbot.addWidget(panel)
    panel.analyse_button.click()
    assert "still loading" in panel.message_label.text()
    assert panel.task is None


@pytest.mark.parametrize("view", ["heads", "lines"])
def test_views_update_for_long_inputs(qtbot, context_with_tiny_llama, view):
    panel = make_panel(qtbot, context_with_tiny_llama)
    result = analyse(qtbot, panel, "word " * 200)
    show_view(qtbot, panel, view)
    if view == "heads":
        assert np.array(panel.heads.images[0].get_array()).shape[0] <= 96  # thumbnails are pooled
    else:
        assert len(panel.lines.shown_cols) == 40 and "most" in panel.lines.note.text()
    assert len(result.tokens) == 201


def test_adapter_switch_keeps_the_analysis_marked_with_its_model(qtbot, context_with_tiny_llama, tiny_adapter,
                                                                 tiny_llama):
    from playground.qt.model_bar import ModelBar

    bar = ModelBar(context_with_tiny_llama)
    qtbot.addWidget(bar)
    bar.show()
    panel = make_panel(qtbot, context_with_tiny_llama)
    result = analyse(qtbot, panel)
    show_view(qtbot, panel, "attention")
    shown = heatmap_state(panel)
    assert shown[0].shape[0] > 1
    assert f"computed with base model {tiny_llama.info.name}" in panel.status_label.text()

    qtbot.mouseClick(bar.adapter_check, Qt.MouseButton.LeftButton)  # the switch: on
    assert context_with_tiny_llama.session.current is tiny_adapter
    assert panel.result is result  # nothing wiped
    assert np.array_equal(heatmap_state(panel)[0], shown[0])
    status = panel.status_label.text()
    assert f"computed with base model {tiny_llama.info.name}" in status and "now selects adapter run-7" in status
    assert ("Attention", panel.summary) in panel.session_snapshot()
    assert "computed with base model" in panel.summary

    with qtbot.waitSignal(panel.sig_view_updated, timeout=5000):
        analyse(qtbot, panel)  # Analyse again: the adapter's own maps
    assert panel.result_model is tiny_adapter and "computed with adapter run-7" in panel.status_label.text()
    assert not np.array_equal(heatmap_state(panel)[0], shown[0])


def test_charts_start_with_a_sentence_and_results_name_their_model(qtbot, app_context, tiny_llama, tiny_t5):
    """Issue 28: before a result each chart says what will appear (no empty axes); the analysis names its
    model (base, no adapter), shows named phases on the progress strip, and a new model clears it."""
    from playground.core.base.progress import StepMessage

    app_context.session.set(tiny_llama)
    panel = make_panel(qtbot, app_context)
    for view in (panel.heatmap, panel.heads, panel.lines, panel.meaning, panel.views["kinds"]):
        assert view.empty.empty and "appear" in view.empty.text.get_text()
        assert not any(ax.get_visible() for ax in view.empty.axes)
    assert "Press Analyse" in panel.result_header.plain_text()

    messages = []
    panel.text_edit.setPlainText(TEXT)
    with qtbot.waitSignal(panel.sig_analysis_finished, timeout=60000):
        panel.analyse()
        assert panel.progress_strip.isVisible()
        panel.task.sig_progress.connect(lambda f, m: messages.append(m))
    phases = {m.phase for m in messages if isinstance(m, StepMessage)}
    assert "Reading the attention of each layer" in phases
    assert not panel.progress_strip.isVisible()
    header = panel.result_header.plain_text()
    assert f"{tiny_llama.info.name} (base, no adapter)" in header and "memory limit 512 MiB" in header
    show_view(qtbot, panel, "attention")
    assert not panel.heatmap.empty.empty and panel.heatmap.ax.get_visible()

    with qtbot.waitSignal(app_context.sig_model_changed):
        app_context.session.set(tiny_t5)
        app_context.sig_model_changed.emit(tiny_t5)
    assert tiny_llama.info.name not in panel.result_header.plain_text()
    assert panel.heatmap.empty.empty


def test_the_attention_map_and_its_labels_fit_1200_by_800(qtbot, context_with_tiny_llama):
    """Issue 28: in the 1200x800 window, with a map on show, the tab does not scroll (the x labels were cut
    below the fold) and the map's token labels and axis names lie inside the figure."""

    from playground.qt.layout_audit import page_findings

    panel = make_panel(qtbot, context_with_tiny_llama)
    analyse(qtbot, panel)
    show_view(qtbot, panel, "attention")
    scroll = in_tab_room(qtbot, panel)  # as the window holds a tab, in the room 1200x800 leaves it
    qtbot.waitUntil(lambda: panel.heatmap.canvas.isVisible())
    found = page_findings(panel)
    canvas = panel.heatmap.canvas
    canvas.draw()
    renderer = canvas.get_renderer()
    figure_box = panel.heatmap.figure.bbox
    ax = panel.heatmap.ax
    outside = [artist.get_text() for artist in [*ax.get_xticklabels(), *ax.get_yticklabels(), ax.xaxis.label,
                                                 ax.yaxis.label]
               if artist.get_text() and (artist.get_window_extent(renderer).y0 < figure_box.y0 - 1
                                         or artist.get_window_extent(renderer).x0 < figure_box.x0 - 1)]
    scroll.takeWidget()  # the panel stays qtbot's to close
    assert found == [] and outside == []

"""The Inside tab's views driven like a person: hovering, clicking, saving, long texts, Stop."""

import csv
import html
import itertools

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QFileDialog, QToolTip
from test_inside_panel import TEXT, analyse, make_panel, show_view

from playground.qt.inside import InsidePanel
from playground.qt.inside.common import short
from playground.qt.inside.lens_view import probability_colour


def canvas_pos(canvas, ax, x: float, y: float) -> QPoint:
    """The widget position of data point (x, y) of an axes (what a mouse would point at)."""
    canvas.draw()
    px, py = ax.transData.transform((x, y))
    ratio = canvas.device_pixel_ratio
    return QPoint(int(px / ratio), int(canvas.height() - py / ratio))


def artist_pos(canvas, artist) -> QPoint:
    canvas.draw()
    box = artist.get_window_extent(renderer=canvas.get_renderer())
    ratio = canvas.device_pixel_ratio
    return QPoint(int((box.x0 + box.x1) / 2 / ratio), int(canvas.height() - (box.y0 + box.y1) / 2 / ratio))


def anchor_pos(browser, href: str) -> QPoint:
    """Where the link ``href`` sits in a QTextBrowser's viewport."""
    doc = browser.document()
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            if frag.charFormat().anchorHref() == href:
                cursor = QTextCursor(doc)
                cursor.setPosition(frag.position() + 1)
                return browser.cursorRect(cursor).center() - QPoint(3, 0)
            it += 1
        block = block.next()
    raise AssertionError(f"no link {href}")


def save_through_button(qtbot, panel, button, path, monkeypatch):
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(path), "")))
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_hovering_a_token_shows_its_id(qtbot, context_with_tiny_llama):
    panel = make_panel(qtbot, context_with_tiny_llama)
    tok = context_with_tiny_llama.session.current.tokenizer
    piece = panel.token_view.pieces[3]
    qtbot.mouseMove(panel.token_view.browser.viewport(), anchor_pos(panel.token_view.browser, "tok:3"))
    qtbot.waitUntil(QToolTip.isVisible, timeout=3000)
    assert QToolTip.text().startswith(f"token #3: id {piece.id}, piece '{tok.convert_ids_to_tokens(piece.id)}'")
    # "didn't" is one word cut into two tokens: the view says so.
    assert "didn't →" in html.unescape(panel.token_view.splits_label.text())
    assert str(piece.id) not in panel.token_view.browser.toPlainText()
    qtbot.mouseClick(panel.token_view.ids_check, Qt.MouseButton.LeftButton)
    assert str(piece.id) in panel.token_view.browser.toPlainText()


def test_hovering_the_heatmap_and_the_head_grid_shows_values(qtbot, context_with_tiny_llama):
    panel = make_panel(qtbot, context_with_tiny_llama)
    result = analyse(qtbot, panel)
    show_view(qtbot, panel, "attention")
    heat = panel.heatmap
    qtbot.mouseMove(heat.canvas, canvas_pos(heat.canvas, heat.ax, 2, 7))
    qtbot.waitUntil(lambda: "(#7) →" in heat.hover.text(), timeout=3000)
    value = float(result.maps["self"].weights[0, 0, 7, 2])
    assert f"{value:.4f}" in heat.hover.text() and "(#2)" in heat.hover.text()
    show_view(qtbot, panel, "heads")
    grid = panel.heads
    qtbot.mouseMove(grid.canvas, canvas_pos(grid.canvas, grid.axes[1], 1, 1))
    qtbot.waitUntil(lambda: grid.hover.text().startswith("head 1:"), timeout=3000)
    first = float(result.maps["self"].weights[0, 1, :, 0].mean())
    assert f"{first:.0%} of attention goes to the first token" in grid.hover.text()


def test_clicking_a_token_in_the_lines_view_draws_its_lines(qtbot, context_with_tiny_llama):
    panel = make_panel(qtbot, context_with_tiny_llama)
    result = analyse(qtbot, panel)
    show_view(qtbot, panel, "lines")
    lines = panel.lines
    with qtbot.waitSignal(lines.sig_query_chosen, timeout=3000) as blocker:
        qtbot.mouseClick(lines.canvas, Qt.MouseButton.LeftButton, pos=artist_pos(lines.canvas, lines.left[5]))
    assert blocker.args == [5] and lines.query_spin.value() == 5
    weights = result.maps["self"].weights[0, 0, 5]
    assert len(lines.lines.get_segments()) == int((weights >= 0.002).sum()) == 6  # causal: tokens 0..5
    assert lines.left[5].get_fontweight() == "bold"
    qtbot.mouseMove(lines.canvas, artist_pos(lines.canvas, lines.right[2]))
    qtbot.waitUntil(lambda: "(#2)" in lines.hover.text(), timeout=3000)
    assert f"{float(weights[2]):.4f}" in lines.hover.text()


def test_logit_lens_cells_are_coloured_by_probability(qtbot, context_with_tiny_llama):
    panel = make_panel(qtbot, context_with_tiny_llama)
    analyse(qtbot, panel)
    with qtbot.waitSignal(panel.sig_lens_finished, timeout=30000) as blocker:
        panel.view_tabs.setCurrentIndex(list(panel.views).index("lens"))
    lens, model = blocker.args[0], panel.lens.model
    cells = [(r, c) for r in range(model.rowCount()) for c in range(model.columnCount())]
    for r, c in cells:
        colour = model.data(model.index(r, c), Qt.ItemDataRole.BackgroundRole)
        assert colour == probability_colour(float(lens.top_probs[r, c, 0]))
        assert model.data(model.index(r, c)).endswith(f"{float(lens.top_probs[r, c, 0]):.0%}")
    # Surer is darker, all the way from white to deep blue.
    shades = [probability_colour(p).lightness() for p in np.linspace(0, 1, 11)]
    assert all(a > b for a, b in itertools.pairwise(shades)) and shades[0] > 240 and shades[-1] < 80


def test_embedding_matrix_and_map_show_values_on_hover(qtbot, context_with_tiny_llama):
    panel = make_panel(qtbot, context_with_tiny_llama)
    panel.view_tabs.setCurrentIndex(list(panel.views).index("embeddings"))
    view = panel.embeddings
    view.words_edit.setText("king, queen, cat, dog")
    with qtbot.waitSignal(panel.sig_embeddings_finished, timeout=10000) as blocker:
        qtbot.keyClick(view.words_edit, Qt.Key.Key_Return)
    result = blocker.args[0]
    qtbot.mouseMove(view.canvas, canvas_pos(view.canvas, view.ax_sim, 1, 0))
    qtbot.waitUntil(lambda: "'king' ↔ 'queen'" in view.hover.text(), timeout=3000)
    assert f"{float(result.similarity[0, 1]):.3f}" in view.hover.text()
    x, y = result.coords[2]
    qtbot.mouseMove(view.canvas, canvas_pos(view.canvas, view.ax_map, float(x), float(y)))
    qtbot.waitUntil(lambda: view.hover.text().startswith("'cat' at"), timeout=3000)
    nearest = max((j for j in range(4) if j != 2), key=lambda j: result.similarity[2, j])
    assert f"most alike: '{result.words[nearest]}'" in view.hover.text()
    labels = [t.get_text() for t in view.point_texts]
    assert labels == ["king", "queen", "cat", "dog"]


@pytest.mark.parametrize("view", ["tokens", "attention", "heads", "lines", "lens", "embeddings"])
def test_every_view_saves_a_picture_and_its_numbers(qtbot, context_with_tiny_llama, tmp_path, monkeypatch, view):
    panel = make_panel(qtbot, context_with_tiny_llama)
    result = analyse(qtbot, panel)
    if view == "lens":
        with qtbot.waitSignal(panel.sig_lens_finished, timeout=30000):
            panel.view_tabs.setCurrentIndex(list(panel.views).index("lens"))
    elif view == "embeddings":
        panel.view_tabs.setCurrentIndex(list(panel.views).index("embeddings"))
        with qtbot.waitSignal(panel.sig_embeddings_finished, timeout=10000):
            qtbot.mouseClick(panel.embeddings.compare_button, Qt.MouseButton.LeftButton)
    elif view != "tokens":
        show_view(qtbot, panel, view)
    else:
        panel.view_tabs.setCurrentIndex(0)
    save_through_button(qtbot, panel, panel.png_button, tmp_path / f"{view}.png", monkeypatch)
    save_through_button(qtbot, panel, panel.csv_button, tmp_path / f"{view}.csv", monkeypatch)
    assert panel.message_label.text() == "" and "Saved" in panel.status_label.text()
    png = (tmp_path / f"{view}.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    rows = list(csv.reader((tmp_path / f"{view}.csv").open(encoding="utf-8")))
    t = len(result.tokens)
    labels = [p.label for p in result.tokens]
    if view == "tokens":
        assert [int(r[1]) for r in rows[1:]] == [p.id for p in result.tokens]
    elif view == "heads":
        heads = [r for r in rows if r and r[0].startswith("head ")]
        assert len(heads) == 4 and heads[2][1:] == labels
        block = np.array([[float(v) for v in r[1:]] for r in rows[2 * (t + 2) + 1: 2 * (t + 2) + 1 + t]])
        np.testing.assert_allclose(block, result.maps["self"].weights[0, 2], atol=1e-6)
    elif view == "lines":
        assert len(rows) == t + 1 and rows[1][2] == labels[-1]
        np.testing.assert_allclose([float(r[-1]) for r in rows[1:]], result.maps["self"].weights[0, 0, -1], atol=1e-6)
    elif view == "lens":
        assert rows[0][:5] == ["layer", "position", "input_token", "next_token", "token1"]
        assert len(rows) == 1 + 3 * t
        last = next(r for r in rows if r[0] == "layer 1" and r[1] == str(t - 1))
        assert last[4] == panel.lens.result.top_tokens[-1][-1][0]
    elif view == "embeddings":
        assert rows[0][1:] == panel.embeddings.result.words
    else:
        assert rows[0][1:] == labels


def test_saving_before_anything_is_shown_says_what_to_do(qtbot, context_with_tiny_llama, tmp_path, monkeypatch):
    panel = make_panel(qtbot, context_with_tiny_llama)
    show_view_index = list(panel.views).index("attention")
    panel.view_tabs.setCurrentIndex(show_view_index)
    asked = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: asked.append(1) or ("", "")))
    qtbot.mouseClick(panel.csv_button, Qt.MouseButton.LeftButton)
    assert "Nothing to save yet" in panel.message_label.text() and not asked
    panel.view_tabs.setCurrentIndex(list(panel.views).index("embeddings"))
    qtbot.mouseClick(panel.png_button, Qt.MouseButton.LeftButton)
    assert "Compare" in panel.message_label.text() and not asked


def test_downsampled_map_speaks_in_token_positions(qtbot, context_with_tiny_llama):
    panel = make_panel(qtbot, context_with_tiny_llama)
    panel.controls.limit_spin.setValue(1)
    panel.controls.policy_combo.setCurrentIndex(panel.controls.policy_combo.findData("downsample"))
    result = analyse(qtbot, panel, "word " * 240)  # 2 layers × 4 heads × 240² × 4 B = 1.8 MiB > 1 MiB
    t, f = len(result.tokens), result.plan.factor
    assert f == 2 and result.main.weights.shape[-1] == -(-t // f)
    show_view(qtbot, panel, "attention")
    heat = panel.heatmap
    # The axes count tokens of the text (0…t), not rows of the pooled map (0…t/2).
    ticks = [int(x.get_text()) for x in heat.ax.get_xticklabels()]
    assert all(x % f == 0 for x in ticks) and max(ticks) > t * 0.8
    assert heat.cell_text(3, 1).startswith(f"'{result.main.query_labels[3]}' (#{3 * f}–{4 * f - 1}) →")
    # A window of 32 tokens is 32 / f rows of the pooled map, starting at the group of the chosen token.
    heat.window_combo.setCurrentIndex(heat.window_combo.findData(32))
    heat.window_start.setValue(101)
    r0, nr, c0, nc = heat.window()
    assert (r0, nr, c0, nc) == (101 // f, 32 // f, 101 // f, 32 // f)
    assert heat.ax.get_yticklabels()[0].get_text() == short(result.main.query_labels[101 // f])
    show_view(qtbot, panel, "lines")
    assert panel.lines.spin_label.text() == "Token group"
    panel.lines.query_spin.setValue(3)
    assert panel.lines.query_label.text() == f"'{result.main.query_labels[3]}' (#{3 * f}–{4 * f - 1})"
    assert "groups of" in panel.lines.note.text()


def test_stop_ends_a_long_analysis_and_the_window_keeps_answering(qtbot, context_with_tiny_llama, monkeypatch):
    from playground.core import attention

    started = []

    def slow_extract(loaded, text, handle=None, **kwargs):
        started.append(1)
        handle.report(None, "Working…")
        handle.wait_cancelled(20)  # a long extraction: 20 s unless stopped
        handle.raise_if_cancelled()
        raise AssertionError("never stopped")

    monkeypatch.setattr(attention, "extract_attention", slow_extract)
    panel = make_panel(qtbot, context_with_tiny_llama)
    qtbot.mouseClick(panel.analyse_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(started) and panel.stop_button.isEnabled(), timeout=5000)
    # The GUI thread is free while the worker runs: typing still updates the token count.
    panel.text_edit.setPlainText("Two words")
    qtbot.waitUntil(lambda: "for 9 characters" in panel.token_view.count_label.text(), timeout=3000)
    assert panel.busy
    with qtbot.waitSignal(panel.sig_analysis_finished, timeout=5000) as blocker:
        qtbot.keyClick(panel.text_edit, Qt.Key.Key_Escape)
    assert blocker.args[0] is None and panel.status_label.text() == "Stopped."
    assert panel.analyse_button.isEnabled() and not panel.stop_button.isEnabled()
    assert panel.task.outcome == "cancelled"


def test_a_model_without_attention_is_explained_before_and_after_analyse(qtbot, app_context, tiny_mamba):
    app_context.session.set(tiny_mamba)
    panel = make_panel(qtbot, app_context)
    assert "no attention layers" in panel.status_label.text()
    with qtbot.waitSignal(panel.sig_analysis_finished, timeout=10000) as blocker:
        qtbot.mouseClick(panel.analyse_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0] is None and "gives out no attention weights" in panel.message_label.text()


def test_a_new_model_clears_the_old_maps(qtbot, context_with_tiny_llama, tiny_t5):
    panel = make_panel(qtbot, context_with_tiny_llama)
    analyse(qtbot, panel)
    show_view(qtbot, panel, "attention")
    assert panel.heatmap.has_data and panel.session_figures()
    context_with_tiny_llama.session.set(tiny_t5)
    context_with_tiny_llama.sig_model_changed.emit(tiny_t5)
    qtbot.waitUntil(lambda: panel.target_edit.isVisibleTo(panel), timeout=3000)
    assert panel.result is None and not panel.heatmap.has_data and not panel.heads.has_data
    assert panel.session_figures() == []
    assert panel.map_combo.count() == 0


def test_session_handout_has_the_inside_charts_only_once_used(qtbot, context_with_tiny_llama):
    from playground.qt.session_export import session_html

    panel = make_panel(qtbot, context_with_tiny_llama)
    assert "Inside" not in session_html([panel])
    analyse(qtbot, panel)
    show_view(qtbot, panel, "attention")
    page = session_html([panel])
    assert "<h2>Inside</h2>" in page and html.escape(TEXT) in page and page.count("data:image/png") == 1


def test_no_model_yet_shows_no_tokens(qtbot, app_context):
    panel = InsidePanel(app_context)
    qtbot.addWidget(panel)
    panel.update_tokens()
    assert "still loading" in panel.token_view.count_label.text()

"""The Build tab's Retrieval section, driven as a person would: the bundled knowledge base opens at the first
look, its documents with their sizes, chunks marked on a document, the query X-rayed, the answers with and
without retrieval (tiny Llama), leave-one-out, retrieval quality, bad input in plain words. Each result is
compared with the core function that makes it (the oracle), read from what the screen shows."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QPoint, Qt

from tests.qt.shown import shown

INDEX_TIMEOUT = 300_000


def open_panel(qtbot, context):
    from playground.qt.build import BuildPanel

    panel = BuildPanel(context)
    page = panel.retrieval
    assert page.kb is None and not page.busy  # nothing loads at app start: only at the first look
    shown(qtbot, panel, 1200, 800)
    qtbot.waitUntil(lambda: page.index is not None, timeout=INDEX_TIMEOUT)
    return panel, page


def search_for(qtbot, page, question_id: str):
    """Pick a bundled question in the drop-down and press Search, as a person would."""
    page.views.setCurrentWidget(page.xray)
    box = page.xray.question_box
    box.setCurrentIndex(next(i for i in range(box.count()) if box.itemData(i).id == question_id))
    with qtbot.waitSignal(page.sig_asked, timeout=60_000):
        qtbot.mouseClick(page.xray.search_button, Qt.MouseButton.LeftButton)
    return page.search


def test_the_bundled_base_opens_with_sizes_and_marked_chunks(qtbot, app_context):
    from playground.core.base.units import format_bytes
    from playground.core.retrieval import ChunkSettings, ChunkSettings, chunk_documents, load_bundled
    from playground.qt.build.documents_view import chunk_spans

    panel, page = open_panel(qtbot, app_context)
    base = load_bundled()
    table = page.box.table
    assert table.rowCount() == len(base.documents)
    for r, doc in enumerate(base.documents):
        assert table.item(r, 0).text() == doc.title and table.item(r, 1).text() == format_bytes(doc.size_bytes)
    tokenizer = page.index.encoder.tokenizer
    chunks = chunk_documents(base.documents, tokenizer, ChunkSettings())
    assert page.box.count_label.text() == f"{len(chunks):,}"
    first = base.documents[0]
    assert page.chunk_view.spans == chunk_spans(chunks, first.id)
    view_text = page.chunk_view.text.toPlainText()
    marks = re.findall(r"\[(\d+)\]", view_text)
    assert marks == [str(i + 1) for i in range(len(page.chunk_view.spans))]  # where each chunk starts
    assert re.sub(r"\[\d+\]", "", view_text).strip() == first.text.strip()  # the whole text, nothing lost
    assert f"{len(page.chunk_view.spans)} chunk" in page.chunk_view.heading.text()

    # Smaller chunks, stepped down with the arrow key: size 32 with overlap 32 is refused in plain words.
    size = page.box.size_spin
    size.setFocus()
    for _ in range(12):
        qtbot.keyClick(size, Qt.Key.Key_Down)
    assert size.value() == 32
    qtbot.waitUntil(lambda: "overlap" in page.box.message.text(), timeout=5_000)
    assert "must be smaller than the chunk size" in page.box.message.text()
    assert page.box.count_label.text() == f"{len(chunks):,}"  # nothing lost: the old chunks stay
    overlap = page.box.overlap_spin
    overlap.setFocus()
    for _ in range(3):
        qtbot.keyClick(overlap, Qt.Key.Key_Down)
    assert overlap.value() == 8
    small = chunk_documents(base.documents, tokenizer, ChunkSettings(32, 8))
    qtbot.waitUntil(lambda: page.box.count_label.text() == f"{len(small):,}", timeout=30_000)
    assert page.box.message.text() == ""
    assert page.chunk_view.spans == chunk_spans(small, first.id)
    assert "Build index to search these" in page.box.index_label.text()


def test_the_query_xray_shows_every_score_the_hits_and_the_prompt(qtbot, context_with_tiny_llama):
    from playground.core.retrieval import build_prompt
    from playground.qt.build.xray_chart import MAX_BARS

    ctx = context_with_tiny_llama
    panel, page = open_panel(qtbot, ctx)
    question = page.kb.questions[0]
    search = search_for(qtbot, page, question.id)
    index = page.index
    expected = index.search(question.question, "hybrid", 4)
    table = page.xray.hits_table
    assert table.rowCount() == 4
    assert [table.item(r, 2).text() for r in range(4)] == [h.chunk.id for h in expected]
    assert [table.item(r, 1).text() for r in range(4)] == [f"{h.score:.4f}" for h in expected]
    chart = page.xray.chart
    assert not chart.empty.empty
    assert all(len(chart.bars[m]) == min(len(index.chunks), MAX_BARS) for m in ("dense", "bm25", "hybrid"))
    assert question.passage_id in page.xray.where_label.text()
    prompt = build_prompt(question.question, expected, ctx.session.current)
    shown_prompt = page.xray.prompt_view.toPlainText()
    assert shown_prompt.strip() == prompt.text.strip()
    assert f"{prompt.n_tokens:,} of {prompt.context_window:,} tokens" in page.xray.context_label.text()
    assert f"passages take {prompt.context_tokens:,}" in page.xray.context_label.text()

    # The top-k slider cuts the list (and the chart's line moves); BM25 ranks by shared words.
    page.xray.k_slider.setFocus()
    with qtbot.waitSignal(page.sig_asked, timeout=30_000):
        qtbot.keyClick(page.xray.k_slider, Qt.Key.Key_Left)
        qtbot.keyClick(page.xray.k_slider, Qt.Key.Key_Left)
    assert table.rowCount() == 2 and chart.k_lines["dense"].get_xdata()[0] == pytest.approx(1.5)
    with qtbot.waitSignal(page.sig_asked, timeout=30_000):
        page.xray.method_combo.setCurrentIndex(page.xray.method_combo.findData("bm25"))
    bm25 = index.search(question.question, "bm25", 2)
    assert [table.item(r, 2).text() for r in range(table.rowCount())] == [h.chunk.id for h in bm25]
    assert search.question == question.question


def test_an_empty_or_stop_word_question_is_said_in_plain_words(qtbot, app_context):
    panel, page = open_panel(qtbot, app_context)
    page.views.setCurrentWidget(page.xray)
    qtbot.keyClicks(page.xray.question_box.lineEdit(), "what is the")
    qtbot.mouseClick(page.xray.search_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "common words" in page.box.message.text(), timeout=30_000)
    assert page.search is None and page.xray.chart.empty.empty


def test_with_and_without_stream_score_and_attribute(qtbot, context_with_tiny_llama, tiny_adapter):
    from playground.core.base.units import format_score
    from playground.core.retrieval import leave_one_out, score_answer
    from playground.qt.build.attribution_view import NOT_ATTENTION

    ctx = context_with_tiny_llama
    panel, page = open_panel(qtbot, ctx)
    question = page.kb.questions[1]
    page.xray.k_slider.setFocus()
    qtbot.keyClick(page.xray.k_slider, Qt.Key.Key_Home)  # k = 1: the tiny Llama reads 256 tokens at most
    search = search_for(qtbot, page, question.id)
    assert len(search.hits) == 1
    page.max_tokens.setFocus()
    page.max_tokens.selectAll()
    qtbot.keyClicks(page.max_tokens, "3")
    with qtbot.waitSignal(page.sig_compared, timeout=120_000) as compared:
        qtbot.mouseClick(page.answers.answer_button, Qt.MouseButton.LeftButton)
        assert page.answer_slot.busy and page.answers.strip.isVisible()
    cols = page.answers.columns
    name = ctx.session.current.info.name
    for side in ("without", "with"):
        header = cols[side].header.plain_text()
        assert f"{name} (base, no adapter)" in header and "greedy, 3 new tokens at most" in header
        score = score_answer(cols[side].answer.strip(), question.answer)
        assert cols[side].scores.text() == score.describe()
        assert f"ROUGE-L {format_score(score.rouge_l, 'rougeL')}" in cols[side].scores.text()
    assert "no documents" in cols["without"].header.plain_text()
    with_header = cols["with"].header.plain_text()
    assert "hybrid, k=1" in with_header and all(h.chunk.id in with_header for h in search.hits)
    assert cols["with"].text.toPlainText() == cols["with"].answer
    assert compared.args[0]["question_id"] == question.id

    page.views.setCurrentWidget(page.attribution)
    assert NOT_ATTENTION in page.attribution.explain.text()
    with qtbot.waitSignal(page.sig_attributed, timeout=120_000):
        qtbot.mouseClick(page.attribution.run_button, Qt.MouseButton.LeftButton)
    answer = cols["with"].answer
    effects = leave_one_out(ctx.session.current, search.question, search.hits, answer)
    assert [e.chunk_id for e in page.attribution.effects] == [e.chunk_id for e in effects]
    assert [b.get_width() for b in page.attribution.ax.patches] == pytest.approx([e.drop for e in effects], abs=1e-3)
    assert not page.attribution.empty.empty and page.attribution.verdict.text()

    # The Adapter switch: the answers stay, each marked out of date (issue 28).
    ctx.set_adapter(tiny_adapter, on=True)
    assert cols["with"].answer == answer and "out of date" in cols["with"].header.plain_text()
    assert "out of date" in page.attribution.header.plain_text()


def test_answer_accuracy_with_and_without_is_the_core_report(qtbot, context_with_tiny_llama):
    from playground.core.retrieval import answer_accuracy

    ctx = context_with_tiny_llama
    panel, page = open_panel(qtbot, ctx)
    page.kb.questions = page.kb.questions[:6]  # a few questions keep it quick
    page.xray.k_slider.setValue(1)  # the tiny Llama reads 256 tokens at most
    page.max_tokens.setValue(2)
    page.views.setCurrentWidget(page.quality)
    box = page.quality.answers_check
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))  # on its tick box
    assert box.isChecked()
    with qtbot.waitSignal(page.sig_evaluated, timeout=120_000) as evaluated:
        qtbot.mouseClick(page.quality.run_button, Qt.MouseButton.LeftButton)
    report = answer_accuracy(ctx.session.current, page.index, page.kb.questions, 1, method="hybrid",
                             settings=page.generation.value)
    table = page.quality.table
    cells = {table.item(r, 0).text(): table.item(r, table.columnCount() - 1).text() for r in range(table.rowCount())}
    assert cells["Answers without retrieval"] == f"{100 * report.mean('without'):.0f} %"
    assert cells["Answers with hybrid, k=1"] == f"{100 * report.mean('with'):.0f} %"
    assert evaluated.args[0]["accuracy"] == {"with": report.mean("with"), "without": report.mean("without")}
    assert "greedy, 2 new tokens at most" in page.quality.header.plain_text()


def test_retrieval_quality_table_is_the_core_report(qtbot, app_context):
    from playground.core.retrieval import evaluate_retrieval

    panel, page = open_panel(qtbot, app_context)
    page.views.setCurrentWidget(page.quality)
    assert page.quality.empty.empty
    with qtbot.waitSignal(page.sig_evaluated, timeout=120_000):
        qtbot.mouseClick(page.quality.run_button, Qt.MouseButton.LeftButton)
    rows = evaluate_retrieval(page.index, page.kb.questions).rows()
    table = page.quality.table
    assert [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())] == rows[0]
    assert [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())] == rows[1:]
    assert not page.quality.empty.empty and len(page.quality.recall_ax.lines) == 3


def test_bad_files_are_said_and_nothing_is_lost(qtbot, app_context, tmp_path):
    panel, page = open_panel(qtbot, app_context)
    before = [d.id for d in page.documents]
    binary = tmp_path / "data.txt"
    binary.write_bytes(b"\x00\x01\x02binary")
    page.open_paths([str(binary)])
    qtbot.waitUntil(lambda: not page.index_slot.busy, timeout=30_000)
    assert "binary file" in page.box.message.text()
    assert [d.id for d in page.documents] == before and page.box.table.rowCount() == len(before)
    empty = tmp_path / "empty"
    empty.mkdir()
    page.open_paths([str(empty)])
    qtbot.waitUntil(lambda: not page.index_slot.busy, timeout=30_000)
    assert "holds no .txt, .md or .pdf file" in page.box.message.text()
    assert [d.id for d in page.documents] == before

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "owls.md").write_text("# Owls\n\nThe barn owl of Kestrany nests in the old mill.\n", encoding="utf-8")
    (notes / "bats.txt").write_text("Pipistrelle bats roost under the bridge at Hallowick.\n", encoding="utf-8")
    page.open_paths([str(notes)])
    qtbot.waitUntil(lambda: [d.id for d in page.documents] == ["bats", "owls"], timeout=INDEX_TIMEOUT)
    assert page.box.table.item(1, 0).text() == "Owls" and page.xray.question_box.count() == 0
    assert page.box.message.text() == ""


def test_the_approximate_index_says_its_recall_against_exact(qtbot, app_context):
    panel, page = open_panel(qtbot, app_context)
    qtbot.mouseClick(page.box.approximate_check, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "recall@10" in page.box.index_label.text(), timeout=60_000)
    assert page.index.approximate
    recall = page.index.recall_against_exact(10)
    assert f"recall@10 against exact search {recall:.2f}" in page.box.index_label.text()
    qtbot.mouseClick(page.box.approximate_check, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "every vector compared" in page.box.index_label.text(), timeout=60_000)
    assert not page.index.approximate


def test_stop_while_embedding_a_big_file_keeps_the_open_base(qtbot, app_context, tmp_path):
    panel, page = open_panel(qtbot, app_context)
    before = [d.id for d in page.documents]
    big = tmp_path / "big.txt"
    big.write_text("".join(f"Line {i}: the harbour master logs boat number {i} at the quay before noon.\n"
                           for i in range(6000)), encoding="utf-8")
    page.open_paths([str(big)])
    strip = page.box.strip
    qtbot.waitUntil(lambda: "Embedding chunks" in strip.phase_label.text(), timeout=60_000)
    assert strip.isVisible() and " of " in strip.count_label.text()  # step x of y, elapsed, time left
    qtbot.mouseClick(strip.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.index_slot.busy, timeout=60_000)
    assert page.box.index_label.text() == "Stopped: the index was not changed."
    assert [d.id for d in page.documents] == before and page.index is not None and not strip.isVisible()


def test_a_failure_mode_preset_sets_chunking_question_and_k_then_searches(qtbot, app_context, tmp_path):
    from playground.core.retrieval import PRESETS, ChunkSettings, Preset

    panel, page = open_panel(qtbot, app_context)
    # The core's presets fill the menu, each with its sentence.
    assert [a.text() for a in page.box.presets_menu.actions()] == [p.name for p in PRESETS]
    assert [a.toolTip() for a in page.box.presets_menu.actions()] == [p.sentence for p in PRESETS]
    # A preset in its own words keeps the bundled question's gold answer and passage.
    reworded = next(p for p in PRESETS if p.question and p.question_id and p.chunk_size is None)
    action = next(a for a in page.box.presets_menu.actions() if a.text() == reworded.name)
    with qtbot.waitSignal(page.sig_asked, timeout=60_000) as asked:
        action.trigger()
    gold = page.kb.question(reworded.question_id)
    assert page.xray.question_text() == reworded.question and asked.args[0]["question_id"] == gold.id
    assert gold.passage_id in page.xray.where_label.text() and reworded.sentence in page.box.preset_label.text()
    assert asked.args[0]["method"] == reworded.method and asked.args[0]["k"] == reworded.k
    # A made-up preset with its own chunking and question drives the whole path on two small files (quick to
    # embed; the real presets are checked against the bundled model in the core's tests).
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "mill.md").write_text("# The mill\n\nThe old mill by the burn was built in 1802 by Ewan Fraser, "
                                   "who ground oats there for forty years.\n", encoding="utf-8")
    (notes / "quay.txt").write_text("The quay was lengthened in 1911 so the steamer could berth at low tide.\n",
                                    encoding="utf-8")
    page.open_paths([str(notes)])
    qtbot.waitUntil(lambda: [d.id for d in page.documents] == ["mill", "quay"], timeout=INDEX_TIMEOUT)
    action.trigger()  # a bundled question's preset on the learner's files: said, nothing changed
    assert "set up on the bundled knowledge base" in page.box.message.text() and page.search is None
    chosen = Preset("split", "A chunk too small", "The fact is cut in two: neither half matches the question.",
                    question="Who built the mill?", chunk_size=8, overlap=0, method="dense", k=3)
    page.box.set_presets([*PRESETS, chosen], page.apply_preset)
    page.box.presets_button.setEnabled(True)
    action = next(a for a in page.box.presets_menu.actions() if a.text() == chosen.name)
    with qtbot.waitSignal(page.sig_asked, timeout=INDEX_TIMEOUT) as asked:
        action.trigger()
    assert page.index.settings == chosen.chunk_settings() and page.box.size_spin.value() == 8
    assert chosen.sentence in page.box.preset_label.text() and page.views.currentWidget() is page.xray
    assert page.xray.k == 3 and asked.args[0]["k"] == 3 and asked.args[0]["method"] == "dense"
    assert page.xray.question_text() == "Who built the mill?" == asked.args[0]["question"]
    assert page.xray.hits_table.rowCount() == 3
    # The next preset starts from the default chunking, not from the last preset's 8 tokens.
    later = Preset("later", "Keyword match", "BM25 finds the rare word.", question="When was the quay lengthened?",
                   method="bm25", k=1)
    page.box.set_presets([*PRESETS, chosen, later], page.apply_preset)
    page.box.presets_button.setEnabled(True)
    action = next(a for a in page.box.presets_menu.actions() if a.text() == later.name)
    with qtbot.waitSignal(page.sig_asked, timeout=INDEX_TIMEOUT):
        action.trigger()
    assert page.index.settings == ChunkSettings() and page.box.size_spin.value() == ChunkSettings().size


@pytest.mark.bundled
def test_the_bundled_model_answers_with_retrieval(qtbot, app_context, bundled_model):
    """The real bundled model, a few tokens: the answer with retrieval streams and is scored against the gold."""
    app_context.session.set(bundled_model)
    panel, page = open_panel(qtbot, app_context)
    question = page.kb.questions[0]
    page.xray.k_slider.setValue(1)
    search_for(qtbot, page, question.id)
    page.max_tokens.setValue(4)
    with qtbot.waitSignal(page.sig_compared, timeout=300_000) as compared:
        qtbot.mouseClick(page.answers.answer_button, Qt.MouseButton.LeftButton)
    cols = page.answers.columns
    assert cols["with"].answer.strip() and cols["without"].answer.strip()
    assert "SmolLM2" in cols["with"].header.plain_text()
    assert compared.args[0]["with"] is not None and "ROUGE-L" in cols["with"].scores.text()


def test_a_bundled_question_typed_out_is_known_by_its_gold_passage(qtbot, app_context):
    """A newcomer types a bundled question instead of picking it: its gold passage is still shown."""
    panel, page = open_panel(qtbot, app_context)
    page.views.setCurrentWidget(page.xray)
    question = page.kb.questions[0]
    qtbot.keyClicks(page.xray.question_box.lineEdit(), "  " + question.question.upper() + " ")
    with qtbot.waitSignal(page.sig_asked, timeout=60_000):
        qtbot.mouseClick(page.xray.search_button, Qt.MouseButton.LeftButton)
    assert page.xray.chosen_question() is question
    assert question.passage_id in page.xray.where_label.text()

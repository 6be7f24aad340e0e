import csv
import json

import pytest
from PySide6.QtCore import Qt

from playground.core.evaluation.metrics import METRIC_KEYS
from playground.qt.evaluate.panel import EvaluatePanel
from tests.qt.shown import shown


def write_dialogues(path, n):
    rows = [{"id": f"d{i:02d}", "dialogue": f"#Person1#: Shall we meet at {i} tomorrow?\n#Person2#: Yes, at the cafe.",
             "summary": f"They will meet at {i} tomorrow at the cafe."} for i in range(n)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def make_panel(qtbot, context):
    return shown(qtbot, EvaluatePanel(context), 1400, 900)


def test_run_with_stop_keeps_and_scores_partial_results(qtbot, context_with_tiny_llama, tmp_path):
    panel = make_panel(qtbot, context_with_tiny_llama)
    assert panel.open_data_file(str(write_dialogues(tmp_path / "d.jsonl", 300)))
    assert (panel.input_column.currentText(), panel.reference_column.currentText()) == ("dialogue", "summary")
    panel.count_spin.setValue(300)  # far more than can finish before Stop
    panel.max_tokens.setValue(40)
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    assert panel.busy and panel.stop_button.isEnabled() and not panel.run_button.isEnabled()
    qtbot.waitUntil(lambda: len(panel.results_view.results) >= 2, timeout=60000)
    # One progress strip: the phase by name, examples x of 300, elapsed and time left, Stop.
    qtbot.waitUntil(lambda: "left" in panel.strip.count_label.text(), timeout=30000)
    strip = panel.strip.text()
    assert strip.startswith("Summarizing the examples") and " of 300 · " in strip and "elapsed" in strip
    assert panel.strip.isVisible() and panel.strip.stop_button.isEnabled()
    with qtbot.waitSignal(panel.sig_evaluation_finished, timeout=30000) as blocker:
        qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    reports = blocker.args[0]
    done = len(panel.results_view.results)
    assert panel.task.outcome == "cancelled" and panel.stopped
    assert 2 <= done < 300
    assert reports["zero-shot"].n == done
    assert panel.results_view.examples.rowCount() == done
    assert f"{done} of 300 examples" in panel.rate_label.text() and "(stopped)" in panel.rate_label.text()
    assert not panel.strip.isVisible()
    # The table shows the final scores with their intervals, BLEU included, all on one 0-100 scale.
    for key in METRIC_KEYS:
        text = panel.results_view.aggregate_text("zero-shot", key)
        assert text.startswith(f"{reports['zero-shot'].value(key):.1f}\n[") and text.endswith("]")
    assert panel.run_button.isEnabled() and not panel.stop_button.isEnabled()
    # Exports: CSV rows and a self-contained HTML page, marked as partial.
    assert panel.csv_button.isEnabled()
    panel.export_csv(str(tmp_path / "out.csv"))
    rows = list(csv.reader((tmp_path / "out.csv").open(encoding="utf-8", newline="")))
    assert len(rows) == done + 1 and rows[1][0] == "d00"
    panel.export_html(str(tmp_path / "out.html"))
    page = (tmp_path / "out.html").read_text(encoding="utf-8")
    assert "stopped early" in page and f"{done} examples" in page


def test_two_systems_and_highlighted_matches(qtbot, context_with_tiny_llama, tmp_path):
    data = write_dialogues(tmp_path / "d.jsonl", 3)
    preds = tmp_path / "preds.csv"
    preds.write_text("prediction\nmeet at 0 at the cafe\nthey meet\nnothing in common\n", encoding="utf-8")
    panel = make_panel(qtbot, context_with_tiny_llama)
    panel.open_data_file(str(data))
    panel.count_spin.setValue(3)
    panel.max_tokens.setValue(5)
    row = panel.system_rows[3]
    row.enabled_check.setChecked(True)
    row.set_path(str(preds))
    assert row.column_combo.currentText() == "prediction"
    with qtbot.waitSignal(panel.sig_evaluation_finished, timeout=60000) as blocker:
        panel.run_button.click()
    reports = blocker.args[0]
    label = "preds.csv:prediction"
    assert set(reports) == {"zero-shot", label}
    assert panel.task.outcome == "done" and len(panel.results_view.results) == 3
    # The chart's bars show the table's numbers.
    view = panel.results_view
    chart_heights = [bar.get_height() for bar in view.chart.bars[1]]
    assert chart_heights == pytest.approx([reports[label].value(k) for k in METRIC_KEYS])
    # Select the first example and the file's system: matched words are highlighted in both texts.
    view.examples.selectRow(0)
    view.system_combo.setCurrentText(label)
    ref_html = view.reference_view.toHtml()
    out_html = view.output_view.toHtml()
    assert "background-color:#ffe08a" in ref_html and "background-color:#ffe08a" in out_html
    assert view.match_summary.text().startswith("6 matched words: recall 6/9 of the reference, precision 6/6")
    view.kind_group.button(1).click()  # bigrams
    assert "background-color:#ffc27a" in view.reference_view.toHtml()
    assert "matched word pairs" in view.match_summary.text()
    view.kind_group.button(2).click()  # LCS
    ex = view.last_explanation
    assert view.match_summary.text().startswith(f"{len(ex.lcs)} matched words in the longest common subsequence")


def test_bad_inputs_give_plain_messages(qtbot, context_with_tiny_llama, tmp_path):
    panel = make_panel(qtbot, context_with_tiny_llama)
    panel.system_rows[0].enabled_check.setChecked(False)
    panel.run_button.click()
    assert "No system is ticked" in panel.message_label.text() and panel.task is None
    panel.system_rows[0].enabled_check.setChecked(True)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("dialogue,summary\ncafé,thé\n".encode("latin-1"))
    assert not panel.open_data_file(str(latin))
    assert "not UTF-8" in panel.message_label.text()
    empty = tmp_path / "empty.csv"
    empty.write_text("dialogue,summary\n", encoding="utf-8")
    assert not panel.open_data_file(str(empty))
    assert "has no rows" in panel.message_label.text()
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("question,answer\nwhy,because\n", encoding="utf-8")
    assert panel.open_data_file(str(wrong))
    panel.reference_column.setCurrentText("question")
    panel.input_column.setCurrentText("question")
    panel.run_button.click()
    assert "same column" in panel.message_label.text() and panel.task is None
    panel.system_rows[3].enabled_check.setChecked(True)  # a predictions file with no file chosen
    panel.input_column.setCurrentText("answer")
    panel.run_button.click()
    assert "choose the predictions file" in panel.message_label.text() and panel.task is None


def test_adapter_row_without_folder(qtbot, context_with_tiny_llama, tmp_path):
    panel = make_panel(qtbot, context_with_tiny_llama)
    panel.open_data_file(str(write_dialogues(tmp_path / "d.jsonl", 2)))
    row = panel.system_rows[2]
    row.enabled_check.setChecked(True)
    row.set_path(str(tmp_path))  # a folder with no adapter_config.json
    with qtbot.waitSignal(panel.sig_evaluation_finished, timeout=30000) as blocker:
        panel.run_button.click()
    assert blocker.args[0] == {}
    assert "not an adapter folder" in panel.message_label.text()
    assert panel.run_button.isEnabled()


def _lora_run(tiny_llama, run_dir):
    """A Fine-tune-like run folder whose adapter really changes the tiny Llama's outputs."""
    import copy

    import torch
    from peft import LoraConfig, get_peft_model

    from playground.core.finetune.config import FinetuneConfig
    from playground.core.models.loading import LoadedModel

    torch.manual_seed(1)
    model = get_peft_model(copy.deepcopy(tiny_llama.model),
                           LoraConfig(r=4, lora_alpha=64, target_modules=["q_proj", "v_proj", "o_proj"],
                                      init_lora_weights=False))
    model.eval()
    (run_dir / "adapter").mkdir(parents=True)
    model.save_pretrained(str(run_dir / "adapter"))
    cfg = FinetuneConfig()
    cfg.data.template, cfg.data.use_chat_template = "tldr", False
    (run_dir / "job.toml").write_text(cfg.to_toml(), encoding="utf-8")
    return LoadedModel(model=model, tokenizer=tiny_llama.tokenizer, info=tiny_llama.info, source=tiny_llama.source,
                       extras={"adapter_dir": str(run_dir / "adapter"), "run_dir": str(run_dir)})


def test_each_system_runs_the_model_it_names_with_the_adapter_switch_on(qtbot, context_with_tiny_llama, tiny_llama,
                                                                         tmp_path):
    from playground.core.evaluation.run import ADAPTER, ZERO_SHOT, SystemSpec, load_adapter_copy, run_evaluation
    from playground.core.decoding.generation import GenerationSettings

    ctx = context_with_tiny_llama
    data = write_dialogues(tmp_path / "d.jsonl", 2)
    attached = _lora_run(tiny_llama, tmp_path / "lora-run-7")
    ctx.set_adapter(attached, on=True)  # as "Use in playground" does: every tab now runs the adapter
    assert ctx.session.current is attached
    panel = make_panel(qtbot, ctx)
    panel.open_data_file(str(data))
    panel.count_spin.setValue(2)
    panel.max_tokens.setValue(8)
    row = panel.system_rows[2]
    # The attached adapter is offered, and its run's prompt settings are chosen.
    assert row.is_enabled() and row.path_edit.text() == str(tmp_path / "lora-run-7" / "adapter")
    assert panel.template_combo.currentData() == "tldr" and not panel.chat_check.isChecked()
    with qtbot.waitSignal(panel.sig_evaluation_finished, timeout=60000) as blocker:
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    assert set(blocker.args[0]) == {"zero-shot", "adapter lora-run-7"}
    # Oracle: the base model alone, and a fresh peft load of the folder on a copy of the base.
    settings = GenerationSettings.make(max_new_tokens=8, do_sample=False, top_n=0)
    from playground.core.evaluation.datasets import load_table

    examples = load_table(str(data)).head(2)
    spec = SystemSpec(ZERO_SHOT, template="tldr")
    base_out = [r.outputs["zero-shot"] for r in run_evaluation(tiny_llama, examples, [spec], settings=settings)]
    fresh = load_adapter_copy(tiny_llama, tmp_path / "lora-run-7" / "adapter")
    ada_out = [r.outputs["zero-shot"] for r in run_evaluation(fresh, examples, [spec], settings=settings)]
    assert base_out != ada_out  # the adapter really changes what the model writes
    got = panel.results_view.results
    assert [r.outputs["zero-shot"] for r in got] == base_out
    assert [r.outputs["adapter lora-run-7"] for r in got] == ada_out
    # What a person reads: which model each row used.
    shown = panel.results_view.models_label.text()
    assert f"<b>zero-shot</b>: {tiny_llama.info.name} (base, no adapter)" in shown
    assert f"<b>adapter lora-run-7</b>: {tiny_llama.info.name} + adapter lora-run-7" in shown
    # A folder is never stacked on an adapted model (peft would load nothing).
    from playground.core.base.errors import PlaygroundError

    with pytest.raises(PlaygroundError, match="already has an adapter"):
        load_adapter_copy(attached, tmp_path / "lora-run-7" / "adapter")
    # And with the adapter loaded from disk rather than reused from memory, the same outputs.
    other = [r.outputs["adapter lora-run-7"] for r in run_evaluation(
        tiny_llama, examples, [SystemSpec(ADAPTER, adapter_dir=str(tmp_path / "lora-run-7" / "adapter"),
                                          template="tldr")], settings=settings)]
    assert other == ada_out

    # A restart: the settings file is read again, nothing is attached in the model bar, and the
    # tab opens with the last run's settings and the adapter's folder in its row.
    from playground.core.base.settings import Settings

    ctx.set_adapter(None)
    ctx.settings.save()  # as the window does when it closes
    ctx.settings = Settings(ctx.settings.path)
    assert ctx.settings.load_problem == ""
    again = make_panel(qtbot, ctx)
    row = again.system_rows[2]
    assert row.is_enabled() and row.kind == ADAPTER and row.path_edit.text() == str(tmp_path / "lora-run-7" / "adapter")
    assert again.system_rows[0].is_enabled() and not again.system_rows[1].is_enabled()
    assert (again.count_spin.value(), again.max_tokens.value()) == (2, 8)
    assert again.template_combo.currentData() == "tldr" and not again.chat_check.isChecked()


def test_similarity_column_and_encoder_named(qtbot, context_with_tiny_llama, tmp_path):
    from playground.core.models.encoder import ENCODER_NAME, sentence_similarity
    from playground.core.evaluation.metrics import SIMILARITY_KEY

    data = write_dialogues(tmp_path / "d.jsonl", 2)
    panel = make_panel(qtbot, context_with_tiny_llama)
    panel.open_data_file(str(data))
    panel.count_spin.setValue(2)
    panel.max_tokens.setValue(4)
    with qtbot.waitSignal(panel.sig_evaluation_finished, timeout=60000) as blocker:
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    reports = blocker.args[0]
    view = panel.results_view
    heads = [view.examples.horizontalHeaderItem(c).text() for c in range(view.examples.columnCount())]
    assert heads[3:] == ["zero-shot", "R-L", "Sim"]
    for row, res in enumerate(view.results):
        direct = sentence_similarity(res.outputs["zero-shot"], res.example.reference)
        assert view.examples.item(row, 5).text() == f"{direct:.2f}"  # a cosine, -1 to 1, as everywhere
    text = view.aggregate_text("zero-shot", SIMILARITY_KEY)
    assert text.startswith(f"{reports['zero-shot'].similarity:.2f}\n[") and text.endswith("]")
    assert ENCODER_NAME in view.ci_note.text()


def test_session_handout_has_the_scores_table_and_the_models(qtbot, context_with_tiny_llama, tmp_path):
    from playground.qt.session_export import session_html

    panel = make_panel(qtbot, context_with_tiny_llama)
    assert "Evaluate" not in session_html([panel])  # nothing run yet
    panel.open_data_file(str(write_dialogues(tmp_path / "d.jsonl", 2)))
    panel.count_spin.setValue(2)
    panel.max_tokens.setValue(4)
    with qtbot.waitSignal(panel.sig_evaluation_finished, timeout=60000):
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    page = session_html([panel])
    import html

    name = context_with_tiny_llama.session.base.info.name
    assert html.escape(f"zero-shot: {name} (base, no adapter)") in page
    assert "ROUGE-1" in page and "ROUGE-L" in page and "2 examples" in page
    assert "data:image/png" in page  # and its chart


def test_an_adapter_recorded_for_another_base_is_flagged_beside_the_scores(qtbot, context_with_tiny_llama, tiny_llama,
                                                                          tmp_path):
    """Issue 20, item 2: a fitting adapter of another base model is scored, but never shown as clean."""
    import copy

    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(1)
    folder = tmp_path / "borrowed"
    get_peft_model(copy.deepcopy(tiny_llama.model),
                   LoraConfig(r=2, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
                   ).save_pretrained(str(folder))
    cfg_path = folder / "adapter_config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg["base_model_name_or_path"] = "someone/else-135M"
    cfg_path.write_text(json.dumps(cfg), encoding="utf-8")

    panel = make_panel(qtbot, context_with_tiny_llama)
    panel.open_data_file(str(write_dialogues(tmp_path / "d.jsonl", 1)))
    panel.count_spin.setValue(1)
    panel.max_tokens.setValue(2)
    row = panel.system_rows[2]
    row.set_path(str(folder))
    row.enabled_check.setChecked(True)
    assert "trained on" not in panel.results_view.models_label.text()
    with qtbot.waitSignal(panel.sig_evaluation_finished, timeout=60000):
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    shown = panel.results_view.models_label.text()
    assert "⚠" in shown and "someone/else-135M" in shown


def test_the_form_edits_its_draft_and_comes_back_after_a_restart(qtbot, app_context, tmp_path):
    """Issue 27: the form is bound to EvaluateSettings, saved as the ``evaluate`` section on every change."""
    from playground.core.base.settings import Settings
    from playground.core.evaluation.evaluate_settings import GREEDY_NOTE, EvaluateSettings
    from dataclasses import replace

    from playground.core.evaluation.run import K_SHOT

    panel = make_panel(qtbot, app_context)
    assert panel.draft.value == EvaluateSettings()
    panel.max_tokens.setValue(33)
    panel.count_spin.setValue(7)
    panel.tokenizer_combo.setCurrentIndex(panel.tokenizer_combo.findData("unicode"))
    panel.stemmer_check.click()
    # One default in every tab (issue 28): the Prompt tab's template, wrapped in the chat template.
    from playground.core.prompting.prompts import DEFAULT_TEMPLATE, USE_CHAT_TEMPLATE

    assert panel.template_combo.currentData() == DEFAULT_TEMPLATE
    assert panel.chat_check.isEnabled() and panel.chat_check.isChecked() == USE_CHAT_TEMPLATE
    panel.template_combo.setCurrentIndex(panel.template_combo.findData(""))
    assert not panel.chat_check.isEnabled()  # the summarization prompt takes the chat form where there is one
    panel.template_combo.setCurrentIndex(panel.template_combo.findData("flan"))
    assert panel.chat_check.isEnabled()
    panel.chat_check.setChecked(False)
    panel.chat_check.setChecked(True)
    panel.system_rows[1].enabled_check.setChecked(True)
    panel.system_rows[1].shots_spin.setValue(3)
    value = panel.draft.value
    assert (value.max_new_tokens, value.count, value.tokenizer, value.use_stemmer, value.template,
            value.use_chat_template) == (33, 7, "unicode", False, "flan", True)
    assert value.systems[1] == {"kind": K_SHOT, "enabled": True, "shots": 3, "path": ""}
    assert app_context.settings.section(EvaluateSettings) == value  # stored on every change
    # Evaluate decodes greedily, and its max-new-tokens row says so.
    assert GREEDY_NOTE in panel.max_tokens.toolTip()
    assert value.generation().sampling.greedy and value.generation().max_new_tokens == 33
    # A file of one's own is used, but not remembered.
    assert panel.open_data_file(str(write_dialogues(tmp_path / "d.jsonl", 20)))
    assert panel.draft.value.data == "user"

    app_context.settings.save()  # as the window does when it closes
    app_context.settings = Settings(app_context.settings.path)
    assert app_context.settings.load_problem == ""
    again = make_panel(qtbot, app_context)
    assert (again.max_tokens.value(), again.count_spin.value(), again.tokenizer_combo.currentData()) == (33, 7, "unicode")
    assert not again.stemmer_check.isChecked() and again.chat_check.isChecked() and again.chat_check.isEnabled()
    assert again.template_combo.currentData() == "flan"
    assert again.system_rows[1].is_enabled() and again.system_rows[1].shots_spin.value() == 3
    assert again.data_combo.currentData() == "test" and again.draft.value.data == "test"
    assert again.draft.value == replace(value, data="test")


def test_a_runs_own_template_is_offered_again_after_a_restart(qtbot, app_context):
    from playground.core.base.settings import Settings

    own = "Talk:\n{dialogue}\nGist: {summary}"
    panel = make_panel(qtbot, app_context)
    panel._show_template(own)  # as when a Fine-tune run's adapter is picked
    assert panel.draft.value.template == own
    app_context.settings.save()
    app_context.settings = Settings(app_context.settings.path)
    again = make_panel(qtbot, app_context)
    assert again.template_combo.currentData() == own and again.draft.value.template == own
    assert again.template_combo.currentText().startswith("The run's own template")


def test_rendered_scores_provenance_and_stale_marks(qtbot, app_context, tmp_path):
    """Issue 28: what a person reads (cells, header, exports) is on the one 0-100 scale, names where each
    system's outputs came from, and is marked out of date when the model changes."""
    from playground.core.base.units import format_score

    data = write_dialogues(tmp_path / "d.jsonl", 3)
    preds = tmp_path / "preds.csv"
    preds.write_text("prediction\nmeet at 0 at the cafe\nthey meet\nnothing in common\n", encoding="utf-8")
    panel = make_panel(qtbot, app_context)
    view = panel.results_view
    assert view.chart.empty.empty and not view.chart.ax.get_visible()  # a sentence, no empty axes
    assert view.header.plain_text().startswith("No evaluation yet")
    panel.open_data_file(str(data))
    panel.count_spin.setValue(3)
    panel.system_rows[0].enabled_check.setChecked(False)  # no model needed: a predictions file only
    row = panel.system_rows[3]
    row.enabled_check.setChecked(True)
    row.set_path(str(preds))
    with qtbot.waitSignal(panel.sig_evaluation_finished, timeout=60000) as blocker:
        panel.run_button.click()
    label = "preds.csv:prediction"
    report = blocker.args[0][label]
    assert not view.chart.empty.empty and view.chart.ax.get_visible()
    # Table cells: ROUGE fractions and BLEU on one 0-100 scale, one decimal; the cosine as a cosine.
    r1 = sum(r.scores[label]["rouge1"].fmeasure for r in view.results) / 3
    assert view.aggregate_text(label, "rouge1").split("\n")[0] == format_score(r1, "rouge1") == f"{100 * r1:.1f}"
    assert view.aggregate_text(label, "bleu").split("\n")[0] == f"{report.bleu:.1f}"
    assert view.aggregate.horizontalHeaderItem(1).text() == "R-1"
    rl = view.results[0].scores[label]["rougeL"].fmeasure
    assert view.examples.item(0, 4).text() == f"{100 * rl:.1f}"
    # Provenance: the header and the line under the table name the file, not a model.
    assert "predictions file preds.csv" in view.header.plain_text() and "3 examples" in view.header.plain_text()
    assert "no model ran" in view.models_label.text()
    # Exports read the same numbers and carry the provenance.
    panel.export_csv(str(tmp_path / "out.csv"))
    rows = list(csv.reader((tmp_path / "out.csv").open(encoding="utf-8", newline="")))
    col = rows[0].index(f"{label} ROUGE-1 F1 (0-100)")
    assert rows[1][col] == format_score(view.results[0].scores[label]["rouge1"].fmeasure, "rouge1")
    panel.export_html(str(tmp_path / "out.html"))
    page = (tmp_path / "out.html").read_text(encoding="utf-8")
    assert "<h2>Provenance</h2>" in page and "id='provenance'" in page
    blob = page.split("id='provenance'>", 1)[1].split("</script>", 1)[0]
    assert json.loads(blob)[label]["model"] == "predictions file preds.csv"
    assert f"<td class='num'>{100 * r1:.1f}<br>" in page
    # The notebook section prints its scores on the same scale and names where they came from.
    state = panel.notebook_state()
    assert state["provenance"]["model"] == "predictions file preds.csv"


def test_model_change_marks_the_scores_out_of_date(qtbot, context_with_tiny_llama, tiny_llama, tmp_path):
    panel = make_panel(qtbot, context_with_tiny_llama)
    panel.open_data_file(str(write_dialogues(tmp_path / "d.jsonl", 1)))
    panel.count_spin.setValue(1)
    panel.max_tokens.setValue(3)
    with qtbot.waitSignal(panel.sig_evaluation_finished, timeout=60000):
        panel.run_button.click()
    header = panel.results_view.header.plain_text()
    name = context_with_tiny_llama.session.base.info.name
    assert header.startswith(f"{name} (base, no adapter)") and "greedy, 3 new tokens at most" in header
    assert "out of date" not in header
    context_with_tiny_llama.sig_model_changed.emit(context_with_tiny_llama.session.current)  # the same model
    assert "out of date" not in panel.results_view.header.plain_text()
    import copy
    from dataclasses import replace

    other = replace(tiny_llama, model=copy.deepcopy(tiny_llama.model))
    context_with_tiny_llama.session.set(other)
    context_with_tiny_llama.sig_model_changed.emit(other)
    assert "out of date: the model changed since" in panel.results_view.header.plain_text()

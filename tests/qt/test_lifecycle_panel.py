import os

import pytest
from PySide6.QtCore import Qt

from playground.qt.lifecycle.panel import LifecyclePanel
from tests.qt.shown import shown


def make_panel(qtbot, context):
    return shown(qtbot, LifecyclePanel(context))


def only(page, names):
    for name, box in page.checks.items():
        if box.isChecked() != (name in names):
            qtbot_click(box)


def qtbot_click(widget):
    widget.click()


def phases_seen(bar) -> list[str]:
    """The phases the section's progress strip is given, in order, each once (issue 28: named phases)."""
    seen = []
    show = bar.on_progress

    def record(fraction, message=""):
        phase = getattr(message, "phase", None)
        if phase and (not seen or seen[-1] != phase):
            seen.append(phase)
        show(fraction, message)

    bar.on_progress = record
    return seen


def test_precision_sweep_fills_table_and_use_this_precision(qtbot, context_with_tiny_llama):
    from playground.core.base.units import format_bytes

    panel = make_panel(qtbot, context_with_tiny_llama)
    page = panel.precision
    assert page.empty.empty and page.header.plain_text().startswith("No sweep yet")
    only(page, {"fp32", "int8"})
    assert page.chosen() == ["fp32", "int8"]
    phases = phases_seen(page.bar)
    qtbot.mouseClick(page.bar.run_button, Qt.MouseButton.LeftButton)
    assert page.slot.busy and page.bar.stop_button.isEnabled() and page.bar.strip.isVisible()
    qtbot.waitUntil(lambda: not page.slot.busy, timeout=240000)
    assert phases == ["Measuring the FP32 reference", "Converting and measuring"]
    assert not page.bar.strip.isVisible()
    assert page.table.rowCount() == 2
    assert [page.table.item(r, 0).text() for r in range(2)] == ["FP32", "INT8"]
    assert page.table.item(0, 3).text() == "0.0000" and page.table.item(0, 4).text() == "100.0%"
    # Sizes in the one unit system (binary: MiB), as the model bar writes them.
    assert page.table.horizontalHeaderItem(1).text() == "weights"
    for r, row in enumerate(page.rows):
        assert page.table.item(r, 1).text() == format_bytes(row.weight_bytes)
        assert page.table.item(r, 1).text().endswith(("KiB", "MiB", "GiB"))
    from playground.core.lifecycle.precision import convert, weight_bytes

    # The row holds what an INT8 copy really holds: on this tiny model more than FP32 (its FP32 embedding
    # and the LM head's INT8 copy outweigh its few small linear layers).
    model = context_with_tiny_llama.session.base.model
    assert page.rows[1].weight_bytes == weight_bytes(convert(model, "int8"))
    # The result says what it measured: the base model, no adapter.
    name = context_with_tiny_llama.session.base.info.name
    assert page.header.plain_text().startswith(f"{name} (base, no adapter) · float32")
    assert "INT8" in page.texts.toPlainText()
    assert len(page.points.get_offsets()) == 2  # the plot was updated in place
    assert "Sweep finished" in page.bar.message.text()
    # every tab gets the INT8 model; the model bar's dtype field says so
    page.use_combo.setCurrentIndex(page.use_combo.findData("int8"))
    with qtbot.waitSignal(context_with_tiny_llama.sig_model_changed, timeout=120000):
        qtbot.mouseClick(page.use_button, Qt.MouseButton.LeftButton)
    current = context_with_tiny_llama.session.current
    assert current.info.dtype.startswith("INT8") and "Every tab now uses" in page.bar.message.text()
    q_proj = current.model.model.layers[0].self_attn.q_proj
    assert type(q_proj).__name__ == "WeightOnlyLinear" and q_proj.bits == 8 and q_proj.kernel == "int8pack"


def test_precision_stop_keeps_finished_rows(qtbot, context_with_tiny_llama):
    panel = make_panel(qtbot, context_with_tiny_llama)
    page = panel.precision
    only(page, {"fp32", "bf16", "fp16", "int8", "int4", "int2"})
    qtbot.mouseClick(page.bar.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.table.rowCount() >= 1, timeout=240000)
    qtbot.mouseClick(page.bar.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.slot.busy, timeout=240000)
    rows = page.table.rowCount()
    assert 1 <= rows < 6 and f"Stopped: {rows} finished row(s) kept." == page.bar.message.text()
    assert "· stopped early ·" in page.header.plain_text()


def test_precision_needs_a_format(qtbot, context_with_tiny_llama):
    panel = make_panel(qtbot, context_with_tiny_llama)
    page = panel.precision
    only(page, set())
    qtbot.mouseClick(page.bar.run_button, Qt.MouseButton.LeftButton)
    assert "Check at least one format" in page.bar.message.text() and not page.slot.busy


def test_scaling_calculator_as_typed(qtbot, app_context):
    panel = make_panel(qtbot, app_context)
    page = panel.scaling
    assert "5.88e+23 FLOPs" in page.calc_out.text()  # Chinchilla's own row is the default
    page.params_edit.clear()
    qtbot.keyClicks(page.params_edit, "0")
    qtbot.keyClick(page.params_edit, Qt.Key.Key_Return)
    assert "must be a positive number" in page.calc_out.text()
    page.params_edit.clear()
    page.tokens_edit.clear()
    qtbot.keyClicks(page.flops_edit, "1e24")
    qtbot.mouseClick(page.calc_button, Qt.MouseButton.LeftButton)
    assert "97.7 tokens per parameter" in page.calc_out.text() and "18.1 tokens per parameter" in page.calc_out.text()
    x, y = page.optimum_points["Chinchilla"].get_data()
    assert x[0] * y[0] * 6 == pytest.approx(1e24)


def test_scaling_experiment_runs_live_and_refuses_tiny_budget(qtbot, app_context):
    from playground.core.lifecycle import mini_scaling as M

    panel = make_panel(qtbot, app_context)
    page = panel.scaling
    page.budget_edit.setText("1e6")
    qtbot.mouseClick(page.bar.run_button, Qt.MouseButton.LeftButton)
    assert "too small" in page.bar.message.text() and not page.slot.busy
    page.sizes = M.SIZES[:2]
    page.budget_edit.setText("4e9")
    assert page.run_empty.empty and not page.run_ax.get_visible()  # a sentence, not empty log axes
    phases = phases_seen(page.bar)
    qtbot.mouseClick(page.bar.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.slot.busy, timeout=240000)
    assert phases[-2:] == ["Training the 30k model (size 1 of 2)", "Training the 95k model (size 2 of 2)"]
    assert not page.run_empty.empty
    assert page.bar.message.text() == "Experiment finished."
    assert sorted(page.size_lines) == ["30k", "95k"]
    assert all(len(line.get_xdata()) >= 2 for line in page.size_lines.values())
    assert len(page.envelope_line.get_xdata()) >= 2 and "winner" in page.run_out.text()


def test_forgetting_probes_base_noise_and_finetuned(qtbot, context_with_tiny_llama, monkeypatch):
    from playground.core.lifecycle import forgetting as F
    from playground.core.lifecycle.precision import at_precision

    small = {"questions": [{"q": "What is the capital of France?", "a": ["paris"]}],
             "facts": [{"q": "The capital of France is", "right": " Paris", "wrong": " Madrid"},
                       {"q": "Bees make", "right": " honey", "wrong": " milk"}]}
    monkeypatch.setattr(F, "load_probes", lambda path=None: small)
    ctx = context_with_tiny_llama
    panel = make_panel(qtbot, ctx)
    page = panel.forgetting
    assert page.empty.empty
    phases = phases_seen(page.bar)
    qtbot.mouseClick(page.bar.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.slot.busy, timeout=120000)
    # One strip, its phases named (it used to restart its bar unnamed for each model).
    assert phases == ["Probing the base model", "Probing the base rounded to BF16 (noise floor)"]
    assert page.table.rowCount() == 2 and "noise floor" in page.table.item(1, 0).text()
    assert page.table.item(0, 2).text().endswith("/2") and "Fine-tune a model" in page.bar.message.text()
    name = ctx.session.base.info.name
    assert page.header.plain_text().startswith(f"{name} (base, no adapter)")
    assert "compared with no fine-tuned model" in page.header.plain_text()
    # a stand-in for a fine-tuned model: the base at BF16, attached as the adapter
    ctx.set_adapter(at_precision(ctx.session.base, "bf16"))
    phases.clear()
    qtbot.mouseClick(page.bar.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.slot.busy, timeout=120000)
    assert page.table.rowCount() == 3 and "noise floor" in page.verdict.text()
    assert phases == [f"Probing the fine-tuned model ({ctx.session.adapter.info.name})"]  # the base is cached
    assert "compared with the attached adapter" in page.header.plain_text()


def test_forgetting_of_a_picked_run_plots_learning_against_forgetting(qtbot, context_with_tiny_llama,
                                                                       tiny_llama_dir, tmp_path, monkeypatch):
    import json

    from playground.core.lifecycle import forgetting as F
    from playground.core.lifecycle import forgetting_run as FR
    from tests.core.test_forgetting_run import SMALL, _tiny_run

    monkeypatch.setattr(F, "load_probes", lambda path=None: SMALL)
    monkeypatch.setattr(FR, "load_probes", lambda path=None: SMALL)
    monkeypatch.setattr(FR, "runs_root", lambda: tmp_path)
    run = _tiny_run(tiny_llama_dir, tmp_path / "lora-run", "lora")
    foreign = tmp_path / "other-base"  # a finished run of another base model
    (foreign / "adapter").mkdir(parents=True)
    (foreign / "adapter" / "adapter_config.json").write_text("{}")
    report = json.loads((run / "report.json").read_text())
    report["config"]["model"]["source"] = "/somewhere/else"
    (foreign / "report.json").write_text(json.dumps(report))
    panel = make_panel(qtbot, context_with_tiny_llama)
    page = panel.forgetting
    combo = page.run_combo
    assert {combo.itemData(i) for i in range(combo.count())} == {str(run), str(foreign)}
    combo.setCurrentIndex(combo.findData(str(foreign)))
    qtbot.mouseClick(page.bar.run_button, Qt.MouseButton.LeftButton)
    assert "was trained from /somewhere/else" in page.bar.message.text() and not page.slot.busy
    combo.setCurrentIndex(combo.findData(str(run)))
    qtbot.mouseClick(page.bar.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.slot.busy, timeout=120000)
    assert page.table.rowCount() == 3 and page.table.item(2, 0).text() == "run lora-run (lora)"
    assert "Forgetting check of run lora-run (lora" in page.verdict.text()
    assert "noise floor" in page.verdict.text() and page.bar.message.text() == "Probes finished."
    assert len(page.results) == 1 and len(page.baselines) == 1
    offsets = [c.get_offsets() for c in page.ax.collections if len(c.get_offsets())]
    assert len(offsets) == 1 and offsets[0][0][0] == pytest.approx(page.results[0].learning)
    assert (run / "forgetting.json").is_file()
    # a fresh tab shows the saved check of that run at once, the same numbers without probing again
    again = make_panel(qtbot, context_with_tiny_llama).forgetting
    again.run_combo.setCurrentIndex(again.run_combo.findData(str(run)))
    again.show_saved()
    assert not again.slot.busy and "Checked before" in again.bar.message.text()
    assert [again.table.item(r, 2).text() for r in range(3)] == [page.table.item(r, 2).text() for r in range(3)]
    assert again.table.item(1, 4).text() == page.table.item(1, 4).text()
    shown = [c.get_offsets() for c in again.ax.collections if len(c.get_offsets())]
    assert shown[0][0][0] == pytest.approx(page.results[0].learning)


def test_scaling_stop_mid_sweep_keeps_the_finished_sizes(qtbot, app_context):
    from playground.core.lifecycle import mini_scaling as M

    panel = make_panel(qtbot, app_context)
    page = panel.scaling
    page.sizes = M.SIZES[:3]
    page.budget_edit.setText("1.2e10")  # the 280k size needs 8.6e9 for its 10 steps
    qtbot.mouseClick(page.bar.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(page.results) >= 1, timeout=240000)
    qtbot.mouseClick(page.bar.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.slot.busy, timeout=240000)
    kept = len(page.results)
    assert 1 <= kept < 3 and page.bar.message.text() == f"Stopped: {kept} finished size(s) kept."
    assert "30k" in page.run_out.text() and len(page.size_lines["30k"].get_xdata()) >= 2
    # A stopped run names no winner and says it stopped (it used to crown the one size that finished).
    assert "winner:" not in page.run_out.text() and f"stopped: {kept} of 3 sizes finished" in page.run_out.text()
    assert "tiny byte-level Llamas trained from scratch" in page.header.plain_text()
    assert "· stopped early ·" in page.header.plain_text() and "no adapter" not in page.header.plain_text()


def test_each_page_edits_its_own_draft_and_precision_and_scaling_come_back(qtbot, app_context, tmp_path,
                                                                            monkeypatch):
    """Issue 27: every page's form is bound to its options in core; precision and scaling are kept."""
    from playground.core.base.settings import Settings
    from playground.core.lifecycle import forgetting_run as FR
    from playground.core.lifecycle.options import PrecisionOptions, ScalingOptions

    runs = []
    for name in ("older-run", "newer-run"):  # finished runs, as the fine-tuning list finds them
        (tmp_path / "runs" / name / "adapter").mkdir(parents=True)
        (tmp_path / "runs" / name / "adapter" / "adapter_config.json").write_text("{}")
        (tmp_path / "runs" / name / "report.json").write_text("{}")
        runs.append(str(tmp_path / "runs" / name))
    os.utime(runs[0], (1, 1))
    monkeypatch.setattr(FR, "runs_root", lambda: tmp_path / "runs")
    panel = make_panel(qtbot, app_context)
    precision, forgetting, scaling = panel.precision, panel.forgetting, panel.scaling
    assert precision.draft.value == PrecisionOptions() and scaling.draft.value == ScalingOptions()
    assert precision.chosen() == ["fp32", "bf16", "fp16", "int8", "int4"]
    precision.checks["int2"].click()
    precision.checks["fp16"].click()
    assert precision.draft.value.formats == ["fp32", "bf16", "int8", "int4", "int2"]
    scaling.budget_edit.clear()
    qtbot.keyClicks(scaling.budget_edit, "4e9")
    scaling.params_edit.setText("7e9")
    scaling.tokens_edit.setText("abc")
    assert (scaling.draft.value.budget, scaling.draft.value.params) == (4e9, 7e9)
    qtbot.keyClick(scaling.tokens_edit, Qt.Key.Key_Return)
    assert "(got nan)" in scaling.calc_out.text()  # Calculate reads the draft, which holds what was typed
    scaling.tokens_edit.setText("1.4e12")
    qtbot.mouseClick(scaling.calc_button, Qt.MouseButton.LeftButton)
    assert "N = 7e+09 parameters" in scaling.calc_out.text()
    assert forgetting.draft.value.compare_with == runs[1]  # the newest run first
    forgetting.run_combo.setCurrentIndex(forgetting.run_combo.findData(runs[0]))
    assert forgetting.draft.value.compare_with == runs[0]
    forgetting.refresh_runs(select=str(tmp_path / "elsewhere"))  # as 'Other run folder…' does
    assert forgetting.draft.value.compare_with == str(tmp_path / "elsewhere")
    assert precision.draft.value.formats[-1] == "int2" and scaling.draft.value.budget == 4e9  # each its own

    app_context.settings.save()  # as the window does when it closes
    app_context.settings = Settings(app_context.settings.path)
    assert app_context.settings.load_problem == ""
    again = make_panel(qtbot, app_context)
    assert again.precision.chosen() == ["fp32", "bf16", "int8", "int4", "int2"]
    assert again.precision.checks["int2"].isChecked() and not again.precision.checks["fp16"].isChecked()
    assert (again.scaling.budget_edit.text(), again.scaling.params_edit.text()) == ("4e9", "7e9")
    assert again.scaling.draft.value == scaling.draft.value
    assert "N = 7e+09 parameters" in again.scaling.calc_out.text()
    assert again.forgetting.draft.value.compare_with == runs[1]  # not kept: the runs found again, newest first


def test_scaling_experiment_refuses_a_run_of_years_and_a_budget_that_is_not_a_number(qtbot, app_context):
    """Issue 29 item 13, in the tab: the estimate comes first, as in the CLI; no winner is named."""
    from playground.core.lifecycle import mini_scaling as M

    panel = make_panel(qtbot, app_context)
    page = panel.scaling
    page.sizes = M.SIZES[:2]
    page.budget_edit.setText("1e20")
    qtbot.mouseClick(page.bar.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.slot.busy, timeout=120000)
    text = page.bar.message.text()
    assert "beyond the limit" in text and "winner" not in page.run_out.text(), text
    assert page.results == []
    page.budget_edit.setText("lots")
    qtbot.mouseClick(page.bar.run_button, Qt.MouseButton.LeftButton)
    assert "number" in page.bar.message.text() and not page.slot.busy, page.bar.message.text()

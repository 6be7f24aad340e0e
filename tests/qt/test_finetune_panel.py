"""The Fine-tune wizard, driven as a person would: a tiny model trains from step 1 to the result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tests.qt.conftest import TRAIN_TIMEOUT  # the wizard fixture waits as long


def _small_job(qtbot, panel, examples=8, accumulation=2, lr="0.05"):
    """Settings a person would pick for a quick run of the tiny model."""
    data, method, train = panel.data_page, panel.method_page, panel.train_page
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    assert panel.current == 1
    data.limit_spin.setValue(examples)
    data.max_spin.setValue(160)
    data.val_limit_spin.setValue(4)
    qtbot.waitUntil(lambda: data.preview is not None and data.task is None, timeout=60_000)
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    assert panel.current == 2, panel.nav_message.text()
    method.accum_spin.setValue(accumulation)
    method.lr_edit.setText(lr)
    method.lr_edit.editingFinished.emit()
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    assert panel.current == 3, panel.nav_message.text()
    train.eval_spin.setValue(2)
    train.save_spin.setValue(0)
    train.test_spin.setValue(2)
    train.tokens_spin.setValue(6)


def _first_token_probs(context):
    from playground.core.decoding.generation import GenerationSettings, stream_generate

    step = next(stream_generate(context.session.current, "Summarize: hello there", GenerationSettings.make(top_n=5)))
    return step.top_probs


def test_wizard_trains_to_the_result_and_the_adapter_toggle_changes_generation(qtbot, wizard):
    panel, ctx = wizard, wizard.context
    before = _first_token_probs(ctx)
    _small_job(qtbot, panel)
    train = panel.train_page
    # before the run: no made-up learning-rate scale, a sentence instead of empty axes
    assert len(train.chart.lr_ax.get_yticks()) == 0 and train.chart.empty_text.get_visible()
    assert not train.strip.isVisible()  # the progress strip shows only while a run goes
    shown = []  # what the progress strip says after each report, as a person reads it
    strip_report = train.strip.on_progress
    train.strip.on_progress = lambda f, m: (strip_report(f, m), shown.append((train.strip.text(),
                                                                               train.strip.bar.value())))
    qtbot.mouseClick(train.start_button, Qt.MouseButton.LeftButton)
    assert train.busy and train.strip.isVisible() and train.stop_button.isEnabled()
    # the runs list shows the run while it goes; the chart has the run's own learning-rate axis
    row = [r for r in range(train.runs.table.rowCount()) if train.runs.table.item(r, 0).text() == Path(train.run_dir).name]
    assert row and train.runs.table.item(row[0], 2).text() == "training…"
    assert len(train.chart.lr_ax.get_yticks()) > 0 and train.chart.lr_ax.get_ylim()[1] == pytest.approx(0.05 * 1.15)
    qtbot.waitUntil(lambda: panel.current == 4, timeout=TRAIN_TIMEOUT)
    qtbot.waitUntil(lambda: not train.busy, timeout=30_000)

    # the strip named each phase and counted its own steps: scoring before training is not "100 % trained"
    texts = [t for t, _ in shown]
    assert any(t.startswith("Scoring the test set before training · 2 of 2") for t in texts), texts
    first_step = next(i for i, t in enumerate(texts) if t.startswith("Training (loss"))
    assert texts[first_step].split(" · ")[1] == "1 of 4" and shown[first_step][1] == 250  # its own bar: 1/4
    assert any(t.startswith("Scoring the test set after training · 1 of 2") for t in texts)
    assert not train.strip.isVisible()
    # the loss curve has points, one per step (8 examples / accumulation 2 = 4 steps)
    assert train.chart.steps == [1, 2, 3, 4]
    assert len(train.chart.val_steps) >= 2 and all(v > 0 for v in train.chart.val_losses)
    result = panel.result_page
    assert result.chart.steps == [1, 2, 3, 4]
    run = Path(result.run_dir)
    assert (run / "adapter" / "adapter_config.json").is_file() and (run / "report.md").is_file()
    assert result.scores.item(0, 0).text() != "–" and result.scores.item(1, 0).text() != "–"
    assert result.samples.rowCount() == 2
    # the scores on the app's one scale; the change is computed from the two values shown
    from playground.core.base.units import format_delta, format_score

    saved = json.loads((run / "report.json").read_text())["rouge"]
    for col, key in enumerate(("rouge1", "rouge2", "rougeL", "rougeLsum")):
        was, now = (result.scores.item(r, col).text().split()[0] for r in (0, 1))
        assert was == format_score(saved["before"][key], key) and now == format_score(saved["after"][key], key)
        assert result.scores.item(2, col).text() == format_delta(float(was), float(now))
    # Before / After name the base model, the run, the template and the decoding settings
    head_before, head_after = result.before_header.plain_text(), result.after_header.plain_text()
    name = ctx.session.base.info.name
    assert head_before.startswith(f"Before · {name} (base, no adapter) · float32 · template instruction, chat "
                                  "template on")
    assert head_after.startswith(f"After · {name} + adapter run {run.name}")
    assert "greedy, 6 new tokens at most" in head_after
    # a normal heading (no poster-size H1) and sample cells of a few lines, the whole text in the tooltip
    from playground.qt.finetune.result_page import CELL_CHARS

    assert "<h1" not in result.report_view.toHtml() and "<h3" in result.report_view.toHtml()
    for i, sample in enumerate(json.loads((run / "report.json").read_text())["rouge"]["samples"]):
        cell = result.samples.item(i, 0)
        assert cell.toolTip() == sample["reference"] and len(cell.text()) <= CELL_CHARS + 2
        assert cell.text() == " ".join(sample["reference"].split()) or cell.text().endswith(" …")
    # the measured peak now stands beside the estimate: what the run added to the app's memory
    report = json.loads((run / "report.json").read_text())
    assert report["training"]["memory_added_bytes"] > 0
    assert panel.method_page.explainer.measured[1] == report["training"]["memory_added_bytes"]
    assert "less what the app used before the run" in panel.method_page.explainer.measured[2]

    # Use in playground: every tab's model changes; the model bar's switch turns it off again
    seen = []
    ctx.sig_model_changed.connect(seen.append)
    qtbot.mouseClick(result.use_check, Qt.MouseButton.LeftButton)
    assert ctx.session.adapter_on and seen and seen[-1] is ctx.session.current
    after = _first_token_probs(ctx)
    assert after != pytest.approx(before, rel=1e-3, abs=0)
    from playground.qt.model_bar import ModelBar

    bar = ModelBar(ctx)
    qtbot.addWidget(bar)
    bar.show()
    ctx.sig_adapter_changed.emit(ctx.session.adapter)
    assert bar.adapter_check.isVisible() and bar.adapter_check.isChecked()
    qtbot.mouseClick(bar.adapter_check, Qt.MouseButton.LeftButton)
    assert not ctx.session.adapter_on and not result.use_check.isChecked()
    assert _first_token_probs(ctx) == pytest.approx(before, rel=1e-5, abs=0)

    # Save adapter: a complete copy, loadable elsewhere
    task = result.save_artifact(run.parent / "my-adapter")  # in the background
    qtbot.waitUntil(lambda: task.finished, timeout=30_000)
    saved = run.parent / "my-adapter"
    assert task.outcome == "done" and "Saved to" in result.summary_label.text()
    assert (saved / "adapter_config.json").is_file() and (saved / "adapter_model.safetensors").is_file()

    # a finished run opened from the runs list is used from its files (not from memory)
    ctx.set_adapter(None)
    train.runs.refresh()
    train.runs.select_path(str(run))
    qtbot.mouseClick(train.runs.show_button, Qt.MouseButton.LeftButton)
    assert panel.current == 4 and result.trained is None
    qtbot.mouseClick(result.use_check, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ctx.session.adapter_on, timeout=60_000)
    assert _first_token_probs(ctx) == pytest.approx(after, rel=1e-4, abs=0)

    # the job as a file the command line reads back
    from playground.core.finetune import load_config

    path = run.parent / "job-copy.toml"
    panel.save_job_file(str(path), result.report.get("config"))
    cfg = load_config(path)
    assert cfg.method.name == "lora" and cfg.data.max_train_examples == 8 and cfg.learning_rate == 0.05


def _start_40_step_job(qtbot, panel, steps_seen: int):
    """Start a 40-step job without a test evaluation; return the Train page once ``steps_seen`` steps ran."""
    _small_job(qtbot, panel, examples=40, accumulation=1, lr="auto")
    train = panel.train_page
    train.test_spin.setValue(0)
    qtbot.mouseClick(train.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(train.chart.steps) >= steps_seen, timeout=TRAIN_TIMEOUT)
    return train


def test_stop_keeps_a_checkpoint_that_resumes(qtbot, wizard, tmp_path):
    train = _start_40_step_job(qtbot, wizard, 2)
    # Pause holds training between two steps; Continue goes on from there
    task = train.task
    with qtbot.waitSignal(task.sig_paused, timeout=TRAIN_TIMEOUT):  # the step in flight ends, then it parks
        qtbot.mouseClick(train.pause_button, Qt.MouseButton.LeftButton)
    assert train.pause_button.text() == "Continue" and "Paused" in train.stage_label.text()
    held = len(train.chart.steps)  # every step made before parking has been delivered by now
    qtbot.waitUntil(lambda: task.parked and train.slot.paused, timeout=1000)
    assert len(train.chart.steps) == held and train.busy and task.parked
    with qtbot.waitSignal(task.sig_resumed, timeout=TRAIN_TIMEOUT):
        qtbot.mouseClick(train.pause_button, Qt.MouseButton.LeftButton)
    assert train.pause_button.text() == "Pause"
    qtbot.waitUntil(lambda: len(train.chart.steps) > held, timeout=TRAIN_TIMEOUT)
    qtbot.mouseClick(train.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not train.busy, timeout=TRAIN_TIMEOUT)
    run = Path(train.run_dir)
    checkpoints = sorted((run / "checkpoints").glob("step-*"))
    assert checkpoints and (checkpoints[-1] / "state.json").is_file()
    stopped_at = json.loads((checkpoints[-1] / "state.json").read_text())["step"]
    assert 2 <= stopped_at < 40
    assert "Stopped" in train.stage_label.text()

    # the runs list offers it for resume; resuming continues at the checkpoint's step
    train.runs.refresh()
    train.runs.select_path(str(run))
    assert train.runs.selected().status == "resumable"
    assert train.runs.resume_button.isEnabled()
    qtbot.mouseClick(train.runs.resume_button, Qt.MouseButton.LeftButton)
    assert train.busy
    qtbot.waitUntil(lambda: len(train.chart.steps) > stopped_at, timeout=TRAIN_TIMEOUT)
    assert train.chart.steps[: stopped_at] == list(range(1, stopped_at + 1))  # the old curve, then new steps
    assert train.chart.steps[stopped_at] == stopped_at + 1
    train.stop()
    qtbot.waitUntil(lambda: not train.busy, timeout=TRAIN_TIMEOUT)


def test_an_interrupted_run_is_offered_at_the_next_start(qtbot, wizard, tmp_path):
    from playground.qt.finetune import FinetunePanel
    from playground.qt.finetune.interrupted import ActiveRun

    panel = wizard
    train = _start_40_step_job(qtbot, panel, 1)
    assert ActiveRun(panel.context.settings).marked() == train.run_dir
    # The app goes away mid-run (the window closes: the runner cancels everything).
    panel.context.runner.cancel_all()
    qtbot.waitUntil(lambda: not train.busy, timeout=TRAIN_TIMEOUT)
    assert ActiveRun(panel.context.settings).marked() == train.run_dir

    again = FinetunePanel(panel.context)
    qtbot.addWidget(again)
    assert again.train_page.banner.isVisibleTo(again.train_page)
    assert Path(train.run_dir).name in again.train_page.banner_label.text()
    qtbot.mouseClick(again.train_page.banner_dismiss, Qt.MouseButton.LeftButton)
    assert ActiveRun(panel.context.settings).marked() is None


def test_bad_data_is_shown_where_it_can_be_fixed(qtbot, wizard, tmp_path):
    panel = wizard
    data = panel.data_page
    path = tmp_path / "mine.csv"
    rows = ["text,label"] + [f"\"A: hello {i}\nB: hi {i}\",they greet {i}" for i in range(6)]
    rows.insert(3, "\"A: nothing\",")  # an empty summary: skipped and listed by line
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    data.open_file(str(path))
    qtbot.waitUntil(lambda: data.task is None and (data.preview is not None or data.error is not None), timeout=60_000)
    # the columns were guessed from their names (text, label)
    assert data.dialogue_combo.currentText() == "text" and data.summary_combo.currentText() == "label", (data.error, data.file_columns)
    assert "empty row" in data.sizes_label.text() and "4" in data.sizes_label.text()

    # a wrong mapping is refused with the columns found, and the button to change it
    data.summary_combo.setCurrentText("text")
    data.summary_combo.activated.emit(0)
    qtbot.waitUntil(lambda: data.task is None and data.error is not None, timeout=60_000)
    assert data.mapping_button.isVisibleTo(data)
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    assert panel.current == 1 and "cannot be used" in panel.nav_message.text()
    data.summary_combo.setCurrentText("label")
    data.summary_combo.activated.emit(1)
    qtbot.waitUntil(lambda: data.task is None and data.preview is not None, timeout=60_000)
    assert not data.mapping_button.isVisibleTo(data)

    # a broken row is reported by its line
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"dialogue": "a", "summary": "b"}\n{"dialogue": "c", \n', encoding="utf-8")
    data.open_file(str(bad))
    qtbot.waitUntil(lambda: data.task is None and data.error is not None, timeout=60_000)
    assert "Line 2" in data.problem_label.text()


def test_settings_are_kept_back_and_forth_and_across_restarts(qtbot, wizard):
    from playground.qt.finetune import FinetunePanel

    panel = wizard
    # the step's explanation sits at the top, full width, folded to its bold sentence
    lesson = panel.model_page.lesson_label
    assert lesson.y() < panel.model_page.scroll.y() and lesson.text().endswith("More…</a>")
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    # compact forms: in a 1,200 px window a spin box holding a few digits is as wide as its value
    data = panel.data_page
    for spin in (data.max_spin, data.limit_spin, data.val_limit_spin, data.val_spin):
        assert spin.width() < 130, (spin.value(), spin.width())
    assert "(on by default in every tab)" in data.chat_check.text() and data.chat_check.isChecked()
    panel.data_page.max_spin.setValue(200)
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.method_page.method_buttons["prompt_tuning"], Qt.MouseButton.LeftButton)
    panel.method_page.vt_spin.setValue(12)
    # 12 virtual tokens, each one embedding of the model's width
    width = panel.context.session.current.model.get_input_embeddings().embedding_dim
    qtbot.waitUntil(lambda: "Prompt tuning trains" in panel.method_page.share_label.text(), timeout=5000)
    assert f"{12 * width:,} of" in panel.method_page.share_label.text()
    qtbot.mouseClick(panel.back_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.back_button, Qt.MouseButton.LeftButton)
    assert panel.current == 0
    qtbot.mouseClick(panel.step_buttons[2], Qt.MouseButton.LeftButton)
    assert panel.current == 2 and panel.method_page.method == "prompt_tuning"
    assert not panel.step_buttons[4].isEnabled()  # no result yet
    panel.save_draft()
    again = FinetunePanel(panel.context)
    qtbot.addWidget(again)
    assert again.method_page.method == "prompt_tuning" and again.method_page.vt_spin.value() == 12
    assert again.data_page.max_spin.value() == 200


def test_a_training_crash_leaves_the_app_running_with_the_message(qtbot, wizard, monkeypatch):
    import torch

    from playground.core.finetune import loop

    def out_of_memory(self):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(loop.Trainer, "_one_step", out_of_memory)
    panel = wizard
    _small_job(qtbot, panel, lr="auto")
    panel.train_page.test_spin.setValue(0)
    errors = []
    panel.context.sig_error.connect(lambda *a: errors.append(a))
    train = panel.train_page
    qtbot.mouseClick(train.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not train.busy, timeout=TRAIN_TIMEOUT)
    text = train.error.text()
    assert "ran out of memory" in text and "micro_batch_size" in text and "gradient_checkpointing" in text
    assert errors and errors[0][0] == "Fine-tuning failed"
    assert train.start_button.isEnabled() and panel.current == 3  # ready to try again


def test_memory_explainer_bars_follow_the_settings(qtbot, wizard):
    from playground.core.finetune.memory import METHODS, PARTS

    panel = wizard
    method = panel.method_page
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    assert panel.current == 2
    explainer = method.explainer
    qtbot.waitUntil(lambda: bool(explainer.estimates), timeout=10_000)
    gb = 2**30
    for i, m in enumerate(METHODS):
        total = sum(explainer.stacks[p][i].get_height() for p in PARTS)
        assert total * gb == pytest.approx(explainer.estimates[m].total, rel=1e-9)
    weights = explainer.stacks["weights"][0].get_height()
    explainer.dtype_combo.setCurrentIndex(explainer.dtype_combo.findData("bfloat16"))
    # BF16 as the app's trainer runs it: FP32 weights plus the 16-bit copy the forward pass keeps
    qtbot.waitUntil(lambda: explainer.stacks["weights"][0].get_height() > weights, timeout=5_000)
    assert explainer.stacks["weights"][0].get_height() == pytest.approx(weights * 1.5, rel=1e-9)
    assert "mixed precision" in explainer.caption.text() and "Pure BF16" in explainer.caption.text()
    # LoRA's share is the one the issue quotes for this shape of model: trainable / (base + adapter)
    est = explainer.estimates["lora"]
    assert f"{est.trainable_share:.2%}" in method.share_label.text()
    # the time per epoch, from a few steps timed on a copy of the model
    qtbot.waitUntil(lambda: "per epoch" in method.time_label.text() and method.speed is not None, timeout=60_000)
    assert method.speed.tokens_per_s > 0 and "tokens/s measured" in method.time_label.text()
    explainer.set_measured("lora", 3 * gb, "(test)")
    assert explainer.measured_bar.get_visible() and explainer.measured_bar.get_height() == pytest.approx(3)
    # the INT8 bar's measured figure: the loaded model really converted, more than the 1-byte estimate
    from playground.core.lifecycle.precision import measured_weight_bytes

    assert not explainer.int8_bar.get_visible()
    qtbot.mouseClick(explainer.int8_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(explainer.int8_bar.get_visible, timeout=60_000)
    want = measured_weight_bytes(panel.context.session.base.model, "int8")
    assert explainer.int8_bar.get_height() * gb == pytest.approx(want) and "measured" in explainer.int8_text.get_text()
    assert want > explainer.shape.parameters  # the estimate says 1 byte per parameter


def test_a_prompt_tuned_model_is_used_in_every_tab(qtbot, wizard):
    panel, ctx = wizard, wizard.context
    before = _first_token_probs(ctx)
    _small_job(qtbot, panel, examples=4, accumulation=2, lr="auto")
    panel.go_to(2)
    qtbot.mouseClick(panel.method_page.method_buttons["prompt_tuning"], Qt.MouseButton.LeftButton)
    panel.method_page.vt_spin.setValue(4)
    panel.go_to(3)
    train = panel.train_page
    train.test_spin.setValue(0)
    qtbot.mouseClick(train.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.current == 4, timeout=TRAIN_TIMEOUT)
    qtbot.waitUntil(lambda: not train.busy, timeout=30_000)
    result = panel.result_page
    assert (Path(result.run_dir) / "adapter" / "adapter_config.json").is_file()
    qtbot.mouseClick(result.use_check, Qt.MouseButton.LeftButton)
    assert ctx.session.adapter_on, result.message.text()
    assert ctx.session.current.model.num_virtual_tokens == 4
    assert ctx.session.current.model.base is ctx.session.base.model  # no copy of the model
    assert _first_token_probs(ctx) != pytest.approx(before, rel=1e-3, abs=0)


def test_the_method_step_counts_the_optimizer_steps_and_binds_max_steps(qtbot, wizard):
    panel = wizard
    data, method = panel.data_page, panel.method_page
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    # the histogram counts examples: whole numbers on its axis
    assert all(float(t).is_integer() for t in data.histogram.ax.get_yticks())
    data.limit_spin.setValue(8)
    qtbot.waitUntil(lambda: data.preview is not None and data.task is None, timeout=60_000)
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    assert panel.current == 2, panel.nav_message.text()
    method.accum_spin.setValue(2)
    qtbot.waitUntil(lambda: "→ 4 optimizer steps" in method.steps_label.text(), timeout=5_000)
    text = method.steps_label.text()
    assert "8 training examples" in text and "noise, not learning" in text
    # the max-steps row is the job's training.max_steps, and the count follows it
    method.max_steps_spin.setValue(30)
    assert panel.draft.config.training.max_steps == 30 and panel.collect()["training"]["max_steps"] == 30
    qtbot.waitUntil(lambda: "→ 30 optimizer steps" in method.steps_label.text(), timeout=5_000)
    assert "noise" not in method.steps_label.text()
    # a job loaded from elsewhere shows on every bound row
    panel.load_job({"method": {"lora": {"rank": 4}}, "training": {"max_steps": 0, "gradient_accumulation_steps": 4}})
    assert method.rank_spin.value() == 4 and method.max_steps_spin.value() == 0 and method.accum_spin.value() == 4
    assert method.max_steps_spin.text() == method.max_steps_spin.specialValueText()
    # a learning rate that is not a number is refused at Next, in words, and nothing moves on
    method.lr_edit.clear()
    qtbot.keyClicks(method.lr_edit, "fast")
    assert panel.draft.get("training.learning_rate") == "fast"
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    assert panel.current == 2 and "not a positive number" in panel.nav_message.text()


def test_the_result_reads_on_one_scale_names_its_base_and_goes_out_of_date_with_it(qtbot, wizard, tmp_path):
    """Issue 28's own example: ROUGE-1 14.14 -> 15.46 is shown 14.1 -> 15.5 and its change "+1.4" (from the
    shown values; the raw difference would round to +1.3); a change that rounds to nothing reads "±0.0"."""
    from types import SimpleNamespace

    page = wizard.result_page
    scores = {"before": {"rouge1": 0.1414, "rouge2": 0.05, "rougeL": 0.1, "rougeLsum": 0.1, "bleu": 3.04},
              "after": {"rouge1": 0.1546, "rouge2": 0.0499, "rougeL": 0.1, "rougeLsum": 0.1, "bleu": 2.96}}
    report = {"method": {"name": "lora"}, "training": {"steps": 2, "precision": "no"},
              "config": {"model": {"source": "bundled"}, "data": {"template": "tldr", "use_chat_template": False},
                         "evaluation": {"max_new_tokens": 8}},
              "rouge": {**scores, "test_examples": 3, "samples": []}, "curves": {"train_loss": [], "validation_loss": []}}
    page.show_result(str(tmp_path / "run-9"), report)
    row = [[page.scores.item(r, c).text() for c in range(5)] for r in range(3)]
    assert row[0] == ["14.1", "5.0", "10.0", "10.0", "3.0"] and row[1] == ["15.5", "5.0", "10.0", "10.0", "3.0"]
    assert row[2] == ["+1.4", "±0.0", "±0.0", "±0.0", "±0.0"]
    before = page.before_header.plain_text()
    assert before.startswith("Before · SmolLM2-135M-Instruct (base, no adapter) · float32 · template tldr, chat "
                             "template off · greedy, 8 new tokens at most · 3 test dialogues")
    assert page.after_header.plain_text().startswith("After · SmolLM2-135M-Instruct + adapter run run-9 · float32")
    page.on_model_changed(SimpleNamespace(info=SimpleNamespace(name="Another-model")))
    assert "out of date: the model bar now shows Another-model" in page.after_header.plain_text()

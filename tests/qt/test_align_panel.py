"""The Align tab driven as a person would, Feedback to Result, on the tiny Llama."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.screens import keep_screenshot


def test_align_tab_from_feedback_to_result(qtbot, context_with_tiny_llama):
    from playground.qt.align import AlignPanel

    ctx = context_with_tiny_llama
    panel = AlignPanel(ctx)
    qtbot.addWidget(panel)
    panel.show()

    # 1 Feedback: sample two summaries, say A is better
    fb = panel.feedback
    before = len(fb.labels)
    qtbot.mouseClick(fb.sample, Qt.LeftButton)
    qtbot.waitUntil(lambda: fb.pick_a.isEnabled(), timeout=60_000)
    assert fb.a.toPlainText() or fb.b.toPlainText()
    qtbot.mouseClick(fb.pick_a, Qt.LeftButton)
    assert len(fb.labels) in (before, before + 1)  # identical samples are a tie, not stored
    assert not fb.pick_a.isEnabled()

    # 2 Reward model: train on a few pairs, see the accuracy and the probe, score a typed text
    panel.steps.setCurrentWidget(panel.reward)
    rw = panel.reward
    rw.pairs.setValue(6)
    rw.test_pairs.setValue(4)
    qtbot.mouseClick(rw.train, Qt.LeftButton)
    qtbot.waitUntil(lambda: rw.score_btn.isEnabled(), timeout=120_000)
    assert "held-out accuracy" in rw.result.text() and "said twice" in rw.result.text()
    qtbot.keyClicks(rw.probe_text, "Two friends meet for lunch.")
    qtbot.mouseClick(rw.score_btn, Qt.LeftButton)
    qtbot.waitUntil(lambda: "Reward of your text" in rw.score_label.text(), timeout=30_000)
    assert rw.saved_path is not None and rw.saved_path.is_file()  # kept for step 3's preset

    # 3 Optimize: two GRPO steps of tiny groups, paid by the reward model of step 2
    panel.steps.setCurrentWidget(panel.optimize)
    op = panel.optimize
    op.preset.setCurrentText("Your reward model (trained in step 2)")
    op.rows["training.max_steps"].setValue(2)
    op.rows["method.group_size"].setValue(2)
    op.rows["method.max_new_tokens"].setValue(4)
    assert op.draft.get("training.max_steps") == 2  # the form edits the job's draft
    with qtbot.waitSignal(op.sig_done, timeout=300_000):
        qtbot.mouseClick(op.start_btn, Qt.LeftButton)
    assert len(op.curves.values("reward")) == 2 and len(op.curves.values("monitor")) == 2
    assert op.curves.values("kl")[0] == 0.0
    strip = op.filmstrip  # the same held-out dialogue at step 0 and step 2, each with its reward
    assert strip.rowCount() == 2 and strip.verticalHeaderItem(1).text().startswith("step 2 - KL")
    assert "reward " in strip.item(0, 0).text() and "ROUGE-L" in strip.item(1, 0).text()
    assert op.events[-1].report["rewards"] == ["reward_model"]
    assert op.events[-1].report["reward_model"] == str(rw.saved_path)
    qtbot.waitUntil(lambda: op.start_btn.isEnabled(), timeout=10_000)

    # 4 Result: before / after, then use the aligned model everywhere
    assert panel.steps.currentWidget() is panel.result
    res = panel.result
    text = res.summary.text()
    assert "GRPO on " in text and "2 steps" in text and "paid by your reward model" in text and "Monitor ROUGE-L" in text
    assert "groups of 2 completions x 4 tokens at temperature 1" in text and "learning rate 0.0001" in text
    import re

    # ROUGE-L on the app's one scale (0-100, one decimal) and its change from the values shown
    first, last, change = re.search(r"Monitor ROUGE-L \(0-100\) (\d+\.\d) -> (\d+\.\d) \(([+±-]\d+\.\d)\)", text).groups()
    mon = op.events[-1].report["monitor"]
    assert first == f"{mon[0]['rouge_l'] * 100:.1f}" and float(last) == round(mon[-1]["rouge_l"] * 100, 1)
    assert float(change.replace("±", "")) == round(float(last) - float(first), 1)
    # Before / After headers name the model, adapter-or-base, precision and the settings
    before, after = res.before_header.plain_text(), res.after_header.plain_text()
    assert before.startswith("Before · ") and f"{ctx.session.current.info.name} (base, no adapter)" in before
    # the run's precision (auto: BF16 where the CPU has native BF16, whose copy writes the monitor's summaries)
    written = "BF16 copy of the policy" if op.events[-1].report["precision"] == "bf16" else "float32"
    assert after.startswith("After · ") and "align GRPO run" in after and written in after and written in before
    assert "greedy, 4 new tokens at most" in after and "after step 2" in after
    assert res.use_btn.isEnabled()
    qtbot.mouseClick(res.use_btn, Qt.LeftButton)
    assert ctx.session.adapter is not None


def test_the_reward_model_preset_asks_for_a_trained_reward_model_first(qtbot, context_with_tiny_llama):
    from playground.qt.align import AlignPanel

    panel = AlignPanel(context_with_tiny_llama)
    qtbot.addWidget(panel)
    op = panel.optimize
    op.preset.setCurrentText("Your reward model (trained in step 2)")
    qtbot.mouseClick(op.start_btn, Qt.LeftButton)
    assert "Train a reward model in step 2 first" in panel.message.text()
    assert not panel.slot.busy


def test_the_hacking_presets_set_their_settings_and_switching_between_them_changes_only_beta(
        qtbot, context_with_tiny_llama):
    from playground.qt.align import AlignPanel
    from playground.core.align.presets import HACK

    panel = AlignPanel(context_with_tiny_llama)
    qtbot.addWidget(panel)
    op = panel.optimize
    assert op.draft.get("method.temperature") == 1.0 and op.draft.get("method.beta") == 0.1
    op.preset.setCurrentText("Reward hacking: count 'Person', beta 0")
    for key, value in {**HACK, "method.beta": 0.0}.items():
        assert op.draft.get(key) == value, key
    assert op.rows["method.temperature"].value() == HACK["method.temperature"]  # shown in the form
    assert op.draft.get("method.rewards") == ["word_count"]
    op.rows["training.max_steps"].setValue(6)  # the learner shortens the run
    op.preset.setCurrentText("Same reward, beta 0.5 (KL holds it)")
    assert op.draft.get("method.beta") == 0.5 and op.draft.get("training.max_steps") == 6
    op.rows["method.beta"].setValue(0.2)
    op.preset.setCurrentText("ROUGE-L against the reference")
    assert op.draft.get("method.rewards") == ["rouge_l"] and op.draft.get("method.beta") == 0.2  # kept


def test_full_reward_models_train_with_progress_stop_and_say_whether_they_can_pay(qtbot, context_with_tiny_llama):
    from playground.qt.align import AlignPanel

    ctx = context_with_tiny_llama
    panel = AlignPanel(ctx)
    qtbot.addWidget(panel)
    panel.show()
    panel.steps.setCurrentWidget(panel.reward)
    rw = panel.reward
    rw.pairs.setValue(6)
    rw.test_pairs.setValue(4)
    assert not rw.full_steps.isEnabled()  # quick mode has no steps
    rw.mode.setCurrentIndex(rw.mode.findData("full"))
    assert rw.full_steps.isEnabled()

    # Stop: a long full run stops, and says that nothing was trained
    rw.full_steps.setValue(500)
    qtbot.mouseClick(rw.train, Qt.LeftButton)
    assert rw.stop.isEnabled() and rw.progress.isVisible()
    # the one progress strip names the phase and counts its steps: "Training the reward model · 1 of 500 · …"
    qtbot.waitUntil(lambda: "of 500" in rw.strip.text(), timeout=120_000)
    assert rw.strip.text().startswith("Training the reward model")
    qtbot.mouseClick(rw.stop, Qt.LeftButton)
    qtbot.waitUntil(lambda: rw.train.isEnabled(), timeout=60_000)
    assert rw.result.text() == "Stopped before the reward model was trained." and rw.rm is None
    assert not rw.progress.isVisible()

    # the encoder, every weight trained: saved with its encoder, so step 3 can be paid by it
    rw.full_steps.setValue(3)
    qtbot.mouseClick(rw.train, Qt.LeftButton)
    qtbot.waitUntil(lambda: rw.score_btn.isEnabled(), timeout=120_000)
    text = rw.result.text()
    assert "all-MiniLM-L6-v2, full mode, 3 steps of 4 pairs" in text and "every encoder weight" in text
    assert "held-out accuracy" in text and "Saved for step 3" in text
    assert rw.rm.mode == "full" and len(rw.report.losses) == 3
    assert (rw.saved_path.parent / "encoder" / "model.safetensors").is_file() and rw.can_pay

    # the current model with LoRA on a training copy: the app's model is left as it was
    rw.backbone.setCurrentIndex(rw.backbone.findData("policy"))
    rw.full_steps.setValue(2)
    qtbot.mouseClick(rw.train, Qt.LeftButton)
    qtbot.waitUntil(lambda: rw.train.isEnabled() and "current model" in rw.result.text(), timeout=120_000)
    assert "LoRA on a training copy" in rw.result.text() and "cannot pay the policy" in rw.result.text()
    assert not hasattr(ctx.session.current.model, "peft_config")
    panel.steps.setCurrentWidget(panel.optimize)
    panel.optimize.preset.setCurrentText("Your reward model (trained in step 2)")
    qtbot.mouseClick(panel.optimize.start_btn, Qt.LeftButton)
    assert "second copy of the model" in panel.message.text() and not panel.slot.busy


def test_the_pages_never_read_each_other_only_the_panel_wires_them():
    import re
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "playground" / "qt" / "align"
    for path in folder.glob("*.py"):
        if path.name == "panel.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"panel\.(feedback|reward|optimize|result)\b", text), path.name
        assert "_page import" not in text and "feedback import" not in text, path.name


def test_the_reward_page_form_is_its_draft_and_each_mode_keeps_its_steps(qtbot, context_with_tiny_llama):
    from playground.core.align.presets import REWARD_MODEL_STEPS
    from playground.qt.align import AlignPanel

    panel = AlignPanel(context_with_tiny_llama)
    qtbot.addWidget(panel)
    rw = panel.reward
    rw.pairs.setValue(10)
    assert rw.draft.get("job.data.max_train_examples") == 10 and rw.draft.get("job.method.name") == "reward_model"
    assert rw.full_steps.value() == REWARD_MODEL_STEPS["quick"] and not rw.rows["job.method.reward_lr"].isEnabled()
    rw.mode.setCurrentIndex(rw.mode.findData("full"))
    assert rw.draft.get("job.training.max_steps") == REWARD_MODEL_STEPS["full"]
    assert rw.rows["job.method.reward_lr"].specialValueText() == "auto"  # 0 = the backbone's own rate
    rw.full_steps.setValue(7)
    rw.mode.setCurrentIndex(rw.mode.findData("quick"))
    rw.mode.setCurrentIndex(rw.mode.findData("full"))
    assert rw.full_steps.value() == 7
    rw.draft.set("job.method.reward_backbone", "policy")  # the draft drives the form
    assert rw.backbone.currentData() == "policy"
    assert "LoRA on the policy" in rw.mode.toolTip() and "sentence pair" in rw.backbone.toolTip()  # help: on the field


def test_the_grpo_loss_type_is_a_choice_on_the_optimize_page_and_the_result_names_it(qtbot, context_with_tiny_llama):
    from types import SimpleNamespace

    from playground.qt.align import AlignPanel

    panel = AlignPanel(context_with_tiny_llama)
    qtbot.addWidget(panel)
    panel.resize(1200, 800)
    panel.show()
    panel.steps.setCurrentWidget(panel.optimize)
    op = panel.optimize
    row = op.rows["method.loss_type"]
    assert [row.itemData(i) for i in range(row.count())] == ["grpo", "dapo"] and row.currentData() == "grpo"
    assert "trl 1.16's default" in row.toolTip() and "the default" in row.toolTip()
    row.setCurrentIndex(row.findData("dapo"))
    assert op.draft.get("method.loss_type") == "dapo"
    op.draft.set("method.name", "dpo")  # DPO has no such loss: the row is off
    assert not row.isEnabled()
    op.rows["method.name"].setCurrentIndex(op.rows["method.name"].findData("grpo"))
    assert row.isEnabled()
    keep_screenshot(op, "align-optimize-loss-type.png")
    # compact form: two columns of label and field, each field as wide as its value (not the window's width)
    steps, group = op.rows["training.max_steps"], op.rows["method.group_size"]
    assert steps.width() < 130 and group.width() < 130 and op.rows["method.beta"].width() < 130
    assert op.rows["method.name"].x() < op.rows["method.temperature"].x()  # side by side
    report = {"method": "grpo", "model": "bundled", "steps": 2, "beta": 0.1, "rewards": ["rouge_l"],
              "loss_type": "dapo", "per_step": [], "monitor": []}
    panel.result.show_done(SimpleNamespace(report=report, loaded=None, artifact="", run_dir=""))
    assert "dapo loss (each token weighs the same, trl's default)" in panel.result.summary.text()
    # the run's precision: a bound row (auto, float32, bf16), named on the result (issue 35)
    prec = op.rows["model.precision"]
    assert [prec.itemData(i) for i in range(prec.count())] == ["auto", "no", "bf16"]
    assert "BF16 copy of the policy" in prec.toolTip()
    from playground.core.finetune.mixed import cpu_has_native_bf16

    native = cpu_has_native_bf16()  # beside Start, what "auto" means on this machine
    assert ("Runs at BF16" if native else "Runs at float32") in op.start_from.text()
    prec.setCurrentIndex(prec.findData("no"))
    assert "Runs at float32." in op.start_from.text()
    prec.setCurrentIndex(prec.findData("auto"))
    panel.result.show_done(SimpleNamespace(report={**report, "precision": "bf16"}, loaded=None, artifact="",
                                           run_dir=""))
    assert "BF16 (completions sampled from a BF16 copy, FP32 LoRA weights)" in panel.result.summary.text()
    # the before / after summaries are the monitor's, written by that copy: their headers say so
    for header in (panel.result.before_header, panel.result.after_header):
        assert "BF16 copy of the policy" in header.plain_text() and "float32" not in header.plain_text()
    panel.result.show_done(SimpleNamespace(report={**report, "method": "dpo", "precision": "bf16"}, loaded=None,
                                           artifact="", run_dir=""))
    assert "float32" in panel.result.before_header.plain_text()  # DPO's before / after: the FP32 policy's
    panel.result.show_done(SimpleNamespace(report={**report, "precision": "no"}, loaded=None, artifact="",
                                           run_dir=""))
    assert ", float32," in panel.result.summary.text()


def _attach_lora_run(ctx, tiny_llama, folder):
    """A LoRA 'fine-tuning run' on q/v of the tiny Llama, saved in ``folder`` and attached, switched on."""
    import copy

    import torch
    from peft import get_peft_model

    from playground.core.finetune.attach import load_attachable, named_for_run
    from playground.core.finetune.lora import lora_config

    torch.manual_seed(5)
    model = get_peft_model(copy.deepcopy(tiny_llama.model), lora_config(4, target_modules=["q_proj", "v_proj"]))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn_like(p) * 0.5)
    model.save_pretrained(str(folder))
    ctx.set_adapter(named_for_run(tiny_llama, load_attachable(tiny_llama, folder), folder, folder.parent, "lora"))


def test_align_starts_from_the_lora_run_the_model_bar_shows_and_says_so(qtbot, context_with_tiny_llama, tiny_llama,
                                                                        tmp_path):
    import json
    from pathlib import Path

    from playground.qt.align import AlignPanel

    ctx = context_with_tiny_llama
    panel = AlignPanel(ctx)
    qtbot.addWidget(panel)
    panel.resize(1200, 800)
    panel.show()
    panel.steps.setCurrentWidget(panel.optimize)
    op = panel.optimize
    base = tiny_llama.info.name
    assert op.start_from.text().startswith(f"Starts from {base}, the model the model bar shows")
    _attach_lora_run(ctx, tiny_llama, tmp_path / "ft-run" / "adapter")  # the bar now shows "+ ft-run"
    assert op.start_from.text().startswith(f"Starts from {base} + ft-run, as the model bar shows")
    assert "merged" in op.start_from.text() and op.start_from.isVisible()
    op.rows["method.name"].setCurrentIndex(op.rows["method.name"].findData("dpo"))
    op.rows["training.max_steps"].setValue(1)
    keep_screenshot(op, "align-optimize-starts-from.png")
    with qtbot.waitSignal(op.sig_done, timeout=300_000):
        qtbot.mouseClick(op.start_btn, Qt.LeftButton)
    done = op.events[-1]
    report = json.loads((Path(done.run_dir) / "report.json").read_text())
    assert report["start"] == "base + ft-run" and report["start_adapter"] == str(tmp_path / "ft-run" / "adapter")
    assert "starting from base + ft-run (its LoRA merged in first)" in panel.result.summary.text()
    before, after = panel.result.before_header.plain_text(), panel.result.after_header.plain_text()
    assert before.startswith(f"Before · {base} + adapter ft-run") and "the reference" in before
    assert after.startswith(f"After · {base} + adapter ft-run + align DPO run")
    keep_screenshot(panel.result, "align-result-starts-from.png")
    qtbot.waitUntil(lambda: op.start_btn.isEnabled(), timeout=10_000)

    ctx.use_adapter(False)  # switched off in the model bar: the base, and the page says why
    assert op.start_from.text().startswith(f"Starts from {base}, the model the model bar shows")
    assert "ft-run is switched off" in op.start_from.text()
    # the shown run stays, said to be out of date (it was made with the adapter on)
    assert "out of date: the model bar changed" in panel.result.after_header.plain_text()


def _in_view(widget, scroll) -> bool:
    """Whether all of ``widget`` lies inside what the tab's scroll area shows (no scrolling needed)."""
    from PySide6.QtCore import QPoint, QRect

    viewport = scroll.viewport()
    return widget.isVisible() and viewport.rect().contains(QRect(widget.mapTo(viewport, QPoint(0, 0)), widget.size()))


def test_feedback_shows_the_dialogue_keeps_the_choices_in_view_and_moves_to_the_next_pair(
        qtbot, context_with_tiny_llama, monkeypatch, tmp_path):
    from tests.qt.shown import main_window

    monkeypatch.setenv("PLAYGROUND_HOME", str(tmp_path / "home"))  # the labels made here stay here

    window = main_window(qtbot, context_with_tiny_llama)
    window.resize(1200, 800)
    panel = window.panel("AlignPanel")
    window.tabs.setCurrentIndex(window.panels.index(panel))
    panel.steps.setCurrentWidget(panel.feedback)
    fb, scroll = panel.feedback, window.tabs.currentWidget()
    first_line = fb.pairs[0].prompt.split("\n")[2]  # a line of the first dialogue
    assert first_line.startswith("#Person1#:") and first_line in fb.dialogue.toPlainText()

    qtbot.mouseClick(fb.sample, Qt.LeftButton)
    qtbot.waitUntil(lambda: fb.pick_a.isEnabled(), timeout=60_000)
    qtbot.waitUntil(lambda: all(_in_view(w, scroll) for w in (fb.a, fb.b, fb.pick_a, fb.pick_b, fb.tie, fb.skip)))
    assert fb.a.height() < 300
    keep_screenshot(window, "align-feedback.png")

    before = len(fb.labels)
    qtbot.mouseClick(fb.pick_a, Qt.LeftButton)
    assert len(fb.labels) in (before, before + 1)  # identical samples are a tie, not stored
    # it moves to the next pair: the next dialogue is shown and its two summaries are sampled
    assert fb.index.value() == 2 and fb.pairs[1].prompt.split("\n")[2] in fb.dialogue.toPlainText()
    qtbot.waitUntil(lambda: fb.pick_a.isEnabled(), timeout=60_000)
    assert "#Person" in fb.current[0] and fb.current[0].endswith("Summary:")
    qtbot.mouseClick(fb.skip, Qt.LeftButton)  # Skip moves on as well
    assert fb.index.value() == 3
    qtbot.waitUntil(lambda: fb.pick_a.isEnabled(), timeout=60_000)


def test_my_labels_join_the_reward_model_by_default_and_the_counts_are_said_apart(
        qtbot, context_with_tiny_llama, tmp_path, monkeypatch):
    import json

    monkeypatch.setenv("PLAYGROUND_HOME", str(tmp_path / "home"))  # exactly the three labels imported here

    from playground.core.align.preferences import bundled_preferences
    from playground.qt.align import AlignPanel

    panel = AlignPanel(context_with_tiny_llama)
    qtbot.addWidget(panel)
    panel.resize(1200, 800)
    panel.show()
    mine = tmp_path / "mine.jsonl"
    mine.write_text("".join(json.dumps({"prompt": p.prompt, "chosen": p.chosen, "rejected": p.rejected}) + "\n"
                            for p in bundled_preferences("train")[100:103]))
    panel.feedback.import_labels(str(mine))
    rw = panel.reward
    assert rw.mine.isChecked() and rw.draft.get("add_labels")  # lab 3: "train the reward model on your pairs"
    panel.steps.setCurrentWidget(rw)
    rw.pairs.setValue(6)
    rw.test_pairs.setValue(4)
    qtbot.mouseClick(rw.train, Qt.LeftButton)
    qtbot.waitUntil(lambda: rw.score_btn.isEnabled(), timeout=120_000)
    assert len(panel.feedback.labels) == 3 and "trained on 6 bundled pairs and 3 of your labels" in rw.result.text()
    assert len(rw.trained_on[0]) == 6 + 3
    keep_screenshot(rw, "align-reward-your-labels.png")

"""The Labs dock on the real tabs: each lab-1 step ticks when the test does it (as a person would,
on the tiny Llama) and not before; progress survives a restart; a bad lab file is refused by name."""

import pytest
from PySide6.QtCore import Qt

from playground.core.labs import LabProgress
from playground.qt.labs.dock import LabsDock
from playground.qt.main_window import MainWindow
from tests.qt.test_prompt_panel import short_dataset, short_train_ids, tick


@pytest.fixture
def window(qtbot, context_with_tiny_llama, monkeypatch, tmp_path):
    from playground.core.evaluation import datasets

    monkeypatch.setenv("PLAYGROUND_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(datasets, "load_split", lambda split="test", folder=None: short_dataset(split))
    w = MainWindow(context_with_tiny_llama)
    qtbot.addWidget(w)
    w.build_tabs()
    w.show()
    yield w
    for p in w.panels:
        if getattr(p, "busy", False):
            p.stop()


def click(qtbot, button):
    qtbot.waitUntil(button.isEnabled, timeout=30000)  # a run's buttons come back once its task has ended
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def wait_ticked(qtbot, dock, step_id, timeout=60000):
    qtbot.waitUntil(lambda: dock.is_ticked(step_id), timeout=timeout)


def test_every_lab1_step_ticks_when_done_and_not_before(qtbot, window, tmp_path):
    dock = window.toggle_labs(True)
    assert dock.isVisible() and dock.lab().id == "prompt-engineering"
    steps = dock.lab().step_ids()
    assert not any(dock.is_ticked(s) for s in steps)
    prompt = window.panel("PromptPanel")

    # 1. zero-shot: showing the tab does nothing; running does.
    dock.step_list.setCurrentRow(0)
    assert dock.show_me() is prompt.run_button and dock.highlight.isVisible()
    assert window.current_panel() is prompt and not dock.is_ticked("zero-shot")
    prompt.max_tokens.setValue(8)
    prompt.template_combo.setCurrentIndex(prompt.template_combo.findData("tldr"))
    short = sorted(prompt.splits["test"], key=lambda e: len(e.input))
    prompt.example_combo.setCurrentIndex(prompt.splits["test"].index(short[0]))
    prompt.shots_spin.setValue(0)
    with qtbot.waitSignal(prompt.sig_run_finished, timeout=30000):
        click(qtbot, prompt.run_button)
    wait_ticked(qtbot, dock, "zero-shot")
    assert not dock.is_ticked("shots")
    assert "Done" in dock.step_view.toPlainText()  # the explanation shows once done

    # 2. 0 / 1 / 2 shots compared.
    tick(prompt, short_train_ids(prompt, 2))
    prompt.shots_spin.setValue(2)
    with qtbot.waitSignal(prompt.sig_compare_finished, timeout=60000):
        click(qtbot, prompt.compare_button)
    wait_ticked(qtbot, dock, "shots")
    assert not dock.is_ticked("templates")

    # 3. every template.
    prompt.compare_mode.setCurrentIndex(prompt.compare_mode.findData("templates"))
    prompt.shots_spin.setValue(0)
    with qtbot.waitSignal(prompt.sig_compare_finished, timeout=90000):
        click(qtbot, prompt.compare_button)
    wait_ticked(qtbot, dock, "templates")
    assert not dock.is_ticked("context-window")

    # 4. the context window overflows.
    tick(prompt, [])
    prompt.max_tokens.setValue(200)
    prompt.shots_spin.setValue(4)
    qtbot.waitUntil(lambda: prompt.meter.over, timeout=5000)
    wait_ticked(qtbot, dock, "context-window")

    # 5. greedy in the Generate tab.
    gen = window.panel("GeneratePanel")
    assert not dock.is_ticked("greedy")
    gen.prompt_edit.setPlainText("The sea is")
    gen.max_tokens.setValue(6)
    gen.mode.setCurrentIndex(0)
    with qtbot.waitSignal(gen.sig_generation_finished, timeout=30000):
        click(qtbot, gen.generate_button)
    wait_ticked(qtbot, dock, "greedy")

    # 6-8. Sampling: hot temperature, then top-k, then top-p, each with 'Run 5 times'.
    samp = window.panel("SamplingPanel")
    window.tabs.setCurrentIndex(window.panels.index(samp))
    c = samp.controls
    c.sample_radio.setChecked(True)
    samp.steps_spin.setValue(3)
    qtbot.waitUntil(lambda: not samp.busy, timeout=30000)
    with qtbot.waitSignal(samp.sig_steps_changed, timeout=30000):
        click(qtbot, samp.read_button)
    qtbot.waitUntil(lambda: samp.five_button.isEnabled(), timeout=10000)

    def run_five():
        with qtbot.waitSignal(samp.sig_rollouts_finished, timeout=60000):
            click(qtbot, samp.five_button)
        qtbot.waitUntil(lambda: samp.five_button.isEnabled(), timeout=10000)

    c.temperature.setValue(120)  # exactly 1.2 is not "above 1.2"
    run_five()
    assert not dock.is_ticked("temperature")
    c.temperature.setValue(150)
    assert not dock.is_ticked("temperature")  # moving the slider is not sampling
    run_five()
    wait_ticked(qtbot, dock, "temperature")
    assert not dock.is_ticked("top-k")
    c.top_k.setValue(5)
    run_five()
    wait_ticked(qtbot, dock, "top-k")
    assert not dock.is_ticked("top-p")
    c.top_k.setValue(0)
    c.top_p.setValue(40)
    run_five()
    wait_ticked(qtbot, dock, "top-p")
    assert all(dock.is_ticked(s) for s in steps)
    assert "✓" in dock.step_list.item(7).text()

    # The lab as a notebook: valid nbformat, and its code reproduces the columns and the greedy text.
    import nbformat

    from tests.core.test_notebook import run_script

    path = tmp_path / "lab1.ipynb"
    missing = window.export_notebook(str(path), dock.lab())
    assert missing == []
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    assert dock.lab().intro[:40] in nb.cells[0].source  # markdown in the lab's words
    got = run_script(nb, tmp_path)
    cols = [c.result for c in prompt.compare_view.columns]
    assert [r["summary"] for r in got["prompt_comparison"]] == [c.summary for c in cols]
    assert [r["scores"] for r in got["prompt_comparison"]] == [pytest.approx(c.scores, abs=1e-9) for c in cols]
    assert got["generation"]["text"] == gen.output_text


def test_progress_survives_a_restart_and_reset_clears_it(qtbot, window, tmp_path):
    path = tmp_path / "progress.json"
    progress = LabProgress(path)
    progress.mark_done("prompt-engineering", "greedy")
    progress.set_current("prompt-engineering", 4)
    dock = LabsDock(window, window.labs_watcher, LabProgress(path))
    qtbot.addWidget(dock)
    assert dock.is_ticked("greedy") and dock.step_index() == 4 and "✓" in dock.step_list.item(4).text()
    assert not dock.is_ticked("zero-shot")
    click(qtbot, dock.reset_button)
    assert not LabProgress(path).done("prompt-engineering") and dock.step_index() == 0


def test_a_lab_file_with_an_unknown_check_is_refused_with_its_name(qtbot, window, tmp_path):
    folder = tmp_path / "labs"
    folder.mkdir()
    (folder / "bad.toml").write_text('title = "Bad"\n[[steps]]\ntitle = "t"\ntab = "Prompt"\ndo = "d"\n'
                                     'check = "juggle_three_balls"\n', encoding="utf-8")
    dock = LabsDock(window, window.labs_watcher, LabProgress(tmp_path / "p.json"), labs_folder=folder)
    qtbot.addWidget(dock)
    assert dock.labs == [] and "juggle_three_balls" in dock.problems_label.text()
    assert dock.problems_label.isVisibleTo(dock)


def test_presenter_mode_zooms_and_keys_step_through(qtbot, window):
    dock = window.toggle_labs(True)
    dock.select_lab("fine-tuning")
    dock.step_list.setCurrentRow(0)
    small = dock.step_view.font().pointSizeF()
    click(qtbot, dock.present_button)
    from playground.qt.presenter import PRESENTER_ZOOM

    assert window.presenting and window.presenter_action.isChecked()  # the window's presenter mode
    assert window.presenter.zoom == pytest.approx(PRESENTER_ZOOM) and dock.step_view.font().pointSizeF() > 2 * small
    qtbot.keyClick(window, Qt.Key.Key_PageDown)
    assert dock.step_index() == 1
    qtbot.keyClick(window, Qt.Key.Key_PageUp)
    assert dock.step_index() == 0
    click(qtbot, dock.present_button)
    assert window.presenter.zoom == 1.0
    qtbot.keyClick(window, Qt.Key.Key_PageDown)
    assert dock.step_index() == 0  # the keys step only in presenter mode


def test_lab3_steps_tick_on_the_align_tab(qtbot, window, tmp_path):
    dock = window.toggle_labs(True)
    dock.select_lab("human-feedback")
    align = window.panel("AlignPanel")
    assert "Label a pair" in dock.status.text()
    ids = dock.lab().step_ids()
    dock.step_list.setCurrentRow(ids.index("reward-model"))  # after the labels and the arena's votes
    assert dock.show_me() is align.reward and align.steps.currentWidget() is align.reward
    assert not any(dock.is_ticked(s) for s in dock.lab().step_ids())

    fb = align.feedback
    for _ in range(4):  # identical samples are a tie and are not stored: sample again
        click(qtbot, fb.sample)
        qtbot.waitUntil(fb.pick_a.isEnabled, timeout=60000)
        click(qtbot, fb.pick_a)
        if dock.is_ticked("labels"):
            break
    assert dock.is_ticked("labels") and not dock.is_ticked("reward-model")

    align.steps.setCurrentWidget(align.reward)
    align.reward.pairs.setValue(6)
    align.reward.test_pairs.setValue(4)
    click(qtbot, align.reward.train)
    wait_ticked(qtbot, dock, "reward-model", timeout=240000)  # features of every text: slow on a busy 2-core CI

    op = align.optimize
    align.steps.setCurrentWidget(op)
    op.preset.setCurrentText("Reward hacking: count 'Person', beta 0")
    op.rows["training.max_steps"].setValue(2)
    op.rows["method.group_size"].setValue(2)
    op.rows["method.max_new_tokens"].setValue(4)
    with qtbot.waitSignal(op.sig_done, timeout=300000):
        click(qtbot, op.start_btn)
    wait_ticked(qtbot, dock, "reward-hacking")
    assert dock.is_ticked("before-after") and not dock.is_ticked("with-kl")
    qtbot.waitUntil(op.start_btn.isEnabled, timeout=10000)
    op.preset.setCurrentText("Same reward, beta 0.5 (KL holds it)")
    with qtbot.waitSignal(op.sig_done, timeout=300000):
        click(qtbot, op.start_btn)
    wait_ticked(qtbot, dock, "with-kl")

    # the lab's notebook: the reward model retrained with plain torch gives the app's held-out accuracy,
    # and the last step's group gives the app's rewards and GRPO advantages
    import nbformat

    from tests.core.test_notebook import run_script

    path = tmp_path / "lab3.ipynb"
    # everything the lab's notebook holds is there except the arena's votes (this test casts none)
    assert [m for m in window.export_notebook(str(path), dock.lab()) if not m.startswith("arena:")] == []
    got = run_script(nbformat.read(str(path), as_version=4), tmp_path)
    assert got["reward_model"]["test_accuracy"] == pytest.approx(align.reward.report.test_accuracy, abs=1e-9)
    from playground.core.align.job import AlignStepEvent

    want = [e for e in op.events if isinstance(e, AlignStepEvent)][-1].extra
    assert got["align_group"]["rewards"] == pytest.approx([s["reward"] for s in want["samples"]], abs=1e-6)
    assert got["align_group"]["advantages"] == pytest.approx(want["advantages"], abs=1e-5)


def test_lab2_ticks_on_an_evaluation_a_lora_run_and_a_second_evaluation_and_its_notebook_replays_them(
        qtbot, window, tmp_path, monkeypatch):
    import json
    from pathlib import Path

    import nbformat

    from playground.core.finetune import runs
    from tests.core.test_notebook import run_script
    from tests.qt.test_finetune_panel import TRAIN_TIMEOUT, _small_job

    monkeypatch.setattr(runs, "runs_root", lambda: tmp_path / "runs")
    dock = window.toggle_labs(True)
    dock.select_lab("fine-tuning")
    ev = window.panel("EvaluatePanel")
    ev.count_spin.setValue(2)
    ev.max_tokens.setValue(4)
    assert not dock.is_ticked("baseline")
    with qtbot.waitSignal(ev.sig_evaluation_finished, timeout=60000):
        click(qtbot, ev.run_button)
    wait_ticked(qtbot, dock, "baseline")
    assert not dock.is_ticked("after") and not dock.is_ticked("lora")
    missing = window.export_notebook(str(tmp_path / "early.ipynb"), dock.lab())
    assert len(missing) == 1 and "finetune" in missing[0]  # no fine-tuning run yet: said, not faked

    # a short LoRA run in the Fine-tune tab ticks "lora", and only a second evaluation ticks "after"
    ft = window.panel("FinetunePanel")
    window.tabs.setCurrentWidget(ft)
    qtbot.waitUntil(lambda: ft.data_page.preview is not None, timeout=60_000)
    _small_job(qtbot, ft, examples=4, accumulation=2)
    click(qtbot, ft.train_page.start_button)
    wait_ticked(qtbot, dock, "lora", timeout=TRAIN_TIMEOUT)
    qtbot.waitUntil(lambda: not ft.train_page.busy, timeout=30_000)
    assert not dock.is_ticked("after") and not dock.is_ticked("full")
    # the Result page asks what the run forgot: the Lifecycle tab's Forgetting section probes that run
    lifecycle = window.panel("LifecyclePanel")
    qtbot.waitUntil(lambda: ft.result_page.forget_button.isEnabled(), timeout=30_000)
    click(qtbot, ft.result_page.forget_button)
    assert window.current_panel() is lifecycle and lifecycle.sections.currentWidget() is lifecycle.forgetting
    page = lifecycle.forgetting
    assert page.run_combo.currentData() == ft.train_page.run_dir
    qtbot.waitUntil(lambda: not page.slot.busy, timeout=TRAIN_TIMEOUT)
    assert page.table.rowCount() >= 3 and Path(ft.train_page.run_dir).name in page.table.item(2, 0).text()
    window.tabs.setCurrentWidget(window.tabs.widget(window.panels.index(ev)))
    with qtbot.waitSignal(ev.sig_evaluation_finished, timeout=60000) as blocker:
        click(qtbot, ev.run_button)
    reports = blocker.args[0]
    wait_ticked(qtbot, dock, "after")

    # the notebook replays the run's settings (same trainable parameters) and the second evaluation's ROUGE
    path = tmp_path / "lab2.ipynb"
    # everything the lab's notebook holds is there except the arena's votes (this test casts none)
    assert [m for m in window.export_notebook(str(path), dock.lab()) if not m.startswith("arena:")] == []
    nb = nbformat.read(str(path), as_version=4)
    run = json.loads((Path(ft.train_page.run_dir) / "report.json").read_text())
    assert Path(ft.train_page.run_dir).name in "".join(c.source for c in nb.cells if c.cell_type == "markdown")
    got = run_script(nb, tmp_path)
    assert got["finetune"]["trainable"] == run["method"]["trainable_parameters"]
    assert len(got["finetune"]["losses"]) == run["training"]["steps"]
    label = ev.labels[-1]
    for k in ("rouge1", "rouge2", "rougeL"):
        assert got["evaluation"][k] == pytest.approx(float(reports[label].rouge[k]), abs=1e-9)

"""The Align tab driven as a person would, Feedback to Result, on the tiny Llama."""

from __future__ import annotations

from PySide6.QtCore import Qt


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

    # 3 Optimize: two GRPO steps of tiny groups
    panel.steps.setCurrentWidget(panel.optimize)
    op = panel.optimize
    op.rows["training.max_steps"].setValue(2)
    op.rows["method.group_size"].setValue(2)
    op.rows["method.max_new_tokens"].setValue(4)
    assert op.draft.get("training.max_steps") == 2  # the form edits the job's draft
    with qtbot.waitSignal(op.sig_done, timeout=300_000):
        qtbot.mouseClick(op.start_btn, Qt.LeftButton)
    assert len(op.curves.values("reward")) == 2 and len(op.curves.values("monitor")) == 2
    assert op.curves.values("kl")[0] == 0.0
    qtbot.waitUntil(lambda: op.start_btn.isEnabled(), timeout=10_000)

    # 4 Result: before / after, then use the aligned model everywhere
    assert panel.steps.currentWidget() is panel.result
    res = panel.result
    assert "GRPO, 2 steps" in res.summary.text() and "Monitor ROUGE-L" in res.summary.text()
    assert res.use_btn.isEnabled()
    qtbot.mouseClick(res.use_btn, Qt.LeftButton)
    assert ctx.session.adapter is not None

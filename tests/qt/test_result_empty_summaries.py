"""Issue 29, newcomer finding: the Fine-tune Result page showed "(empty)" summaries without saying why.
Each empty summary now says why beside it (found by generating again with the model at hand), or, with
no model at hand, what an empty summary can mean."""

from __future__ import annotations

import json

from playground.core.finetune import FinetuneConfig
from playground.core.finetune.prepare import load_split_rows
from tests.core.test_empty_output import biased
from tests.screens import keep_screenshot


def _report(tmp_path):
    rows = [{"dialogue": f"#Person1#: Tea at {i}?\n#Person2#: Sure.", "summary": f"They plan tea at {i}."}
            for i in range(4)]
    for name in ("train", "test"):
        (tmp_path / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    cfg = FinetuneConfig()
    cfg.data.source, cfg.data.test = str(tmp_path / "train.jsonl"), str(tmp_path / "test.jsonl")
    cfg.evaluation.max_new_tokens = 8
    test = load_split_rows(cfg.data, cfg.training.seed)["test"][0]
    samples = [{"id": test[0].id, "reference": test[0].reference, "before": "They plan tea.", "after": ""},
               {"id": test[1].id, "reference": test[1].reference, "before": "Tea at one.", "after": "Tea."}]
    run = tmp_path / "run"
    run.mkdir()
    return str(run), {"config": cfg.to_dict(), "method": {"name": "lora"}, "training": {"steps": 4},
                      "rouge": {"samples": samples, "test_examples": 2}}


def _panel(qtbot, ctx):
    from playground.qt.finetune import FinetunePanel
    from tests.qt.shown import shown

    return shown(qtbot, FinetunePanel(ctx))


def test_an_empty_summary_says_why(qtbot, context_with_tiny_llama, tiny_llama, tmp_path):
    panel = _panel(qtbot, context_with_tiny_llama)
    page = panel.result_page
    run_dir, report = _report(tmp_path)
    trained = biased(tiny_llama, "<|im_end|>")  # a fine-tuned model that ends every reply at once
    panel.show_result(run_dir, report, trained)  # as a finished run shows its result
    qtbot.waitUntil(lambda: "ended at once" in page.samples.item(0, 2).text(), timeout=30000)
    cell = page.samples.item(0, 2)
    assert cell.text().startswith("(empty") and "<|im_end|>" in cell.toolTip()
    assert page.samples.item(1, 2).text() == "Tea."  # a summary with text is shown as it is
    qtbot.waitUntil(lambda: panel.go_to(4), timeout=30000)  # the Result step, once the Data step has read its data
    keep_screenshot(panel, "finetune-result-empty-why.png")


def test_without_the_model_it_says_what_empty_can_mean(qtbot, context_with_tiny_llama, tmp_path):
    page = _panel(qtbot, context_with_tiny_llama).result_page
    run_dir, report = _report(tmp_path)
    page.show_result(run_dir, report)  # a run opened from the list: its model is not in memory
    cell = page.samples.item(0, 2)
    assert cell.text().startswith("(empty")
    note = page.empty_note.text()
    assert "ended at once" in note and "special tokens" in note and "8 new tokens" in note
    assert "Use in playground" in note  # how to find out which

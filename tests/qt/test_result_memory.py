"""The Result page says what each memory figure counts (issue 29, item 2: "LoRA estimate 1.3 GB vs
measured peak 6.0 GB"). The peak was the whole process's resident size (Python, Qt, the libraries,
the app's own model, the data, the base model's summaries) while the estimate counts training
tensors only; a run now also records the like-for-like figure (the weights plus what the training
steps added) and the estimate at the run's own settings, and the page names what each counts."""

from __future__ import annotations

import json

import pytest

from playground.core.finetune.memory import estimate_training_memory, format_bytes


@pytest.fixture(scope="module")
def tiny_run(tiny_llama_dir, tmp_path_factory):
    from playground.core.finetune import DoneEvent, FinetuneConfig, run_finetune

    data = tmp_path_factory.mktemp("dialogues")
    rows = [{"dialogue": f"#Person1#: Lunch at {i % 3 + 1}?\n#Person2#: Fine, see you.",
             "summary": "They agree to meet for lunch."} for i in range(8)]
    (data / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    cfg = FinetuneConfig()
    cfg.model.source, cfg.model.device = str(tiny_llama_dir), "cpu"
    cfg.data.source, cfg.data.max_length = str(data / "train.jsonl"), 96
    cfg.method.name = "lora"
    cfg.model.precision = "no"  # FP32, which the estimate below is computed at (auto is BF16 on a CPU with it)
    t = cfg.training
    t.max_steps, t.micro_batch_size, t.gradient_accumulation_steps, t.eval_every, t.save_every = 2, 2, 1, 0, 0
    cfg.evaluation.test_examples, cfg.evaluation.before = 0, False
    cfg.output.dir = str(tmp_path_factory.mktemp("out") / "run")
    done = [e for e in run_finetune(cfg) if isinstance(e, DoneEvent)][0]
    return done, cfg


def test_a_run_records_the_like_for_like_figure_and_the_estimate_at_its_settings(tiny_run):
    done, cfg = tiny_run
    m = done.report["training"]["memory"]
    assert m["device"] == "cpu"
    weights = sum(p.numel() * p.element_size() for p in done.model.parameters())
    assert m["weights_bytes"] == weights
    assert m["training_bytes"] == weights + m["steps_added_bytes"]  # what the estimate counts
    assert m["process_peak_bytes"] >= m["training_bytes"] - weights  # the process holds far more
    # the estimate at the run's own settings: its micro-batch and its longest example
    from dataclasses import replace

    from playground.core.finetune.memory import ModelShape

    base = done.model.get_base_model()
    shape = replace(ModelShape.from_model(base, done.report["method"]["target_modules"]),
                    parameters=done.report["method"]["total_parameters"] - done.report["method"]["trainable_parameters"])
    assert m["estimate_batch"] == 2 and 0 < m["estimate_tokens"] <= 96
    same = [k for k in range(1, m["estimate_tokens"] + 1)  # the loss reads the summary's positions only
            if estimate_training_memory(shape, "lora", "float32", 2, m["estimate_tokens"], lora_rank=cfg.method.lora.rank,
                                        loss_tokens=k).total == m["estimate_bytes"]]
    assert same and same[0] < m["estimate_tokens"]


def test_the_result_page_names_what_each_memory_figure_counts(qtbot, context_with_tiny_llama, tiny_run, tmp_path,
                                                             monkeypatch):
    from playground.core.finetune import runs
    from playground.qt.finetune import FinetunePanel

    monkeypatch.setattr(runs, "runs_root", lambda: tmp_path / "runs")
    panel = FinetunePanel(context_with_tiny_llama)
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: panel.data_page.preview is not None, timeout=60_000)
    done, _ = tiny_run
    m = done.report["training"]["memory"]
    page = panel.result_page
    page.show_result(done.run_dir, done.report)
    text = page.summary_label.text()
    for words in ("Training itself", format_bytes(m["training_bytes"]), f"the weights ({format_bytes(m['weights_bytes'])})",
                  "the training steps added", "gradients, AdamW states, activations",
                  "the Method step's estimate counts the same things", format_bytes(m["estimate_bytes"]),
                  f"The process peaked at {format_bytes(m['process_peak_bytes'])}", "Python and the libraries",
                  "none of which the estimate counts"):
        assert words in text, (words, text)
    assert "Training itself" in (done.run_dir and open(f"{done.run_dir}/report.md", encoding="utf-8").read())

    # a report written before these figures: its one peak is said to be the whole process's
    old = json.loads(json.dumps(done.report))
    del old["training"]["memory"]
    old["training"]["peak_memory_bytes"] = 6 * 2**30
    page.show_result(done.run_dir, old)
    text = page.summary_label.text()
    assert "Peak memory 6.00 GiB: the whole process" in text and "not only the training tensors" in text

"""`playground bench`: the table it prints equals what the core computes; bad input in plain words."""

from __future__ import annotations

import json
import re

import pytest

from playground.cli.main import main


def test_bench_prints_base_and_adapter_rows_as_the_core_computes(tiny_llama, tiny_llama_dir, lora_run_and_model,
                                                               capsys):
    from playground.core.evaluation.benchmark import bundled_benchmark
    from playground.core.evaluation.benchmark_report import accuracy_text
    from playground.core.evaluation.benchmark_run import BenchSystem, ItemResult, run_benchmarks, summarize

    run_dir, _ = lora_run_and_model
    args = ["bench", "--tasks", "knowledge,reading", "--limit", "3", "--shots", "1", "--adapter", str(run_dir),
            "--model", str(tiny_llama_dir), "--device", "cpu"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "base, 1-shot" in out and "lora-run-3 (adapter), 1-shot" in out
    assert "Reading comprehension" in out and "chance %" in out and "Wilson" in out
    assert "seen in training says nothing" in out
    benches = [bundled_benchmark(k).head(3) for k in ("knowledge", "reading")]
    summary = summarize([r for r in run_benchmarks(tiny_llama, benches, [BenchSystem("base", 1)])
                         if isinstance(r, ItemResult)])
    for acc in summary.values():  # the base rows, as the core scores them
        assert accuracy_text(acc.acc, acc.interval) in out
    rows = [line for line in out.splitlines() if re.match(r"(base|lora-run-3 \(adapter\)), 1-shot {2,}", line)]
    assert len(rows) == 4  # two systems x two benchmarks


def test_bench_json_on_a_file_of_ones_own(tiny_llama_dir, tmp_path, capsys):
    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps({"context": "Question: 2 + 2?\nAnswer:", "choices": ["4", "5", "22"], "gold": 0})
                    + "\n", encoding="utf-8")
    assert main(["bench", "--tasks", str(path), "--json", "--model", str(tiny_llama_dir), "--device", "cpu"]) == 0
    data = json.loads(capsys.readouterr().out)
    row = data["results"][0]
    assert row["benchmark"] == "mine" and row["n"] == 1 and row["chance"] == pytest.approx(1 / 3)
    assert data["provenance"]["base, 0-shot"]["adapter"] == "base"


@pytest.mark.bad_input("playground bench with an unknown task or a bad file")
def test_bench_refuses_unknown_tasks_and_bad_files(tmp_path, capsys, bad_input):
    assert main(["bench", "--tasks", "mmlu"]) == 2
    err = capsys.readouterr().err
    assert "There is no benchmark 'mmlu'" in err
    bad_input(err)
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"context": "c", "choices": ["a", "b"], "gold": 5}) + "\n", encoding="utf-8")
    assert main(["bench", "--tasks", str(path)]) == 2
    assert "gold index 5 is out of range" in capsys.readouterr().err
    assert main(["bench", "--shots", "11"]) == 2
    assert "out of range" in capsys.readouterr().err

import json

import numpy as np
from rouge_score import rouge_scorer

from playground.cli.main import main

PREDS = ["Tom will meet Anna on Friday.", "The shop closes at nine.", "They argue about money."]
REFS = ["Tom and Anna meet on Friday at the station.", "The shop is closed at nine tonight.",
        "They talk about the rent."]


def write_lines(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_rouge_command_prints_rouge_score_numbers(tmp_path, capsys):
    p = write_lines(tmp_path / "p.txt", PREDS)
    r = write_lines(tmp_path / "r.txt", REFS)
    assert main(["rouge", "--predictions", str(p), "--references", str(r)]) == 0
    out = capsys.readouterr().out
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    direct = [scorer.score(ref, pred) for pred, ref in zip(PREDS, REFS)]
    for key in ("rouge1", "rouge2", "rougeL"):
        assert f"{100 * np.mean([d[key].fmeasure for d in direct]):.1f} [" in out  # the app's one 0-100 scale
    assert "ROUGE-Lsum" in out and "BLEU" in out and "95% bootstrap" in out
    assert "tokenizer default" in out


def test_rouge_command_reads_jsonl_fields(tmp_path, capsys):
    p = tmp_path / "p.jsonl"
    p.write_text("".join(json.dumps({"id": i, "pred": t}) + "\n" for i, t in enumerate(PREDS)), encoding="utf-8")
    r = tmp_path / "r.jsonl"
    r.write_text("".join(json.dumps({"id": i, "summary": t, "topic": "x"}) + "\n" for i, t in enumerate(REFS)),
                 encoding="utf-8")
    code = main(["rouge", "--predictions", str(p), "--references", str(r), "--predictions-field", "pred",
                 "--references-field", "summary", "--tokenizer", "unicode", "--bootstrap", "0"])
    assert code == 0
    out = capsys.readouterr().out
    assert "tokenizer unicode" in out and "[" not in out.splitlines()[2]


def test_rouge_command_bad_inputs(tmp_path, capsys):
    p = write_lines(tmp_path / "p.txt", PREDS)
    short = write_lines(tmp_path / "r.txt", REFS[:2])
    assert main(["rouge", "--predictions", str(p), "--references", str(short)]) == 2
    assert "3 predictions but 2 references" in capsys.readouterr().err
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Café\nthé\nlait\n".encode("latin-1"))
    assert main(["rouge", "--predictions", str(latin), "--references", str(p)]) == 2
    assert "not UTF-8" in capsys.readouterr().err
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    assert main(["rouge", "--predictions", str(empty), "--references", str(p)]) == 2
    assert "is empty" in capsys.readouterr().err
    jl = tmp_path / "x.jsonl"
    jl.write_text('{"a": "x", "b": "y"}\n', encoding="utf-8")
    assert main(["rouge", "--predictions", str(jl), "--references", str(p), "--field", "text"]) == 2
    err = capsys.readouterr().err
    assert "no column named 'text'" in err and "'a', 'b'" in err


def test_evaluate_command_on_a_user_file(tmp_path, tiny_llama_dir, capsys):
    data = tmp_path / "d.jsonl"
    rows = [{"id": f"d{i}", "dialogue": f"#Person1#: Lunch at {i}?\n#Person2#: Sure.", "summary": f"Lunch at {i}."}
            for i in range(3)]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out_csv, out_html = tmp_path / "r.csv", tmp_path / "r.html"
    code = main(["evaluate", "--data", str(data), "--limit", "2", "--model", str(tiny_llama_dir),
                 "--device", "cpu", "--max-new-tokens", "4", "--csv", str(out_csv), "--html", str(out_html)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "zero-shot" in captured.out and "ROUGE-1" in captured.out
    assert "2/2 examples" in captured.err
    import csv

    rows = list(csv.reader(out_csv.open(encoding="utf-8", newline="")))
    assert [r[0] for r in rows] == ["id", "d0", "d1"]
    assert "<svg" in out_html.read_text(encoding="utf-8")


def test_evaluate_command_on_the_bundled_split(tiny_t5_dir, capsys):
    code = main(["evaluate", "--split", "test", "--limit", "2", "--model", str(tiny_t5_dir),
                 "--device", "cpu", "--max-new-tokens", "3"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "zero-shot" in captured.out and "dialogues/test: 2 examples" in captured.err
    # One worked example doubles the prompt: past this model's 512-token window, a plain refusal.
    code = main(["evaluate", "--split", "test", "--limit", "2", "--shots", "1", "--model", str(tiny_t5_dir),
                 "--device", "cpu", "--max-new-tokens", "3"])
    err = capsys.readouterr().err
    assert code == 2 and "context window is 512 tokens" in err


def test_evaluate_command_bad_inputs(tmp_path, tiny_llama_dir, capsys):
    assert main(["evaluate", "--adapter", str(tmp_path), "--model", str(tiny_llama_dir), "--limit", "1",
                 "--data", str(write_lines(tmp_path / "x.csv", ["dialogue,summary", "a,b"]))]) == 2
    assert "not an adapter folder" in capsys.readouterr().err
    assert main(["evaluate", "--adapter", str(tmp_path), "--shots", "2"]) == 2
    assert "zero-shot" in capsys.readouterr().err
    empty = write_lines(tmp_path / "empty.csv", ["dialogue,summary"])
    assert main(["evaluate", "--data", str(empty), "--model", str(tiny_llama_dir)]) == 2
    assert "has no rows" in capsys.readouterr().err


def test_evaluate_adapter_prints_the_base_row_beside_it_with_each_model_named(tmp_path, tiny_llama, tiny_llama_dir,
                                                                             capsys):
    import copy

    import torch
    from peft import LoraConfig, get_peft_model

    from playground.core.finetune.config import FinetuneConfig

    torch.manual_seed(1)
    model = get_peft_model(copy.deepcopy(tiny_llama.model),
                           LoraConfig(r=4, lora_alpha=64, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    run = tmp_path / "lora-run-3"
    model.save_pretrained(str(run / "adapter"))
    cfg = FinetuneConfig()
    cfg.data.template = "tldr"
    cfg.data.use_chat_template = False  # not the default: the run's own prompt must win over it
    (run / "job.toml").write_text(cfg.to_toml(), encoding="utf-8")
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"id": "d0", "dialogue": "#Person1#: Lunch?\n#Person2#: Sure.", "summary": "Lunch."})
                    + "\n", encoding="utf-8")
    code = main(["evaluate", "--data", str(data), "--limit", "1", "--model", str(tiny_llama_dir), "--device", "cpu",
                 "--max-new-tokens", "3", "--adapter", str(run / "adapter")])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    rows = [line.split()[0] for line in captured.out.splitlines() if line.startswith(("zero-shot", "adapter"))]
    assert rows[:2] == ["zero-shot", "adapter"]
    assert "adapter lora-run-3" in captured.out and "adapter adapter" not in captured.out
    assert "(base model, no adapter)" in captured.out and "+ lora-run-3" in captured.out
    assert "template 'tldr', chat template off" in captured.err  # the run's own training prompt

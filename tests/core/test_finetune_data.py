"""Fine-tuning data: templates, reading files with a column mapping, bad rows, tokens and labels."""

from __future__ import annotations

import json

import pytest

from playground.core.errors import InputError
from playground.core.finetune.config import DataConfig, FinetuneConfig, load_config
from playground.core.finetune.dataset import IGNORE, ExampleEncoder, prepare_data
from playground.core.finetune.records import read_records
from playground.core.templates import TEMPLATES, render_example, render_prompt, resolve_template

COLS = {"dialogue": "dialogue", "summary": "summary"}


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def dialogues(n, start=0):
    return [{"id": i, "dialogue": f"#Person1#: Shall we meet at {i}?\n#Person2#: Yes, at {i}.",
             "summary": f"They meet at {i}."} for i in range(start, start + n)]


# --- templates -----------------------------------------------------------------------------------

def test_templates_render_and_move_the_trailing_space_to_the_completion():
    prompt, completion = render_example("instruction", "A: hi", "They greet.")
    assert prompt == "Summarize the following conversation.\n\nA: hi\n\nSummary:"
    assert completion == " They greet."
    assert render_prompt("instruction", "A: hi") == prompt  # inference sees the training prompt
    assert all("{dialogue}" in t for t in TEMPLATES.values())


def test_custom_template_with_summary_field_and_bad_templates():
    prompt, completion = render_example("Talk: {dialogue}\nGist: {summary} <end>", "x", "y")
    assert (prompt, completion) == ("Talk: x\nGist:", " y <end>")
    with pytest.raises(InputError, match="neither a known name"):
        resolve_template("no-such-template")
    with pytest.raises(InputError, match="field"):
        resolve_template("{dialogue} {speaker}")


# --- reading files -------------------------------------------------------------------------------

def test_corrupted_jsonl_row_is_reported_by_line(tmp_path):
    path = tmp_path / "d.jsonl"
    lines = [json.dumps(r) for r in dialogues(4)]
    lines[2] = '{"dialogue": "A: hi", "summary": "cut off'
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"Line 3 of d.jsonl is not valid JSON"):
        read_records(path, COLS)


def test_missing_column_names_the_columns_found(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"text": "A: hi", "label": "hello"}])
    with pytest.raises(InputError, match=r"no column 'dialogue'.*columns found: text, label"):
        read_records(path, COLS)
    res = read_records(path, {"dialogue": "text", "summary": "label"})
    assert [r.fields for r in res.records] == [{"dialogue": "A: hi", "summary": "hello"}]


def test_empty_rows_are_skipped_and_counted(tmp_path):
    rows = dialogues(3)
    rows.insert(1, {"dialogue": "  ", "summary": "x"})
    rows.insert(3, {"dialogue": "A: hi", "summary": None})
    res = read_records(write_jsonl(tmp_path / "d.jsonl", rows), COLS)
    assert len(res.records) == 3
    assert res.empty_lines == [2, 4]
    assert [r.line for r in res.records] == [1, 3, 5]


def test_non_utf8_file_is_refused_with_its_line(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(b"dialogue,summary\nA: hi,hello\nA: caf\xe9,coffee\n")
    with pytest.raises(InputError, match=r"Line 3 of d.csv is not UTF-8") as err:
        read_records(path, COLS)
    assert "UTF-8" in err.value.hint


def test_csv_with_quoted_newlines_and_a_broken_row(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text('dialogue,summary\n"A: hi\nB: hello",They greet.\n"A: bye",They part.\n', encoding="utf-8")
    res = read_records(path, COLS)
    assert [r.fields["dialogue"] for r in res.records] == ["A: hi\nB: hello", "A: bye"]
    assert [r.line for r in res.records] == [2, 4]
    path.write_text("dialogue,summary\nA: hi,hello\nA: x,y,z\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"Line 3 of d.csv has 3 fields"):
        read_records(path, COLS)


def test_parquet_with_a_column_mapping(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"conv": ["A: hi", "", "A: yo"], "gist": ["greet", "x", "yo"], "n": [1, 2, 3]}), path)
    res = read_records(path, {"dialogue": "conv", "summary": "gist"})
    assert [r.fields["summary"] for r in res.records] == ["greet", "yo"]
    assert res.skipped_empty == 1
    with pytest.raises(InputError, match="no column 'dialogue'"):
        read_records(path, COLS)


# --- tokens and labels ---------------------------------------------------------------------------

def test_labels_mask_the_prompt_and_end_with_eos(bundled_tokenizer):
    tok = bundled_tokenizer
    enc = ExampleEncoder(tok, "instruction", 512, "truncate_dialogue")
    ex, status = enc.encode("#Person1#: Hello there.", "They greet.")
    assert status == "ok"
    prompt, completion = render_example("instruction", "#Person1#: Hello there.", "They greet.")
    comp_ids = tok(completion, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    assert ex.labels[: ex.prompt_len] == [IGNORE] * ex.prompt_len
    assert ex.labels[ex.prompt_len:] == comp_ids == ex.input_ids[ex.prompt_len:]
    assert tok.decode(ex.prompt_ids) == prompt


def test_truncation_policy_cuts_the_dialogue_or_drops(bundled_tokenizer, tmp_path):
    long = {"dialogue": " ".join(["#Person1#: this is a long turn."] * 40), "summary": "Long talk."}
    rows = dialogues(6) + [long]
    write_jsonl(tmp_path / "train.jsonl", rows)
    cfg = DataConfig(source=str(tmp_path / "train.jsonl"), validation_fraction=0.0, test_fraction=0.0,
                     max_length=64, truncation="truncate_dialogue")
    data = prepare_data(cfg, bundled_tokenizer, encoder_decoder=False)
    assert data.stats["train"].truncated == 1 and len(data.train) == 7
    cut = max(data.train, key=lambda e: e.prompt_len)
    assert len(cut.input_ids) <= 64
    assert bundled_tokenizer.decode(cut.prompt_ids).endswith("\n\nSummary:")  # the cue survives the cut
    cfg.truncation = "drop"
    data = prepare_data(cfg, bundled_tokenizer, encoder_decoder=False)
    assert data.stats["train"].dropped_too_long == 1 and data.stats["train"].dropped_lines == [7]
    assert len(data.train) == 6


def test_one_file_is_split_reproducibly_and_stats_are_counted(bundled_tokenizer, tmp_path):
    rows = dialogues(20)
    rows.insert(5, {"dialogue": "", "summary": "nothing"})
    write_jsonl(tmp_path / "all.jsonl", rows)
    cfg = DataConfig(source=str(tmp_path / "all.jsonl"), validation_fraction=0.2, test_fraction=0.1)
    a = prepare_data(cfg, bundled_tokenizer, False, seed=3)
    b = prepare_data(cfg, bundled_tokenizer, False, seed=3)
    assert (len(a.train), len(a.validation), len(a.test)) == (14, 4, 2)
    assert [e.line for e in a.train] == [e.line for e in b.train]
    lines = {e.line for e in a.train} | {e.line for e in a.validation} | {e.line for e in a.test}
    assert len(lines) == 20 and 6 not in lines
    assert a.stats["train"].skipped_empty == 1
    st = a.stats["train"].total_tokens
    assert st["min"] <= st["median"] <= st["p95"] <= st["max"] and st["sum"] == sum(len(e.input_ids) for e in a.train)


def test_no_usable_training_rows_is_a_plain_error(bundled_tokenizer, tmp_path):
    write_jsonl(tmp_path / "t.jsonl", [{"dialogue": "", "summary": "x"}] * 3)
    cfg = DataConfig(source=str(tmp_path / "t.jsonl"), validation_fraction=0.0, test_fraction=0.0)
    with pytest.raises(InputError, match="No usable training examples.*3 empty rows"):
        prepare_data(cfg, bundled_tokenizer, False)


# --- the job file --------------------------------------------------------------------------------

def test_config_round_trips_through_toml_and_resolves_relative_paths(tmp_path):
    cfg = FinetuneConfig()
    cfg.method.name = "prompt_tuning"
    cfg.method.lora.target_modules = ["q_proj", "v_proj"]
    cfg.data.source = "data/my file.jsonl"
    cfg.data.template = 'Say "{dialogue}"\n'
    cfg.training.learning_rate = 0.01
    (tmp_path / "job.toml").write_text(cfg.to_toml(), encoding="utf-8")
    back = load_config(tmp_path / "job.toml")
    assert back.data.source == str(tmp_path / "data" / "my file.jsonl")
    assert back.output.dir == str(tmp_path / "runs" / "finetune")
    back.data.source, back.output.dir = cfg.data.source, cfg.output.dir
    assert back.to_dict() == cfg.to_dict()


def test_config_refuses_unknown_keys_and_wrong_types(tmp_path):
    path = tmp_path / "job.toml"
    path.write_text("[training]\nlearnig_rate = 0.1\n", encoding="utf-8")
    with pytest.raises(InputError, match="Unknown setting 'training.learnig_rate'"):
        load_config(path)
    path.write_text("[training]\nmax_steps = \"ten\"\n", encoding="utf-8")
    with pytest.raises(InputError, match="'training.max_steps'.*wrong type"):
        load_config(path)
    path.write_text("[method]\nname = \"qlora\"\n", encoding="utf-8")
    with pytest.raises(InputError, match="method.name must be one of"):
        load_config(path)

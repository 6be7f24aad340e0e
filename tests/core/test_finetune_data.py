"""Fine-tuning data: templates, reading files with a column mapping, bad rows, tokens and labels."""

from __future__ import annotations

import json

import pytest

from playground.core.evaluation.datasets import Example as Row
from playground.core.base.errors import InputError
from playground.core.finetune.config import DataConfig, FinetuneConfig, load_config
from playground.core.finetune.dataset import IGNORE, ExampleEncoder
from playground.core.finetune.prepare import load_split_rows, prepare_data
from playground.core.decoding.generation import prompt_token_ids
from playground.core.prompting.prompts import assemble, completion_text


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def dialogues(n, start=0):
    return [{"id": i, "dialogue": f"#Person1#: Shall we meet at {i}?\n#Person2#: Yes, at {i}.",
             "summary": f"They meet at {i}."} for i in range(start, start + n)]


# --- templates (the prompt lab's) ------------------------------------------------------------------

def test_training_prompt_is_the_prompt_labs_and_the_space_moves_to_the_completion():
    prompt = assemble("A: hi", (), "instruction").text
    assert prompt == "Summarize the following conversation.\n\nA: hi\n\nSummary:"
    assert completion_text("They greet.", "instruction") == " They greet."
    assert completion_text("They greet.", "flan") == "They greet."
    assert completion_text(" y ", "Talk: {dialogue}\nGist: {summary} <end>") == " y <end>"
    assert completion_text("They greet.", "instruction", chat=True) == "They greet."


def test_a_bad_template_is_refused_by_the_job(tmp_path):
    path = tmp_path / "job.toml"
    path.write_text('[data]\ntemplate = "no-such-template"\n', encoding="utf-8")
    with pytest.raises(InputError, match="data.template.*no \\{dialogue\\} placeholder"):
        load_config(path)


# --- reading files (through core.datasets) ---------------------------------------------------------

def test_corrupted_rows_are_reported_by_line(tmp_path):
    path = tmp_path / "d.jsonl"
    lines = [json.dumps(r) for r in dialogues(4)]
    lines[2] = '{"dialogue": "A: hi", "summary": "cut off'
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cfg = DataConfig(source=str(path))
    with pytest.raises(InputError, match=r"Line 3 of d.jsonl is not valid JSON"):
        load_split_rows(cfg, 0)
    csv_path = tmp_path / "d.csv"
    csv_path.write_text('dialogue,summary\n"A: hi\nB: hello",They greet.\nA: x,y,z\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"Line 4 of d.csv has 3 fields but the header has 2"):
        load_split_rows(DataConfig(source=str(csv_path)), 0)


def test_missing_column_names_the_columns_found_and_a_mapping_fixes_it(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"conv": "A: hi", "gist": "hello"}] * 4)
    cfg = DataConfig(source=str(path), validation_fraction=0.0, test_fraction=0.0,
                     columns={"dialogue": "dialogue", "summary": "gist"})
    with pytest.raises(InputError, match=r"no column named 'dialogue'. Its columns are: 'conv', 'gist'"):
        load_split_rows(cfg, 0)
    cfg.columns = {"dialogue": "conv", "summary": "gist"}
    rows = load_split_rows(cfg, 0)["train"][0]
    assert [(r.input, r.reference) for r in rows] == [("A: hi", "hello")] * 4


def test_empty_rows_are_skipped_and_counted_by_line(tmp_path):
    rows = dialogues(3)
    rows.insert(1, {"dialogue": "  ", "summary": "x"})
    rows.insert(3, {"dialogue": "A: hi", "summary": None})
    cfg = DataConfig(source=str(write_jsonl(tmp_path / "d.jsonl", rows)), validation_fraction=0.0,
                     test_fraction=0.0)
    train, empty, _ = load_split_rows(cfg, 0)["train"]
    assert len(train) == 3 and empty == [2, 4]
    assert [r.line for r in train] == [1, 3, 5]


def test_non_utf8_file_is_refused_in_plain_words(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(b"dialogue,summary\nA: hi,hello\nA: caf\xe9,coffee\n")
    with pytest.raises(InputError, match=r"d.csv is not UTF-8 text") as err:
        load_split_rows(DataConfig(source=str(path)), 0)
    assert "UTF-8" in err.value.hint


def test_parquet_with_a_column_mapping_and_an_empty_cell(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"conv": ["A: hi", "", "A: yo"], "gist": ["greet", "x", "yo"], "n": [1, 2, 3]}), path)
    cfg = DataConfig(source=str(path), validation_fraction=0.0, test_fraction=0.0,
                     columns={"dialogue": "conv", "summary": "gist"})
    train, empty, _ = load_split_rows(cfg, 0)["train"]
    assert [r.reference for r in train] == ["greet", "yo"] and empty == [2]


def test_the_bundled_dialogues_come_with_their_splits():
    splits = load_split_rows(DataConfig(source="bundled"), 0)
    assert {k: len(v[0]) for k, v in splits.items()} == {"train": 240, "validation": 30, "test": 60}


# --- tokens and labels ---------------------------------------------------------------------------

def row(dialogue, summary, line=1):
    return Row(id=str(line), input=dialogue, reference=summary, line=line)


@pytest.mark.parametrize("template", ["instruction", "flan", "tldr"])
def test_the_prompt_tokens_are_the_ones_generation_sees_and_labels_mask_them(bundled_tokenizer, template):
    tok = bundled_tokenizer
    dialogue = "#Person1#: Hello there.\n#Person2#: Hi, Sam."
    ex, status = ExampleEncoder(tok, template, 512, "truncate_dialogue").encode(row(dialogue, "They greet."))
    assert status == "ok"
    # Exactly what the evaluation core generates from (tokenizing the prompt in pieces would
    # split "\n\n#" differently for the instruction template).
    assert ex.prompt_ids == prompt_token_ids(tok, assemble(dialogue, (), template).text)
    comp_ids = tok(completion_text("They greet.", template), add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    assert ex.labels[: ex.prompt_len] == [IGNORE] * ex.prompt_len
    assert ex.labels[ex.prompt_len:] == comp_ids == ex.input_ids[ex.prompt_len:]


def test_with_the_chat_template_the_summary_is_the_assistant_turn(bundled_tokenizer):
    tok = bundled_tokenizer
    enc = ExampleEncoder(tok, "instruction", 512, "truncate_dialogue", use_chat_template=True)
    ex, _ = enc.encode(row("#Person1#: Hello there.", "They greet."))
    prompt = tok.decode(ex.prompt_ids)
    assert prompt.startswith("<|im_start|>") and prompt.endswith("<|im_start|>assistant\n")
    assert tok.decode(ex.input_ids[ex.prompt_len:]) == "They greet.<|im_end|>"


def test_truncation_policy_cuts_the_dialogue_or_drops(bundled_tokenizer, tmp_path):
    long = {"dialogue": " ".join(["#Person1#: this is a long turn."] * 40), "summary": "Long talk."}
    rows = dialogues(6) + [long]
    write_jsonl(tmp_path / "train.jsonl", rows)
    cfg = DataConfig(source=str(tmp_path / "train.jsonl"), validation_fraction=0.0, test_fraction=0.0,
                     max_length=64, truncation="truncate_dialogue", use_chat_template=False)  # a plain prompt
    data = prepare_data(cfg, bundled_tokenizer, encoder_decoder=False)
    assert data.stats["train"].truncated == 1 and len(data.train) == 7
    cut = max(data.train, key=lambda e: e.prompt_len)
    assert len(cut.input_ids) <= 64
    assert bundled_tokenizer.decode(cut.prompt_ids).endswith("\n\nSummary:")  # the cue survives the cut
    assert cut.row.input != long["dialogue"] and long["dialogue"].startswith(cut.row.input)
    # The cut dialogue is what generation is asked to summarize: the same tokens again.
    assert prompt_token_ids(bundled_tokenizer, assemble(cut.row.input, (), "instruction").text) == cut.prompt_ids
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

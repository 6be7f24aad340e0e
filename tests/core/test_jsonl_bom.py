"""Issue 29, item 17: one JSONL reader for every JSONL file, and it accepts a UTF-8 byte-order mark
(what Windows editors write) the same for preference pairs, training data and evaluation data."""

from __future__ import annotations

import json

import pytest

from playground.core.base.errors import InputError

BOM = "\ufeff"


def _write(path, rows, bom=True):
    path.write_text((BOM if bom else "") + "".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_preference_pairs_with_a_bom_load(tmp_path):
    from playground.core.align.preferences import load_preferences

    rows = [{"prompt": f"p{i}", "chosen": "a good summary", "rejected": f"bad {i}"} for i in range(3)]
    pairs = load_preferences(_write(tmp_path / "pairs.jsonl", rows))
    assert [p.prompt for p in pairs] == ["p0", "p1", "p2"]


def test_training_and_evaluation_data_with_a_bom_load(tmp_path):
    from playground.core.evaluation.datasets import load_table, read_jsonl

    rows = [{"dialogue": f"#Person1#: hi {i}", "summary": "They greet."} for i in range(2)]
    path = _write(tmp_path / "d.jsonl", rows)
    assert read_jsonl(path) == rows  # the first key is "dialogue", not "\ufeffdialogue"
    assert [e.input for e in load_table(path).examples] == ["#Person1#: hi 0", "#Person1#: hi 1"]


@pytest.mark.bad_input("a JSONL file with a BOM and a broken line (preference pairs and data alike)")
def test_a_broken_line_after_a_bom_is_named_the_same_by_every_reader(tmp_path, bad_input):
    from playground.core.align.preferences import load_preferences
    from playground.core.evaluation.datasets import load_table

    path = tmp_path / "x.jsonl"
    path.write_text(BOM + '{"prompt": "p", "chosen": "a", "rejected": "b"}\n{"prompt": \n', encoding="utf-8")
    with pytest.raises(InputError) as pairs_err:
        load_preferences(path)
    bad_input(pairs_err.value)
    assert pairs_err.value.message.startswith("Line 2 of x.jsonl is not valid JSON")
    assert "prompt, chosen and rejected" in pairs_err.value.hint
    with pytest.raises(InputError) as data_err:
        load_table(path)
    assert data_err.value.message == pairs_err.value.message

"""A blank reference is refused with where it is, never scored 0 and averaged in (issue 20, item 3)."""

from __future__ import annotations

import json

import pytest

from playground.cli.main import main
from playground.core.evaluation.datasets import load_table
from playground.core.base.errors import InputError
from playground.core.evaluation.metrics import bleu, rouge, score_predictions


@pytest.mark.bad_input("evaluate: a JSONL row whose reference is \"\"")
def test_a_blank_jsonl_reference_is_refused_with_its_line(tmp_path, bad_input):
    rows = [{"dialogue": "A: hi", "summary": "They greet."}, {"dialogue": "B: bye", "summary": "  "},
            {"dialogue": "C: yes", "summary": "They agree."}]
    f = tmp_path / "data.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_table(f)
    bad_input(err.value)
    assert "Row 2 of data.jsonl (line 2)" in err.value.message and "blank reference" in err.value.message
    assert len(load_table(f, skip_empty=True).examples) == 2  # training data skips it, and counts it


@pytest.mark.bad_input("evaluate: a CSV file with an empty reference cell")
def test_an_empty_csv_cell_is_refused(tmp_path, bad_input):
    f = tmp_path / "data.csv"
    f.write_text("dialogue,summary\nA: hi,They greet.\nB: bye,\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_table(f)
    bad_input(err.value)
    assert "Row 2 of data.csv (line 3)" in err.value.message


@pytest.mark.bad_input("scoring: one reference of three is blank")
@pytest.mark.parametrize("score", [rouge, bleu, lambda p, r: score_predictions(p, r, n_resamples=10)])
def test_a_blank_reference_is_not_scored_zero(score, bad_input):
    preds = ["They greet.", "They part.", "They agree."]
    with pytest.raises(InputError) as err:
        score(preds, ["They greet.", "", "They agree."])
    bad_input(err.value)
    assert "1 of the 3 references is blank (position 2)" in err.value.message


@pytest.mark.bad_input("playground rouge: a blank line in the references file")
def test_the_rouge_command_refuses_a_blank_reference_line(tmp_path, capsys, bad_input):
    (tmp_path / "p.txt").write_text("a b\nc d\ne f\n", encoding="utf-8")
    (tmp_path / "r.txt").write_text("a b\n\ne f\n", encoding="utf-8")
    assert main(["rouge", "--predictions", str(tmp_path / "p.txt"), "--references", str(tmp_path / "r.txt")]) == 2
    err = capsys.readouterr().err
    bad_input(err)
    assert "blank (position 2)" in err and "ROUGE-1" not in err

"""The bundled dialogue dataset: parses, meets the size floor, no duplicates, valid turns."""

import importlib.util
import json
import re

import pytest

from playground.core.evaluation.datasets import SPLITS, count_turns, dialogues_dir, load_split

FLOOR = {"train": 220, "validation": 30, "test": 50}
TURN_LINE = re.compile(r"^#Person(\d+)#: \S")


def raw_rows(split):
    lines = (dialogues_dir() / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


@pytest.mark.parametrize("split", SPLITS)
def test_split_parses_and_meets_the_floor(split):
    rows = raw_rows(split)
    assert len(rows) >= FLOOR[split]
    for r in rows:
        assert set(r) == {"id", "dialogue", "summary", "topic"}, r.get("id")
        assert all(isinstance(r[k], str) and r[k].strip() for k in r), r["id"]
    data = load_split(split)
    assert len(data) == len(rows)
    assert data.examples[0].input == rows[0]["dialogue"] and data.examples[0].reference == rows[0]["summary"]


def test_ids_unique_and_no_dialogue_repeats():
    rows = [r for s in SPLITS for r in raw_rows(s)]
    assert len(rows) >= 300
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids))
    normal = [" ".join(r["dialogue"].lower().split()) for r in rows]
    assert len(normal) == len(set(normal))
    summaries = [" ".join(r["summary"].lower().split()) for r in rows]
    assert len(summaries) == len(set(summaries))


def test_turns_and_speakers():
    for split in SPLITS:
        for r in raw_rows(split):
            lines = r["dialogue"].split("\n")
            assert all(TURN_LINE.match(line) for line in lines), (r["id"], lines)
            assert 4 <= count_turns(r["dialogue"]) <= 20, r["id"]
            speakers = {int(TURN_LINE.match(line).group(1)) for line in lines}
            assert speakers >= {1, 2} and speakers == set(range(1, max(speakers) + 1)), r["id"]
            assert "#Person" in r["summary"], r["id"]  # summaries name the speakers the same way


def test_each_split_mixes_every_part():
    parts = {r["id"][0] for s in SPLITS for r in raw_rows(s)}
    for split in SPLITS:
        assert {r["id"][0] for r in raw_rows(split)} == parts
        first = {r["id"][0] for r in raw_rows(split)[:15]}
        assert len(first) >= 2  # the first rows (what --limit takes) are not all one part


def test_splits_are_reproducible_from_the_build_script():
    spec = importlib.util.spec_from_file_location("build_splits", dialogues_dir() / "build_splits.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rows = [r for s in SPLITS for r in raw_rows(s)]
    rebuilt = mod.assign_splits(list(reversed(rows)))
    for split in SPLITS:
        assert [r["id"] for r in rebuilt[split]] == [r["id"] for r in raw_rows(split)]


def test_readme_states_format_counts_and_license():
    text = (dialogues_dir() / "README.md").read_text(encoding="utf-8")
    for split in SPLITS:
        assert f"{len(raw_rows(split))}" in text
    assert "Apache-2.0" in text and "#Person1#" in text

import json

import pytest

from playground.core.evaluation.datasets import (
    count_turns,
    guess_columns,
    load_predictions,
    load_table,
    read_records,
    read_texts,
)
from playground.core.base.errors import InputError

ROWS = [
    {"id": "x1", "conversation": "#Person1#: Hi.\n#Person2#: Hello.", "gold": "They greet.", "topic": "greeting"},
    {"id": "x2", "conversation": "#Person1#: Bye.\n#Person2#: See you.", "gold": "They part.", "topic": "farewell"},
]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_csv(path, rows):
    import csv

    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


@pytest.mark.parametrize("kind", ["jsonl", "csv", "parquet"])
def test_user_file_with_column_mapping(tmp_path, kind):
    path = tmp_path / f"data.{kind}"
    if kind == "jsonl":
        write_jsonl(path, ROWS)
    elif kind == "csv":
        write_csv(path, ROWS)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(ROWS), str(path))
    data = load_table(path, input_column="conversation", reference_column="gold")
    assert len(data) == 2
    assert [e.id for e in data.examples] == ["x1", "x2"]
    assert data.examples[1].input == ROWS[1]["conversation"]  # newlines inside a CSV cell survive
    assert data.examples[0].reference == "They greet." and data.examples[0].topic == "greeting"
    assert count_turns(data.examples[0].input) == 2


def test_columns_are_guessed_from_their_names(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"dialogue": "a b", "summary": "a"}])
    data = load_table(path)
    assert (data.input_column, data.reference_column) == ("dialogue", "summary")
    assert data.examples[0].id == "1"  # no id column: the row number
    assert guess_columns(["Text", "Target"]) == ("Text", "Target")


def test_wrong_columns_list_what_exists(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", ROWS)
    with pytest.raises(InputError) as err:
        load_table(path, input_column="dialogue", reference_column="gold")
    msg = err.value.message
    assert "no column named 'dialogue'" in msg and "'conversation'" in msg and "'gold'" in msg
    with pytest.raises(InputError, match="no column was chosen"):
        load_table(path)  # nothing to guess from
    with pytest.raises(InputError, match="same column"):
        load_table(path, "gold", "gold")


def test_non_utf8_file(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("dialogue,summary\nCafé au lait,Un café\n".encode("latin-1"))
    with pytest.raises(InputError) as err:
        load_table(path)
    assert "not UTF-8" in err.value.message and "byte 0xe9" in err.value.message
    assert "UTF-8" in err.value.hint
    assert path.read_bytes().startswith(b"dialogue,summary")  # nothing lost: the file is untouched


def test_zero_rows_and_missing_cells(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("dialogue,summary\n", encoding="utf-8")
    with pytest.raises(InputError, match="has no rows"):
        load_table(empty)
    blank = tmp_path / "blank.jsonl"
    blank.write_text("\n\n", encoding="utf-8")
    with pytest.raises(InputError, match="has no rows"):
        load_table(blank)
    holes = write_jsonl(tmp_path / "holes.jsonl", [{"dialogue": "x", "summary": "y"}, {"dialogue": "z", "summary": None}])
    with pytest.raises(InputError, match="Row 2 .* no value in the column 'summary'"):
        load_table(holes)


def test_broken_files(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"dialogue": "x", "summary": "y"}\n{"dialogue": \n', encoding="utf-8")
    with pytest.raises(InputError, match="Line 2 of bad.jsonl is not valid JSON"):
        read_records(bad)
    with pytest.raises(InputError, match="does not exist"):
        load_table(tmp_path / "missing.csv")
    with pytest.raises(InputError, match="not a table file"):
        load_table(tmp_path / "notes.docx")
    parquet = tmp_path / "fake.parquet"
    parquet.write_bytes(b"not parquet at all")
    with pytest.raises(InputError, match="cannot be read as Parquet"):
        read_records(parquet)


def test_read_texts_lines_and_fields(tmp_path):
    txt = tmp_path / "p.txt"
    txt.write_text("first line\n\nthird line\n", encoding="utf-8")
    assert read_texts(txt) == ["first line", "", "third line"]  # an empty line is an empty text
    jl = write_jsonl(tmp_path / "p.jsonl", [{"id": 1, "text": "a"}, {"id": 2, "text": "b"}])
    assert read_texts(jl) == ["a", "b"]  # the only text field
    assert read_texts(jl, "text") == ["a", "b"]
    with pytest.raises(InputError, match="no column named 'summary'"):
        read_texts(jl, "summary")
    empty = tmp_path / "e.txt"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="is empty"):
        read_texts(empty)


def test_predictions_line_up_by_id_or_position(tmp_path):
    data = load_table(write_jsonl(tmp_path / "d.jsonl", ROWS), "conversation", "gold")
    by_id = write_jsonl(tmp_path / "by_id.jsonl", [{"id": "x2", "pred": "two"}, {"id": "x1", "pred": "one"}])
    assert load_predictions(by_id, "pred", data.examples) == ["one", "two"]
    by_pos = write_csv(tmp_path / "by_pos.csv", [{"pred": "first"}, {"pred": "second"}, {"pred": "third"}])
    assert load_predictions(by_pos, "pred", data.examples) == ["first", "second"]
    short = write_csv(tmp_path / "short.csv", [{"pred": "only"}])
    with pytest.raises(InputError, match="1 predictions for 2 examples"):
        load_predictions(short, "pred", data.examples)
    partial = write_jsonl(tmp_path / "partial.jsonl", [{"id": "x1", "pred": "one"}])
    with pytest.raises(InputError, match="no prediction for the examples x2"):
        load_predictions(partial, "pred", data.examples)

"""Datasets for evaluation: the bundled dialogues with reference summaries, and a user's own
CSV, JSONL or Parquet file with a column mapping (which column is the input, which the reference).

Every bad file gets a plain message (``InputError``): not UTF-8, unreadable rows, wrong column
names (the message lists the columns that exist), or no rows at all.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from playground.core.base.errors import InputError
from playground.core.base.paths import resources_dir

SPLITS = ("train", "validation", "test")
TABLE_SUFFIXES = (".csv", ".tsv", ".jsonl", ".json", ".parquet")
_TURN = re.compile(r"^#Person(\d+)#:", re.MULTILINE)
# Column names tried, in order, when a file's mapping is not given.
INPUT_NAMES = ("dialogue", "input", "text", "document", "article", "source", "prompt")
REFERENCE_NAMES = ("summary", "reference", "target", "highlights", "label", "output")


@dataclass
class Example:
    """One row to evaluate: the text the model reads and the reference it should produce."""

    id: str
    input: str
    reference: str
    topic: str = ""
    extra: dict = field(default_factory=dict)
    line: int = 0  # where the row starts in its file (line for CSV/JSONL, item for JSON/Parquet)


@dataclass
class Dataset:
    """Rows to evaluate, with where they came from."""

    name: str
    examples: list[Example]
    path: str = ""
    input_column: str = "dialogue"
    reference_column: str = "summary"
    skipped: list[int] = field(default_factory=list)  # lines of rows skipped as empty (skip_empty)

    def __len__(self) -> int:
        return len(self.examples)

    def head(self, n: int | None) -> list[Example]:
        return list(self.examples if n is None or n <= 0 else self.examples[:n])


def dialogues_dir() -> Path:
    return resources_dir() / "datasets" / "dialogues"


def count_turns(dialogue: str) -> int:
    """Number of speaker turns (lines starting with '#PersonN#:')."""
    return len(_TURN.findall(dialogue))


def read_text_file(path: str | Path) -> str:
    """A whole file as text; refuses missing files and non-UTF-8 bytes in plain words."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"The file {path} does not exist.", "Check the path and try again.")
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a file.")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path.name} cannot be read ({exc.strerror or exc}).") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path.name} is not UTF-8 text (byte 0x{data[exc.start]:02x} at position {exc.start}).",
            "Save the file as UTF-8 (most editors offer it under 'Save as' or 'Encoding') and try again.",
        ) from None


JSONL_HINT = "Each line of a JSONL file must be one JSON object."


def read_jsonl(path: str | Path, hint: str = JSONL_HINT) -> list[dict]:
    """The rows of a JSONL file: the one reader of every JSONL file in the app.

    UTF-8 with or without a byte-order mark (Windows editors write one), one JSON object per line,
    blank lines skipped. ``hint`` says what each line must hold (e.g. "prompt, chosen and rejected").

    Raises
    ------
    InputError
        Missing file, not UTF-8, or a line that is not a JSON object (by line number).
    """
    path = Path(path)
    rows, _ = _parse_jsonl(read_text_file(path), path.name, hint)
    return rows


def _parse_jsonl(text: str, name: str, hint: str = JSONL_HINT) -> tuple[list[dict], list[int]]:
    rows, lines = [], []
    # split("\n"), not splitlines(): a JSON string may hold U+2028 and other characters that
    # splitlines() treats as line breaks, which would cut a valid row in two.
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise InputError(f"Line {n} of {name} is not valid JSON ({exc.msg}).", hint) from None
        if not isinstance(obj, dict):
            raise InputError(f"Line {n} of {name} is a JSON {type(obj).__name__}, not an object with named fields.",
                             hint)
        rows.append(obj)
        lines.append(n)
    return rows, lines


def _parse_csv(text: str, name: str, delimiter: str) -> tuple[list[str], list[dict], list[int]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, lines = [], []
    try:
        header = next(reader, None) or []
        start = reader.line_num
        for cells in reader:
            line, start = start + 1, reader.line_num  # a quoted cell may span several lines
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                raise InputError(f"Line {line} of {name} has {len(cells)} fields but the header has {len(header)}.",
                                 "A comma or a quote is probably out of place in that row: fix or remove it.")
            rows.append(dict(zip(header, cells)))
            lines.append(line)
    except csv.Error as exc:
        raise InputError(f"Line {reader.line_num} of {name} cannot be read as CSV ({exc}).",
                         "Check the quotes in that row.") from None
    return header, rows, lines


def read_records(path: str | Path) -> tuple[list[str], list[dict]]:
    """The column names and rows of a CSV, TSV, JSONL, JSON (array of objects) or Parquet file."""
    columns, rows, _ = read_rows(path)
    return columns, rows


def read_rows(path: str | Path) -> tuple[list[str], list[dict], list[int]]:
    """Like ``read_records``, plus where each row starts in the file (line, or item number).

    Raises
    ------
    InputError
        Missing file, unknown suffix, non-UTF-8 text, or a row that cannot be parsed (by line).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise InputError(f"{path.name} is not a table file this app reads.",
                         f"Use one of: {', '.join(TABLE_SUFFIXES)}.")
    if suffix == ".parquet":
        if not path.exists():
            raise InputError(f"The file {path} does not exist.", "Check the path and try again.")
        try:
            import pyarrow.parquet as pq

            table = pq.read_table(str(path))
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise InputError(f"{path.name} cannot be read as Parquet ({exc}).") from None
        rows = table.to_pylist()
        return list(table.column_names), rows, list(range(1, len(rows) + 1))
    text = read_text_file(path)
    if suffix in (".csv", ".tsv"):
        return _parse_csv(text, path.name, "\t" if suffix == ".tsv" else ",")
    if suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InputError(f"{path.name} is not valid JSON ({exc.msg}).") from None
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise InputError(f"{path.name} must hold a list of objects (one per row).")
        rows, lines = data, list(range(1, len(data) + 1))
    else:
        rows, lines = _parse_jsonl(text, path.name)
    columns: list[str] = []
    for r in rows:
        columns.extend(k for k in r if k not in columns)
    return columns, rows, lines


def guess_columns(columns: list[str]) -> tuple[str | None, str | None]:
    """Best guesses for the input and reference columns from their names."""
    lower = {c.lower(): c for c in columns}
    inp = next((lower[n] for n in INPUT_NAMES if n in lower), None)
    ref = next((lower[n] for n in REFERENCE_NAMES if n in lower), None)
    return inp, ref


def _text_value(value, column: str, row: int, name: str) -> str:
    if value is None or (isinstance(value, float) and value != value):
        raise InputError(f"Row {row} of {name} has no value in the column '{column}'.",
                         "Fill in every row, or remove the incomplete ones.")
    if isinstance(value, (dict, list)):
        raise InputError(f"Row {row} of {name}: the column '{column}' holds a {type(value).__name__}, not text.")
    return value if isinstance(value, str) else str(value)


def _check_column(column: str | None, role: str, columns: list[str], name: str) -> str:
    if not column or column not in columns:
        shown = ", ".join(f"'{c}'" for c in columns) or "none"
        what = f"no column named '{column}'" if column else f"no column was chosen as the {role}"
        raise InputError(f"{name} has {what}. Its columns are: {shown}.",
                         f"Choose the column that holds the {role}.")
    return column


def _is_empty(value) -> bool:
    return value is None or (isinstance(value, float) and value != value) or (isinstance(value, str)
                                                                               and not value.strip())


def load_table(path: str | Path, input_column: str | None = None, reference_column: str | None = None,
               id_column: str | None = None, skip_empty: bool = False) -> Dataset:
    """A user's CSV, JSONL or Parquet file as a Dataset.

    Parameters
    ----------
    path
        The file.
    input_column, reference_column
        Which column the model reads and which holds the reference; guessed from the names
        (dialogue/input/text..., summary/reference/target...) when not given.
    id_column
        A column of row ids (default: 'id' when present, else the row number).
    skip_empty
        Skip rows whose input or reference is missing or blank, and list their lines in
        ``Dataset.skipped`` (training data), instead of refusing the file (evaluation).

    Raises
    ------
    InputError
        Unreadable or non-UTF-8 file, zero rows, missing columns or empty cells.
    """
    path = Path(path)
    columns, rows, lines = read_rows(path)
    if not rows:
        raise InputError(f"{path.name} has no rows.", "Choose a file with at least one example.")
    guess_in, guess_ref = guess_columns(columns)
    input_column = _check_column(input_column or guess_in, "input (what the model reads)", columns, path.name)
    reference_column = _check_column(reference_column or guess_ref, "reference (the expected output)",
                                     columns, path.name)
    if input_column == reference_column:
        raise InputError("The input and the reference are the same column.", "Choose two different columns.")
    if id_column is None and "id" in columns:
        id_column = "id"
    examples, skipped = [], []
    for n, (r, line) in enumerate(zip(rows, lines), start=1):
        if skip_empty and (_is_empty(r.get(input_column)) or _is_empty(r.get(reference_column))):
            skipped.append(line)
            continue
        if _is_empty(r.get(reference_column)) and r.get(reference_column) is not None:
            raise InputError(f"Row {n} of {path.name} (line {line}) has a blank reference in the column "
                             f"'{reference_column}': it would be scored 0 and averaged in.",
                             "Fill it in, or remove that row.")
        ex_id = str(r.get(id_column)) if id_column and r.get(id_column) is not None else str(n)
        examples.append(Example(
            id=ex_id, input=_text_value(r.get(input_column), input_column, n, path.name),
            reference=_text_value(r.get(reference_column), reference_column, n, path.name),
            topic=str(r.get("topic") or ""),
            extra={k: v for k, v in r.items() if k not in (input_column, reference_column)}, line=line))
    return Dataset(path.name, examples, str(path), input_column, reference_column, skipped)


def load_split(split: str = "test", folder: str | Path | None = None) -> Dataset:
    """One split of the bundled dialogue dataset ('train', 'validation' or 'test')."""
    if split not in SPLITS:
        raise InputError(f"There is no split called '{split}'.", f"Choose one of: {', '.join(SPLITS)}.")
    folder = Path(folder) if folder is not None else dialogues_dir()
    path = folder / f"{split}.jsonl"
    if not path.exists():
        raise InputError(f"The bundled dataset file {path} is missing.",
                         "Reinstall the app, or choose your own file.")
    data = load_table(path, "dialogue", "summary", "id")
    data.name = f"dialogues/{split}"
    return data


def read_texts(path: str | Path, field: str | None = None) -> list[str]:
    """Texts from a file: one per line (.txt and anything not a table), or one column of a
    CSV/JSONL/Parquet file (``field``; guessed only when the file has exactly one text column)."""
    path = Path(path)
    if path.suffix.lower() not in TABLE_SUFFIXES:
        text = read_text_file(path)
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()  # the newline that ends the last line does not start another text
        lines = [line.rstrip("\r") for line in lines]
        if not lines:
            raise InputError(f"{path.name} is empty.", "Put one text on each line.")
        return lines
    columns, rows = read_records(path)
    if not rows:
        raise InputError(f"{path.name} has no rows.")
    if field is None:
        text_cols = [c for c in columns if all(isinstance(r.get(c), str) for r in rows)]
        if len(text_cols) != 1:
            raise InputError(f"Which column of {path.name} holds the texts? Its columns are: "
                             f"{', '.join(columns)}.", "Name it with --field.")
        field = text_cols[0]
    _check_column(field, "texts", columns, path.name)
    return [_text_value(r.get(field), field, n, path.name) for n, r in enumerate(rows, start=1)]


def load_predictions(path: str | Path, column: str, examples: list[Example]) -> list[str]:
    """A column of predictions from a file, lined up with ``examples``.

    Rows are matched by the file's 'id' column when it has one, else by position (the file must
    then have at least as many rows as there are examples).
    """
    path = Path(path)
    columns, rows = read_records(path)
    if not rows:
        raise InputError(f"{path.name} has no rows.")
    _check_column(column, "predictions", columns, path.name)
    if "id" in columns:
        by_id = {str(r.get("id")): r for r in rows}
        missing = [ex.id for ex in examples if ex.id not in by_id]
        if not missing:
            return [_text_value(by_id[ex.id].get(column), column, i + 1, path.name) for i, ex in enumerate(examples)]
        if len(missing) < len(examples):
            raise InputError(f"{path.name} has no prediction for the examples {', '.join(missing[:5])}"
                             f"{'…' if len(missing) > 5 else ''}.", "Add them, or evaluate fewer examples.")
    if len(rows) < len(examples):
        raise InputError(f"{path.name} has {len(rows)} predictions for {len(examples)} examples.",
                         "Evaluate fewer examples, or add the missing predictions.")
    return [_text_value(r.get(column), column, i + 1, path.name) for i, r in enumerate(rows[:len(examples)])]

"""Reading a user's data file (CSV, TSV, JSONL, JSON, Parquet) with a column mapping.

Rows keep the line (or row) number they came from, so every problem is reported where the user
can find it. Empty rows are skipped and counted, never an error; a broken row is an error that
names its line.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from playground.core.errors import InputError

FORMATS = ("csv", "tsv", "jsonl", "json", "parquet")
_SUFFIX = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json",
           ".parquet": "parquet", ".pq": "parquet"}


@dataclass
class Record:
    """One usable row: where it came from and its fields under the app's names (dialogue, summary)."""

    line: int
    fields: dict


@dataclass
class ReadResult:
    records: list[Record] = field(default_factory=list)
    empty_lines: list[int] = field(default_factory=list)  # rows skipped because a field was empty
    path: str = ""

    @property
    def skipped_empty(self) -> int:
        return len(self.empty_lines)


def detect_format(path: Path, fmt: str = "auto") -> str:
    if fmt and fmt != "auto":
        if fmt not in FORMATS:
            raise InputError(f"Unknown data format '{fmt}'.", f"Use one of: auto, {', '.join(FORMATS)}.")
        return fmt
    found = _SUFFIX.get(path.suffix.lower())
    if found is None:
        raise InputError(f"The app cannot tell the format of {path.name} from its name.",
                         "Use a .csv, .tsv, .jsonl, .json or .parquet file, or set data.format.")
    return found


def read_records(path: str | Path, columns: dict[str, str], fmt: str = "auto") -> ReadResult:
    """Read rows from a file, renaming the mapped columns to the app's field names.

    Parameters
    ----------
    path
        The data file.
    columns
        App field -> column in the file, e.g. ``{"dialogue": "text", "summary": "label"}``.
    fmt
        'auto' (from the suffix) or one of FORMATS.

    Raises
    ------
    InputError
        A missing file or column, text that is not UTF-8, or a row that cannot be parsed, with
        the line number.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"The data file {path} does not exist.", "Check the path in data.source.")
    fmt = detect_format(path, fmt)
    if fmt == "parquet":
        return _read_parquet(path, columns)
    text = _read_utf8(path)
    if fmt in ("csv", "tsv"):
        return _read_csv(path, text, columns, "\t" if fmt == "tsv" else ",")
    if fmt == "json":
        return _read_json_array(path, text, columns)
    return _read_jsonl(path, text, columns)


def _read_utf8(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"Line {line} of {path.name} is not UTF-8 text (byte 0x{data[exc.start]:02x}).",
            "Save the file as UTF-8 (in a spreadsheet: 'CSV UTF-8'; in an editor: encoding UTF-8).",
        ) from None


def _missing(path: Path, columns: dict[str, str], present) -> None:
    missing = [c for c in columns.values() if c not in present]
    if missing:
        found = ", ".join(map(str, present)) or "none"
        raise InputError(
            f"{path.name} has no column {', '.join(repr(m) for m in missing)} (columns found: {found}).",
            "Map the app's fields to your columns in data.columns, e.g. dialogue = \"text\".",
        )


def _take(result: ReadResult, line: int, row: dict, columns: dict[str, str]) -> None:
    fields = {}
    for name, col in columns.items():
        value = row.get(col)
        text = "" if value is None else str(value).strip()
        if not text:
            result.empty_lines.append(line)
            return
        fields[name] = text
    result.records.append(Record(line, fields))


def _read_jsonl(path: Path, text: str, columns: dict[str, str]) -> ReadResult:
    result = ReadResult(path=str(path))
    checked = False
    # split("\n"), not splitlines(): JSON strings may hold U+2028 and other characters that
    # splitlines() treats as line breaks, which would cut a valid row in two.
    for line_no, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"Line {line_no} of {path.name} is not valid JSON ({exc.msg}, column {exc.colno}).",
                             "Fix or remove that line: each line must be one JSON object.") from None
        if not isinstance(row, dict):
            raise InputError(f"Line {line_no} of {path.name} is a JSON {type(row).__name__}, not an object.",
                             "Each line must look like {\"dialogue\": \"...\", \"summary\": \"...\"}.")
        if not checked:
            _missing(path, columns, list(row))
            checked = True
        absent = [c for c in columns.values() if c not in row]
        if absent:
            raise InputError(f"Line {line_no} of {path.name} has no {', '.join(map(repr, absent))} field.",
                             "Every line needs the same fields; fix or remove that line.")
        _take(result, line_no, row, columns)
    if not checked:
        raise InputError(f"{path.name} holds no data rows.", "Choose a file with examples in it.")
    return result


def _read_json_array(path: Path, text: str, columns: dict[str, str]) -> ReadResult:
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"Line {exc.lineno} of {path.name} is not valid JSON ({exc.msg}).",
                         "Fix the file, or save it as JSON Lines (one object per line).") from None
    if not isinstance(rows, list) or not rows:
        raise InputError(f"{path.name} must hold a non-empty JSON list of objects.")
    result = ReadResult(path=str(path))
    for i, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise InputError(f"Item {i} of {path.name} is not a JSON object.")
        if i == 1:
            _missing(path, columns, list(row))
        _take(result, i, row, columns)
    return result


def _read_csv(path: Path, text: str, columns: dict[str, str], delimiter: str) -> ReadResult:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    result = ReadResult(path=str(path))
    try:
        header = next(reader, None)
        if not header:
            raise InputError(f"{path.name} is empty.", "Choose a file with a header row and examples.")
        header = [h.strip() for h in header]
        _missing(path, columns, header)
        start = reader.line_num
        for row in reader:
            line = start + 1
            start = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise InputError(
                    f"Line {line} of {path.name} has {len(row)} fields but the header has {len(header)}.",
                    "A comma or quote is probably out of place in that row; fix or remove it.")
            _take(result, line, dict(zip(header, row)), columns)
    except csv.Error as exc:
        raise InputError(f"Line {reader.line_num} of {path.name} cannot be read as CSV ({exc}).",
                         "Check the quotes in that row.") from None
    return result


def _read_parquet(path: Path, columns: dict[str, str]) -> ReadResult:
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise InputError(f"{path.name} cannot be read as Parquet ({exc}).", "Check that the file is complete.") from None
    _missing(path, columns, schema.names)
    table = pq.read_table(path, columns=sorted(set(columns.values())))
    result = ReadResult(path=str(path))
    for i, row in enumerate(table.to_pylist(), start=1):
        _take(result, i, row, columns)
    return result

"""Multiple-choice benchmarks as lm-evaluation-harness builds them: items, files, prompts.

An item is a context, two or more choices and the index of the right one (``gold``), optionally with a
passage read before the context. The model reads ``doc_text(item)``, then the harness's
``target_delimiter`` (one space), then a choice; with k shots, k other items of the same benchmark come
first, each followed by its gold choice, joined by the harness's ``fewshot_delimiter`` (a blank line).
Scoring lives in ``benchmark_score``; runs over systems in ``benchmark_run``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from playground.core.base.errors import InputError
from playground.core.base.paths import resources_dir

TARGET_DELIMITER = " "
"""between the context and a choice (lm-eval's ``target_delimiter`` default)"""
FEWSHOT_DELIMITER = "\n\n"
"""between the shots and the item (lm-eval's ``fewshot_delimiter`` default)"""
PASSAGE_DELIMITER = "\n\n"
"""between an item's passage and its context"""

KINDS: dict[str, tuple[str, str]] = {
    "continuation": ("Sentence continuation", "Which ending of the sentence makes sense (like HellaSwag)."),
    "knowledge": ("Knowledge", "A general-knowledge question with four answers (like MMLU)."),
    "reading": ("Reading comprehension", "A question on a short passage the model reads first."),
    "dialogue_choice": ("Dialogue summary", "Which of four summaries fits the dialogue (the dialogue task "
                                            "as multiple choice; dialogues from the test split)."),
}
"""the bundled kinds: file stem -> (title, one sentence saying what it tests)"""


def benchmarks_dir() -> Path:
    return resources_dir() / "benchmarks"


@dataclass(frozen=True)
class BenchItem:
    """One multiple-choice question."""

    id: str
    context: str
    choices: tuple[str, ...]
    gold: int
    passage: str = ""
    line: int = 0  # where it is in its file (1-based), for messages

    @property
    def chance(self) -> float:
        return 1.0 / len(self.choices)


@dataclass
class Benchmark:
    """A named list of items (one bundled kind, or a learner's file)."""

    name: str
    title: str
    items: list[BenchItem]
    source: str = ""  # the file it was read from
    note: str = ""

    @property
    def chance(self) -> float:
        """The accuracy of guessing: the mean of 1 / (number of choices) over the items."""
        return sum(i.chance for i in self.items) / len(self.items) if self.items else 0.0

    def head(self, count: int | None) -> "Benchmark":
        if count is None or count >= len(self.items):
            return self
        return Benchmark(self.name, self.title, self.items[:count], self.source, self.note)


def doc_text(item: BenchItem) -> str:
    """What the model reads before the delimiter and a choice (lm-eval's ``doc_to_text``)."""
    return f"{item.passage}{PASSAGE_DELIMITER}{item.context}" if item.passage else item.context


def shots_for(items: list[BenchItem], index: int, k: int) -> list[BenchItem]:
    """The k shots for item ``index``: the next k items after it in the file (wrapping round), never the
    item itself; deterministic, so two runs and two systems see the same prompts."""
    if k <= 0:
        return []
    n = len(items)
    if k >= n:
        raise InputError(f"{k} shots need at least {k + 1} items; this benchmark has {n}.",
                         "Use fewer shots.")
    return [items[(index + 1 + j) % n] for j in range(k)]


def fewshot_context(item: BenchItem, shots: list[BenchItem]) -> str:
    """The full context for one item: each shot written with its gold choice, then the item's own text."""
    parts = [doc_text(s) + TARGET_DELIMITER + s.choices[s.gold] for s in shots]
    return FEWSHOT_DELIMITER.join(parts + [doc_text(item)])


def check_item(raw: object, line: int, where: str) -> BenchItem:
    """One parsed JSON line as an item, or an InputError naming the line and what to change."""
    at = f"{where}, line {line}"
    if not isinstance(raw, dict):
        raise InputError(f"{at} is not a JSON object.", "Write one object per line: {\"context\": …, "
                                                         "\"choices\": […], \"gold\": 0}.")
    context, choices, gold = raw.get("context"), raw.get("choices"), raw.get("gold")
    passage = raw.get("passage") or ""
    if not isinstance(context, str) or not context.strip():
        raise InputError(f"{at} has an empty context.", "Give every item the text the model reads before "
                                                         "a choice, in \"context\".")
    if not isinstance(passage, str):
        raise InputError(f"{at}: \"passage\" must be text.")
    if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
        raise InputError(f"{at}: \"choices\" must be a list of texts.", "e.g. \"choices\": [\"Paris\", \"Rome\"].")
    if len(choices) < 2:
        raise InputError(f"{at} has {len(choices)} choice{'' if len(choices) == 1 else 's'}: a multiple-choice "
                         "item needs at least two.", "Add the wrong answers the model should not pick.")
    if any(not c.strip() for c in choices):
        raise InputError(f"{at} has an empty choice.", "Every choice needs some text.")
    seen: dict[str, int] = {}
    for i, c in enumerate(choices):
        if c.strip() in seen:
            raise InputError(f"{at} has the same choice twice (choices {seen[c.strip()]} and {i}: {c.strip()!r}).",
                             "Make every choice different, or the right one cannot be told apart.")
        seen[c.strip()] = i
    if isinstance(gold, bool) or not isinstance(gold, int):
        raise InputError(f"{at}: \"gold\" must be a whole number, the index of the right choice.",
                         "Count from 0: the first choice is 0.")
    if not 0 <= gold < len(choices):
        raise InputError(f"{at}: the gold index {gold} is out of range for {len(choices)} choices.",
                         f"Use 0 to {len(choices) - 1} (counted from 0).")
    item_id = raw.get("id")
    return BenchItem(id=str(item_id) if item_id is not None else f"line {line}", context=context,
                     choices=tuple(choices), gold=gold, passage=passage, line=line)


def load_benchmark(path: str | Path, name: str = "", title: str = "") -> Benchmark:
    """Read a benchmark JSONL file (the format in resources/benchmarks/README.md), checking every item.

    Raises
    ------
    InputError
        The file is missing, not UTF-8 JSON lines, empty, or an item is malformed (the line is named).
    """
    path = Path(path)
    where = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"There is no file {path}.", "Choose a .jsonl benchmark file.") from None
    except UnicodeDecodeError:
        raise InputError(f"{where} is not UTF-8 text.", "Save it as UTF-8 JSON lines.") from None
    except OSError as exc:
        raise InputError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}, line {number} is not valid JSON ({exc.msg}).",
                             "Write one JSON object per line.") from None
        items.append(check_item(raw, number, where))
    if not items:
        raise InputError(f"{where} has no items.", "Write one JSON object per line (see the format in the help).")
    stem = name or path.stem
    return Benchmark(name=stem, title=title or stem, items=items, source=str(path))


def bundled_benchmark(kind: str) -> Benchmark:
    """One of the bundled kinds (``KINDS``)."""
    if kind not in KINDS:
        raise InputError(f"There is no bundled benchmark '{kind}'.", f"Use one of: {', '.join(KINDS)}.")
    title, note = KINDS[kind]
    bench = load_benchmark(benchmarks_dir() / f"{kind}.jsonl", name=kind, title=title)
    bench.note = note
    return bench


def bundled_benchmarks(kinds: list[str] | None = None) -> list[Benchmark]:
    return [bundled_benchmark(k) for k in (kinds or list(KINDS))]


CONTAMINATION_NOTE = (
    "A benchmark seen in training says nothing: a model that met these items (or the dialogues they come from) "
    "while training can score high by memory. The dialogue items come from the test split, which the Fine-tune "
    "tab never trains on; a model trained on other data may still have seen text like them.")

"""Preference pairs in trl's format (``prompt``, ``chosen``, ``rejected``, optional ``reason``).

``load_preferences`` reads a JSONL file and checks it; the bundled set lives in
resources/datasets/preferences/ (see its README). Learner labels use the same format.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Sequence

from playground.core.base.errors import InputError

REQUIRED = ("prompt", "chosen", "rejected")


@dataclass(frozen=True)
class PreferencePair:
    prompt: str
    chosen: str
    rejected: str
    reason: str = ""
    id: str = ""


def pairs_of(source: str, split: str, limit: int = 0, needed_by: str = "a reward model",
             hint: str = "") -> list[PreferencePair]:
    """A job's pairs: ``source`` "bundled" (the bundled ``split``) or a JSONL file; the first
    ``limit`` of them (0 = all). ``needed_by`` and ``hint``: see ``check_pairs``."""
    pairs = bundled_preferences(split) if source == "bundled" else load_preferences(source, needed_by, hint)
    return pairs[:limit] if limit else pairs


def truncate_prompt(tokenizer, text: str, max_tokens: int) -> str:
    """``text`` when it has at most ``max_tokens`` tokens, else its last ``max_tokens`` tokens (a
    dialogue prompt keeps its end and 'Summary:')."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    return text if len(ids) <= max_tokens else tokenizer.decode(ids[-max_tokens:])


def cut_prompts(pairs: Sequence[PreferencePair], tokenizer, max_tokens: int) -> list[PreferencePair]:
    """The pairs with each prompt cut by ``truncate_prompt`` (chosen and rejected are kept whole)."""
    return [replace(p, prompt=truncate_prompt(tokenizer, p.prompt, max_tokens)) for p in pairs]


def learner_labels_path() -> Path:
    """Where the learner's own labelled pairs are kept (the Align tab's Feedback step)."""
    from playground.core.base.paths import user_dirs

    return user_dirs().data / "align" / "labels.jsonl"


def learner_labels() -> list[PreferencePair]:
    """The learner's labelled pairs ([] when there are none yet, or fewer than two usable ones)."""
    path = learner_labels_path()
    if not path.is_file():
        return []
    try:
        return load_preferences(path)
    except InputError:
        return []  # fewer than two pairs so far: start again (the file stays until the next save)


def preferences_dir() -> Path:
    return Path(__file__).resolve().parents[3] / "resources" / "datasets" / "preferences"


def bundled_preferences(split: str = "train") -> list[PreferencePair]:
    """The bundled pairs of one split (train: 240, test: 60)."""
    return load_preferences(preferences_dir() / f"{split}.jsonl")


def load_preferences(path: str | Path, needed_by: str = "a reward model", hint: str = "") -> list[PreferencePair]:
    """Read and check a JSONL preference file (see ``check_pairs``)."""
    from playground.core.evaluation.datasets import read_jsonl  # the app's one JSONL reader (a BOM is fine)

    rows = read_jsonl(path, "Each line must be one JSON object with prompt, chosen and rejected.")
    return check_pairs(rows, Path(path).name, needed_by, hint)


def check_pairs(rows: Sequence[dict], name: str = "the preference data", needed_by: str = "a reward model",
                hint: str = "") -> list[PreferencePair]:
    """Rows as pairs, refusing what cannot train a reward model, in plain words.

    Missing columns and non-text values are refused; ties (chosen == rejected) and duplicate pairs
    are dropped; fewer than two usable pairs (for instance only ties, or one pair) is refused, naming
    what needs them (``needed_by``: "a reward model", "DPO" ...) and what to change (``hint``).
    """
    if not rows:
        raise InputError(f"{name} holds no pairs.", "Label some pairs, or pick a file with pairs in it.")
    missing = [c for c in REQUIRED if any(c not in r for r in rows)]
    if missing:
        first = next(i for i, r in enumerate(rows, 1) if any(c not in r for c in missing))
        raise InputError(f"{name} lacks the column(s) {', '.join(missing)} (first in row {first}).",
                         "Each row needs prompt, chosen and rejected (trl's preference format).")
    pairs, seen, ties, dupes = [], set(), 0, 0
    for i, r in enumerate(rows, 1):
        for c in REQUIRED:
            if not isinstance(r[c], str):
                raise InputError(f"Row {i} of {name}: '{c}' is not text.", "Write each of prompt, chosen, rejected as a string.")
        if r["chosen"].strip() == r["rejected"].strip() or r.get("label") == "tie":
            ties += 1
            continue
        key = (r["prompt"], r["chosen"], r["rejected"])
        if key in seen:
            dupes += 1
            continue
        seen.add(key)
        pairs.append(PreferencePair(r["prompt"], r["chosen"], r["rejected"], str(r.get("reason", "")),
                                    str(r.get("id", ""))))
    if len(pairs) < 2:
        why = []
        if ties:
            why.append(f"{ties} tie(s)")
        if dupes:
            why.append(f"{dupes} duplicate(s)")
        dropped = f" after dropping {' and '.join(why)}" if why else ""
        raise InputError(f"{name} has {len(pairs)} usable pair(s){dropped}; {needed_by} needs at least two.",
                         hint or "Label more pairs where one completion is better than the other.")
    return pairs


def save_preferences(pairs: Sequence[PreferencePair], path: str | Path) -> Path:
    """Write pairs as JSONL, atomically (temp file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text("".join(json.dumps(asdict(p), ensure_ascii=False) + "\n" for p in pairs), encoding="utf-8")
    tmp.replace(path)
    return path

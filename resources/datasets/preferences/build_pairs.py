"""Derive the bundled preference pairs from the bundled dialogues' reference summaries.

Usage (from the repository root):

    python resources/datasets/preferences/build_pairs.py          # write train.jsonl, test.jsonl
    python resources/datasets/preferences/build_pairs.py --check  # verify they are unchanged

Every pair's ``chosen`` is a dialogue's reference summary; its ``rejected`` is the same summary
spoiled by one written rule, so each pair teaches one preference (the ``reason``):

- ``faithful``: a number, number word or weekday of the summary is changed (an invented fact);
- ``concise``: the summary padded with rambling filler and a repeat of its first sentence;
- ``summary``: a copy of the dialogue's first turns instead of a summary;
- ``polite``: the summary wrapped in rude remarks;
- ``third_person``: the summary retold by #Person1# in the first person.

The rule of a dialogue is the next one in that order (dialogues in id order), so each split holds
all five about equally. Train pairs come from the dialogues' train split, test pairs from their
test split (so no test dialogue is seen in training). Deterministic: no randomness at all.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DIALOGUES = HERE.parent / "dialogues"
SPLITS = {"train": "train", "test": "test"}
REASONS = ("faithful", "concise", "summary", "polite", "third_person")
PROMPT = "Summarize the following conversation.\n\n{dialogue}\n\nSummary:"
KEYS = ("id", "prompt", "chosen", "rejected", "reason")

_WORDS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
          "twelve", "fifteen", "twenty", "thirty", "forty", "fifty", "hundred"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_FACT = re.compile(r"\b(\d[\d,.]*|" + "|".join(_WORDS + _DAYS) + r")\b", re.IGNORECASE)
_FILLER = ("Basically, to put it another way, and this is worth saying again, the whole conversation "
           "goes on for a while about this, as conversations tend to do, and in the end it is more or "
           "less what you would expect.")
_RUDE = ("Ugh, what a pointless, boring chat between two clueless people.",
         "Honestly, who cares. Don't waste my time with this again.")
# Third-person verbs as #Person1# would say them in the first person.
_VERB = {"is": "am", "has": "have", "was": "was", "does": "do", "goes": "go", "says": "say", "tries": "try",
         "buys": "buy", "pays": "pay", "plays": "play", "stays": "stay", "worries": "worry", "carries": "carry"}


def _invent(summary: str) -> str:
    """The summary with its first number / number word / weekday changed."""
    m = _FACT.search(summary)
    if m is None:
        return summary + " #Person2# also mentions having won the lottery the week before."
    word = m.group(0)
    if word[0].isdigit():
        digits = re.sub(r"\D", "", word)
        new = str(int(digits) * 3 + 7) if digits else "17"
    elif word.capitalize() in _DAYS:
        new = _DAYS[(_DAYS.index(word.capitalize()) + 3) % 7]
    else:
        new = _WORDS[(_WORDS.index(word.lower()) + 5) % len(_WORDS)]
        new = new.capitalize() if word[0].isupper() else new
    return summary[:m.start()] + new + summary[m.end():]


def _ramble(summary: str) -> str:
    first = re.split(r"(?<=[.!?])\s", summary, maxsplit=1)[0]
    return f"{summary} {_FILLER} So, once more: {first} {_FILLER}"


def _copy(dialogue: str) -> str:
    return "\n".join(dialogue.splitlines()[:4])


def _rude(summary: str) -> str:
    return f"{_RUDE[0]} {summary} {_RUDE[1]}"


def _first_person(summary: str) -> str:
    def verb(m: re.Match) -> str:
        v = m.group(1)
        if v in _VERB:
            return "I " + _VERB[v]
        if v.endswith("ies"):
            return "I " + v[:-3] + "y"
        if re.search(r"(ches|shes|sses|xes)$", v):
            return "I " + v[:-2]
        return "I " + (v[:-1] if v.endswith("s") and not v.endswith("ss") else v)

    out = re.sub(r"#Person1# (\w+)", verb, summary)
    out = re.sub(r"(?<=[.!?] )I\b|^I\b", "I", out)
    out = out.replace("#Person1#'s", "my").replace("#Person1#", "me")
    return out


RULES = {"faithful": lambda r: _invent(r["summary"]), "concise": lambda r: _ramble(r["summary"]),
         "summary": lambda r: _copy(r["dialogue"]), "polite": lambda r: _rude(r["summary"]),
         "third_person": lambda r: _first_person(r["summary"])}


def build(records: list[dict]) -> list[dict]:
    """One pair per dialogue (rules in turn, dialogues in id order), sorted by id."""
    out = []
    for i, r in enumerate(sorted(records, key=lambda r: r["id"])):
        reason = REASONS[i % len(REASONS)]
        rejected = RULES[reason](r)
        if rejected == r["summary"]:  # a rule that changed nothing would make a tie
            reason, rejected = "concise", _ramble(r["summary"])
        out.append({"id": r["id"], "prompt": PROMPT.format(dialogue=r["dialogue"]), "chosen": r["summary"],
                    "rejected": rejected, "reason": reason})
    return out


def to_jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps({k: r[k] for k in KEYS}, ensure_ascii=False) + "\n" for r in rows)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="verify the committed files are reproducible")
    args = parser.parse_args(argv)
    same = True
    for out, src in SPLITS.items():
        text = to_jsonl(build(read_jsonl(DIALOGUES / f"{src}.jsonl")))
        if args.check:
            same &= (HERE / f"{out}.jsonl").read_text(encoding="utf-8") == text
        else:
            (HERE / f"{out}.jsonl").write_text(text, encoding="utf-8")
            print(f"{out}: {text.count(chr(10))} pairs")
    if args.check:
        print("pairs are reproducible" if same else "pairs differ from a rebuild")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())

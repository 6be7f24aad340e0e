"""Write dialogue_choice.jsonl: the dialogue task as multiple choice (which summary fits).

The 25 shortest dialogues of the bundled *test* split (never the train split, which the Fine-tune tab
trains on: a benchmark seen in training says nothing), each with its own reference summary as the gold
choice and, as distractors, the three other test summaries that share the most words with it (so the
wrong choices are about similar things, not obviously off-topic). Deterministic: run it again and the
file is the same. Run from the repository root: ``python resources/benchmarks/build_dialogue_choice.py``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEST = HERE.parent / "datasets" / "dialogues" / "test.jsonl"
COUNT = 25
STOP = set("a an the and or but to of in on at for with by from is are was were be it its that this as "
           "he she they them his her their person1 person2 person3 asks tells says".split())


def words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z']+", text.lower()) if w not in STOP}


def main() -> None:
    rows = [json.loads(line) for line in TEST.read_text(encoding="utf-8").splitlines() if line.strip()]
    chosen = sorted(rows, key=lambda r: (len(r["dialogue"]), r["id"]))[:COUNT]
    out = []
    for i, row in enumerate(chosen):
        gold_words = words(row["summary"])
        others = sorted((r for r in rows if r["id"] != row["id"]),
                        key=lambda r: (-len(gold_words & words(r["summary"])), r["id"]))[:3]
        choices = [r["summary"] for r in others]
        position = i % 4
        choices.insert(position, row["summary"])
        out.append({"id": f"dialogue-{row['id']}", "passage": row["dialogue"],
                    "context": "Which summary fits the dialogue above?\nSummary:", "choices": choices,
                    "gold": position})
    text = "".join(json.dumps(r, ensure_ascii=True) + "\n" for r in out)
    (HERE / "dialogue_choice.jsonl").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()

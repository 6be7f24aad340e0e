"""Assemble the train/validation/test splits of the bundled dialogue dataset.

Usage (from the repository root):

    python resources/datasets/dialogues/build_splits.py PART.jsonl [PART.jsonl ...]
    python resources/datasets/dialogues/build_splits.py --check

The dialogues were written in parts (ids a001.., b001.., c001..): the letter names the part.
Each part is shuffled with a fixed seed and split on its own (stratified), so every split mixes
all parts; then each split is shuffled (seeded) so its first N rows mix them too. The result
depends only on the set of records, so ``--check`` rebuilds the splits from the union of the
committed files and verifies they are unchanged.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPLITS = ("train", "validation", "test")
SEED = 20240607
# Of every part of 110 dialogues: 20 test, 10 validation, the rest train (240/30/60 for 3 parts).
PER_PART = {"test": 20, "validation": 10}
KEYS = ("id", "dialogue", "summary", "topic")


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def assign_splits(records: list[dict], seed: int = SEED) -> dict[str, list[dict]]:
    """The three splits of ``records`` (any order in, the same splits out)."""
    parts: dict[str, list[dict]] = {}
    for r in sorted(records, key=lambda r: r["id"]):
        parts.setdefault(r["id"][0], []).append(r)
    out: dict[str, list[dict]] = {s: [] for s in SPLITS}
    for letter in sorted(parts):
        rows = parts[letter]
        random.Random(f"{seed}-{letter}").shuffle(rows)
        n_test, n_val = PER_PART["test"], PER_PART["validation"]
        out["test"] += rows[:n_test]
        out["validation"] += rows[n_test:n_test + n_val]
        out["train"] += rows[n_test + n_val:]
    for split in SPLITS:
        out[split].sort(key=lambda r: r["id"])
        random.Random(f"{seed}-{split}").shuffle(out[split])
    return out


def to_jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps({k: r[k] for k in KEYS}, ensure_ascii=False) + "\n" for r in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("parts", nargs="*", type=Path, help="JSONL files of dialogues to split")
    parser.add_argument("--check", action="store_true", help="verify the committed splits are reproducible")
    parser.add_argument("--out", type=Path, default=HERE, help="where to write train/validation/test.jsonl")
    args = parser.parse_args(argv)
    if args.check:
        records = [r for s in SPLITS for r in read_jsonl(HERE / f"{s}.jsonl")]
        rebuilt = assign_splits(records)
        same = all(to_jsonl(rebuilt[s]) == (HERE / f"{s}.jsonl").read_text(encoding="utf-8") for s in SPLITS)
        print("splits are reproducible" if same else "splits differ from a rebuild")
        return 0 if same else 1
    if not args.parts:
        parser.error("give the part files, or --check")
    records = [r for p in args.parts for r in read_jsonl(p)]
    ids = [r["id"] for r in records]
    if len(ids) != len(set(ids)):
        sys.exit("duplicate ids in the parts")
    splits = assign_splits(records)
    args.out.mkdir(parents=True, exist_ok=True)
    for split in SPLITS:
        (args.out / f"{split}.jsonl").write_text(to_jsonl(splits[split]), encoding="utf-8")
        print(f"{split}: {len(splits[split])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

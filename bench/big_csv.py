"""A 200,000-row CSV through the Fine-tune Data step and the job's data stage (issue 29, item 14).

    nice .venv/bin/python bench/big_csv.py [--rows 200000] [--threads 2] [--skip-preview] [--long]

Writes a CSV of short dialogues and summaries to a temporary folder, then times, with the bundled
tokenizer: the Data step's read (``read_and_preview``: columns, split, every example's token
counts) and the job's ``prepare_data_events`` (split, tokenize, labels). Prints rows/s, the time, how
many progress reports came with counts, and the load. Target: 200k rows in <= 60 s on 2 cores.
``--long``: 20-exchange dialogues (40 turns) that max_length 256 must cut, row by row before.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from _common import quiet_torch  # noqa: E402

NAMES = ["Amanda", "Jerry", "Tom", "Lucy", "Omar", "Mia", "Ken", "Ana"]
ASKS = ["are we still on for lunch?", "did you send the report?", "can you pick up milk?",
        "the meeting moved to Friday.", "I lost my keys again.", "want to watch a film tonight?"]
REPLIES = ["Yes, see you at noon.", "Sent it an hour ago.", "Sure, on my way home.", "OK, thanks for telling me.",
           "Check your coat pocket.", "Only if it's a comedy."]


def write_csv(path: Path, rows: int, seed: int = 0, turns: int = 1) -> None:
    rnd = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "dialogue", "summary"])
        for i in range(rows):
            a, b = rnd.sample(NAMES, 2)
            ks = [rnd.randrange(len(ASKS)) for _ in range(turns)]
            dialogue = "\n".join(f"{a}: {ASKS[k]}\n{b}: {REPLIES[k]}" for k in ks)
            w.writerow([i, dialogue, f"{a} and {b} talk: {ASKS[ks[0]]} {REPLIES[ks[0]]}"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-preview", action="store_true")
    ap.add_argument("--long", action="store_true", help="20-exchange dialogues that every example must cut")
    args = ap.parse_args()
    print(f"load before: {os.getloadavg()}", flush=True)
    quiet_torch(args.threads)
    from transformers import AutoTokenizer

    from playground.core.base.handle import TaskHandle
    from playground.core.finetune.config import FinetuneConfig
    from playground.core.finetune.prepare import prepare_data_events
    from playground.core.finetune.preview import read_and_preview
    from playground.core.models.bundled import ensure_bundled_cache

    tok = AutoTokenizer.from_pretrained(str(ensure_bundled_cache()))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.csv"
        start = time.perf_counter()
        write_csv(path, args.rows, turns=20 if args.long else 1)
        print(f"wrote {args.rows:,} rows ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - start:.1f} s",
              flush=True)
        cfg = FinetuneConfig()
        cfg.data.source = str(path)
        cfg.data.max_length = 256

        reports = []
        if not args.skip_preview:
            handle = TaskHandle(lambda f, m: reports.append((time.perf_counter(), f, m)))
            start = time.perf_counter()
            columns, _, preview, error = read_and_preview(cfg, tok, False, True, handle)
            took = time.perf_counter() - start
            assert error is None, error
            n = sum(len(sp.lines) for sp in preview.splits.values())
            print(f"Data step (read_and_preview): {n:,} rows in {took:.1f} s = {n / took:,.0f} rows/s; "
                  f"{len(reports)} progress reports, last {reports[-1][2]!r}; load {os.getloadavg()}", flush=True)

        events = []
        start = time.perf_counter()
        gen = prepare_data_events(cfg.data, tok, False, 0, 0, TaskHandle())
        try:
            while True:
                events.append(next(gen))
        except StopIteration as done:
            data = done.value
        took = time.perf_counter() - start
        n = len(data.train) + len(data.validation) + len(data.test)
        print(f"Job data stage (prepare_data_events): {n:,} examples in {took:.1f} s = {n / took:,.0f} rows/s; "
              f"{len(events)} progress events, last {events[-1].message!r}; load {os.getloadavg()}", flush=True)
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()

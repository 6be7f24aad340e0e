"""Does the bundled model need the bundled knowledge base? Asks each bundled question twice, greedily:
with no context (it should fail: the island is invented) and with the gold passage pasted into the
prompt (it should mostly succeed: the answer is there to copy). Prints both accuracies.

The model is loaded as the app loads it (``load_model(ModelSource.parse("bundled"))``), the prompt is
wrapped in its chat template (``format_prompt``, the app's default USE_CHAT_TEMPLATE) and the answer is
written by the app's generation code (``generate_text``, greedy). The prompt wording here is this
script's own: it shows that the answers are reachable from their passage, not what the Build tab's
retrieval prompt scores.

A reply counts as right when it contains the gold answer after the same light normalisation on both
sides (lower case, punctuation and "the"/"a" dropped, thousands separators removed, number words up to
twenty read as digits); "exact" also prints how many replies are the gold answer and nothing else.

Run: python bench/knowledge_check.py [--limit N] [--only q01,q02] [--part 1/2] [--threads 1]
     [--max-new-tokens 40] [--show]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "resources" / "knowledge" / "kestrany"
NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
                "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"]

WITHOUT = "Answer the question in a few words.\n\nQuestion: {question}"
WITH = ("Answer the question in a few words, using only the document below.\n\n"
        "Document:\n{passage}\n\nQuestion: {question}")


def normalise(text: str) -> str:
    text = text.lower()
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)       # 18,500 -> 18500
    text = re.sub(r"[^\w\s]", " ", text)                 # 07:15 -> 07 15 on both sides
    words = [str(NUMBER_WORDS.index(w)) if w in NUMBER_WORDS else w for w in text.split()]
    return " ".join(w for w in words if w not in ("the", "a", "an"))


def judge(reply: str, gold: str) -> tuple[bool, bool]:
    """(exact, contains) after normalising both sides."""
    r, g = normalise(reply), normalise(gold)
    return r == g, bool(g) and f" {g} " in f" {r} "


def load_base() -> tuple[list[dict], dict[str, str]]:
    questions = json.loads((BASE / "questions.json").read_text(encoding="utf-8"))
    docs = {p.stem: p.read_text(encoding="utf-8") for p in sorted((BASE / "documents").glob("*.md"))}
    return questions, docs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=0, help="ask only the first N questions")
    ap.add_argument("--only", default="", help="ask only these question ids (comma-separated: q03,q23)")
    ap.add_argument("--part", default="1/1", help="ask only part i of n (1/2, 2/2: two processes share the work)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-new-tokens", type=int, default=40)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--show", action="store_true", help="print every reply")
    args = ap.parse_args()
    os.environ.setdefault("PLAYGROUND_HOME", os.path.expanduser("~/.cache/llm-playground-bench"))
    sys.path.insert(0, str(ROOT / "bench"))
    from _common import quiet_torch

    quiet_torch(args.threads)
    from playground.core.decoding.generation import GenerationSettings, format_prompt, generate_text
    from playground.core.models.loading import load_model
    from playground.core.models.sources import ModelSource
    from playground.core.prompting.prompts import USE_CHAT_TEMPLATE

    questions, docs = load_base()
    if args.only:
        questions = [q for q in questions if q["id"] in args.only.split(",")]
    i, n = (int(x) for x in args.part.split("/"))
    questions = questions[i - 1::n]
    if args.limit:
        questions = questions[:args.limit]
    loaded = load_model(ModelSource.parse("bundled"), device=args.device)
    settings = GenerationSettings.make(max_new_tokens=args.max_new_tokens, do_sample=False, top_n=0)
    print(f"model: {loaded.info.name} on {loaded.info.device} ({loaded.info.dtype}), greedy, "
          f"{args.max_new_tokens} new tokens, chat template {'on' if USE_CHAT_TEMPLATE else 'off'}; "
          f"{len(questions)} questions from {BASE.relative_to(ROOT)}")
    totals = {"without": [0, 0], "with passage": [0, 0]}
    start = time.perf_counter()
    for q in questions:
        passage = docs[q["passage_id"]]
        line = []
        for label, template in (("without", WITHOUT), ("with passage", WITH)):
            prompt = format_prompt(loaded, template.format(question=q["question"], passage=passage),
                                   USE_CHAT_TEMPLATE)
            reply = generate_text(loaded, prompt, settings).strip()
            exact, contains = judge(reply, q["answer"])
            totals[label][0] += exact
            totals[label][1] += contains
            line.append(f"{label}: {'RIGHT' if contains else 'wrong'} {reply!r}")
        if args.show:
            print(f"{q['id']} {q['question']}  [gold: {q['answer']}]\n    " + "\n    ".join(line), flush=True)
    n = len(questions)
    for label, (exact, contains) in totals.items():
        print(f"{label:13s}: {contains}/{n} right ({100 * contains / n:.0f}%), exact match {exact}/{n}")
    print(f"time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()

"""Does the bundled model need the bundled knowledge base? Asks each bundled question twice, greedily:
with no context (it should fail: the island is invented) and with the gold passage (its whole document)
in the prompt (it should mostly succeed: the answer is there to copy). Prints both accuracies.

The model is loaded as the app loads it (``load_model(ModelSource.parse("bundled"))``); the prompt is the
Build tab's own (``playground.core.retrieval.build_prompt``: its instruction, the passage numbered [1], the
question, in the model's chat template), with the gold document as the one passage, or no passage for the
answer without retrieval; the answer is written by the app's generation code (``generate_text``, greedy).
``--prompt plain`` asks with a shorter instruction of this script's own instead (the document, then the
question), to see how much of a miss is the model and how much the wording of the app's instruction.

A reply counts as right when it contains the gold answer after the same light normalisation on both
sides (lower case, punctuation and "the"/"a" dropped, thousands separators removed, number words up to
twenty read as digits); "exact" also prints how many replies are the gold answer and nothing else.

``--presets`` instead runs each failure-mode preset of the Build tab (``core.retrieval.PRESETS``) through
the retrieval core (index, search, prompt, answer) with the preset's settings, then with the tab's defaults
(128/32 tokens, hybrid, k = 4), and prints whether the chunk holding the answer was retrieved and whether the
answer is right.

Run: python bench/knowledge_check.py [--limit N] [--only q01,q02] [--part 1/2] [--threads 1]
     [--max-new-tokens 40] [--show] [--prompt app|plain] [--presets]
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

PLAIN = "Answer the question in a few words, using only the document below.\n\nDocument:\n{passage}\n\nQuestion: {question}"
DEFAULTS = {"chunk_size": 128, "overlap": 32, "method": "hybrid", "k": 4}  # the Build tab's starting values


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
    ap.add_argument("--prompt", choices=("app", "plain"), default="app",
                    help="app: the Build tab's build_prompt; plain: one short instruction, the document, the question")
    ap.add_argument("--presets", action="store_true", help="run the failure-mode presets through the retrieval core")
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
          f"{len(questions)} questions from {BASE.relative_to(ROOT)}; prompt: {args.prompt}")
    if args.presets:
        run_presets(loaded, settings, questions, args.show)
        return
    from playground.core.retrieval import build_prompt

    totals = {"without": [0, 0], "with passage": [0, 0]}
    start = time.perf_counter()
    for q in questions:
        passage = Passage(q["passage_id"], docs[q["passage_id"]])
        line = []
        for label, hits in (("without", []), ("with passage", [passage])):
            if args.prompt == "plain" and hits:
                text = format_prompt(loaded, PLAIN.format(passage=passage.text, question=q["question"]),
                                     USE_CHAT_TEMPLATE)
            else:  # the plain prompt without a passage is the app's prompt without retrieval
                text = build_prompt(q["question"], hits, loaded, use_chat_template=USE_CHAT_TEMPLATE).text
            reply = generate_text(loaded, text, settings).strip()
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


class Passage:
    """The gold document as one retrieved passage (what build_prompt reads of a chunk: id and text)."""

    def __init__(self, id: str, text: str) -> None:
        self.id, self.text = id, text


def run_presets(loaded, settings, questions, show: bool) -> None:
    """Each failure preset of the Build tab (``core.retrieval.PRESETS``) with its own settings and with the
    defaults: passage retrieved? answer right?"""
    from playground.core.decoding.generation import generate_text
    from playground.core.retrieval import PRESETS, ChunkSettings, RagIndex, build_prompt, load_bundled

    base = load_bundled("kestrany")
    by_id = {q["id"]: q for q in questions}
    indexes: dict = {}
    for p in PRESETS:
        q = by_id.get(p.question_id, {"answer": None, "passage_id": None})
        own = {"chunk_size": p.chunk_size or DEFAULTS["chunk_size"],
               "overlap": DEFAULTS["overlap"] if p.overlap is None else p.overlap,
               "method": p.method or DEFAULTS["method"], "k": p.k or DEFAULTS["k"]}
        for label, s in (("preset", own), ("defaults", DEFAULTS)):
            key = (s["chunk_size"], s["overlap"])
            if key not in indexes:
                indexes[key] = RagIndex.open_or_build(None, base.documents, ChunkSettings(*key))
            question = p.question_text(base)
            hits = indexes[key].search(question, method=s["method"], k=s["k"])
            prompt = build_prompt(question, hits, loaded)
            reply = generate_text(loaded, prompt.text, settings).strip()
            held = q["answer"] is not None and any(
                h.chunk.doc_id == q["passage_id"] and normalise(q["answer"]) in normalise(h.chunk.text) for h in hits)
            right = judge(reply, q["answer"])[1] if q["answer"] else None
            print(f"{p.key:17s} {label:8s} size {key[0]:3d}/{key[1]:2d} {s['method']:6s} k={s['k']:2d} "
                  f"prompt {prompt.n_tokens:5d} tokens | answer chunk retrieved: "
                  f"{'-' if q['answer'] is None else 'yes' if held else 'NO '} | "
                  f"answer {'-' if right is None else 'RIGHT' if right else 'wrong'}: {reply[:90]!r}", flush=True)
        if show:
            print(f"    {p.sentence}")


if __name__ == "__main__":
    main()

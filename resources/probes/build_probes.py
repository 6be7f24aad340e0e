"""Build probes.json from candidates.json: keep only the probes the bundled base model gets right.

    python resources/probes/build_probes.py

A probe the base already fails measures nothing, so it is dropped; the base's replies and margins
are recorded beside the kept probes so the filter can be checked.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent


def main() -> None:
    from playground.core.lifecycle.forgetting import run_probes
    from playground.core.models.sources import ModelSource
    from playground.core.models.loading import load_model

    cand = json.loads((HERE / "candidates.json").read_text(encoding="utf-8"))
    loaded = load_model(ModelSource("bundled"), device="cpu", dtype="float32")
    from playground.core.base.handle import TaskHandle

    res = run_probes(loaded.model, loaded.tokenizer, cand, TaskHandle(lambda p, m: print(m, flush=True)))
    questions = [dict(q, base_reply=r) for q, r, ok in zip(cand["questions"], res.replies, res.question_pass) if ok]
    facts = [dict(f, base_margin=round(m, 3)) for f, m in zip(cand["facts"], res.margins) if m > 0]
    out = {"note": "Kept only where the bundled SmolLM2-135M-Instruct (FP32, greedy) is right; "
                   "built by build_probes.py from candidates.json.",
           "kept": {"questions": f"{len(questions)} of {len(cand['questions'])}",
                    "facts": f"{len(facts)} of {len(cand['facts'])}"},
           "questions": questions, "facts": facts}
    (HERE / "probes.json").write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(out["kept"], f"mean kept margin {sum(f['base_margin'] for f in facts) / max(len(facts), 1):.2f}")
    for q, r, ok in zip(cand["questions"], res.replies, res.question_pass):
        print("PASS" if ok else "fail", q["q"], "->", r.strip().replace("\n", " ")[:80])


if __name__ == "__main__":
    main()

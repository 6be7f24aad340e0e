"""Re-check the forgetting probes on the bundled model: every kept probe must still pass on the base.

    python bench/check_probes.py

resources/probes/build_probes.py keeps only the probes the bundled base model gets right; this runs all
of them again (about 35 s of two quiet cores, ten CPU-minutes on a busy machine, which is why it is a
bench and not part of the test suite) and prints each failure. Exit status 1 when any probe fails.
Run it after changing the probes, the bundled model or the forgetting core.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    from playground.core.lifecycle import forgetting as F
    from playground.core.models.loading import load_model
    from playground.core.models.sources import ModelSource

    probes = F.load_probes()
    print(f"{len(probes['questions'])} questions, {len(probes['facts'])} facts")
    loaded = load_model(ModelSource("bundled"), device="cpu")
    start = time.perf_counter()
    result = F.run_probes(loaded.model, loaded.tokenizer, probes)
    failed = [p["q"] for p, ok in zip(probes["questions"], result.question_pass) if not ok]
    negative = [i for i, m in enumerate(result.margins) if m <= 0]
    print(f"ran in {time.perf_counter() - start:.1f} s")
    for q in failed:
        print(f"FAILED question: {q}")
    for i in negative:
        print(f"FAILED fact #{i}: margin {result.margins[i]:.3f} (the true continuation is not the likelier one)")
    ok = len(probes["questions"]) >= 10 and len(probes["facts"]) >= 15 and not failed and not negative
    print("all kept probes pass on the bundled base" if ok else "some probes no longer pass")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

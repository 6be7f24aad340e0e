"""Screenshots of the Evaluate tab's Arena section in each state, offscreen:

    python bench/arena_screens.py [--prefix docs/screens/evaluate-arena] [--model]

Without ``--model`` the two systems are files of outputs made from the bundled test dialogues (the
people's reference summaries, and a "first turn" baseline: the dialogue's first line), so no model is
needed; ``--model`` loads the bundled model and compares zero-shot with 2-shot instead (slow on a busy
CPU). States: empty, the blind answers, after a vote (names revealed, leaderboard), a leaderboard of
24 votes with the pairs sent to Align, one system compared with itself, and a vote file of another
version refused.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def outputs_file(folder: Path) -> Path:
    from playground.core.evaluation.datasets import load_split

    path = folder / "outputs.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "reference", "first-turn"])
        for ex in load_split("test").examples:
            first = ex.input.strip().splitlines()[0].split(":", 1)[-1].strip()
            w.writerow([ex.id, ex.reference, first])
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", default="docs/screens/evaluate-arena")
    parser.add_argument("--model", action="store_true", help="zero-shot vs 2-shot on the bundled model")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="arena-screens-"))
    os.environ["PLAYGROUND_HOME"] = str(home)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    # PySide6 6.12.0's Signal.emit() returns True without taking a reference: each emit costs True one
    # reference, and after as many emits as True has references Python aborts ("bool_dealloc"). A short
    # script has few; these keep the 24 rounds below from running out (the app itself has the same bug).
    _refs = [True, None] * 1_000_000  # noqa: F841 (QTimer.singleShot(0, fn), which qasync uses, costs None one too)
    from playground.core.base.settings import Settings
    from playground.core.evaluation.run import FILE
    from playground.qt.context import AppContext
    from playground.qt.evaluate.panel import EvaluatePanel

    ctx = AppContext(settings=Settings(home / "settings.json"))
    if args.model:
        from playground.core.models.loading import load_model
        from playground.core.models.sources import ModelSource

        ctx.session.set(load_model(ModelSource("bundled", ""), device="cpu"))
    panel = EvaluatePanel(ctx)
    panel.resize(1200, 693)  # the room a 1200x800 window leaves a tab
    panel.show()
    page = next(p for p in panel.pages if type(p).__name__ == "ArenaPage")
    panel.sections.setCurrentWidget(page)

    def settle(until=lambda: True, limit: int = 600000) -> None:
        from PySide6.QtCore import QElapsedTimer

        t = QElapsedTimer()
        t.start()
        while True:
            app.processEvents()
            if until() and not page.slot.busy and not page.board_slot.busy:
                break
            if t.elapsed() > limit:
                raise SystemExit("timed out")
        for _ in range(5):
            app.processEvents()

    def snap(name: str) -> None:
        settle()
        path = f"{args.prefix}-{name}.png"
        panel.grab().save(path)
        print("saved", path)

    if not args.model:
        path = outputs_file(home)
        for row, column in zip(page.rows, ("reference", "first-turn")):
            row.kind_combo.setCurrentIndex([row.kind_combo.itemData(i) for i in range(row.kind_combo.count())].index(FILE))
            row.set_path(str(path))
            row.column_combo.setCurrentText(column)
            row.enabled_check.setChecked(True)
    snap("1-empty")
    page.generate()
    settle(lambda: page.matchup is not None)
    snap("2-blind")
    page.vote("a" if "reference" in page.matchup.a else "b")
    settle(lambda: page.board.table.rowCount() > 0)
    snap("3-voted")
    rng = random.Random(1)
    for _ in range(23):
        page.next_prompt()
        settle(lambda: page.matchup is not None and page.voted is None)
        ref_left = "reference" in page.matchup.a
        r = rng.random()
        page.vote("tie" if r < 0.1 else ("a" if ref_left else "b") if r < 0.85 else ("b" if ref_left else "a"))
    settle(lambda: page.board.table.rowCount() > 0)
    page.send_to_align()
    snap("4-leaderboard")
    page.rows[1].enabled_check.setChecked(False)
    page.next_prompt()
    settle(lambda: page.matchup is not None and page.voted is None)
    snap("5-one-system")
    page.store = None
    (home / "data" / "arena" / "votes.jsonl").write_text(json.dumps({"version": 2, "prompt": "p"}) + "\n")
    page._open_store()
    snap("6-other-version")
    ctx.runner.shutdown(wait=True)
    sys.stdout.flush()
    os._exit(0)  # past the PySide6 6.12.0 reference bug above, a normal exit can abort while tearing down


if __name__ == "__main__":
    raise SystemExit(main())

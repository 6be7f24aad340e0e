"""Lab 1 as a newcomer does it, on the bundled model, in the real window (offscreen): prints the waits only
(from the click to the step's tick), then exports the lab as a notebook and times running its code as one
script in a subprocess (and, with --lab2-notebook, a LoRA + evaluation notebook too).

Run: QT_QPA_PLATFORM=offscreen python bench/lab1_walkthrough.py [--lab2-notebook]
State the machine load (uptime) beside the figures: other work on the CPU stretches every wait.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lab2-notebook", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("PLAYGROUND_HOME", os.path.expanduser("~/.cache/llm-playground-bench"))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from playground.core.models.sources import ModelSource
    from playground.core.base.settings import Settings
    from playground.qt.context import AppContext
    from playground.qt.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    tmp = Path(tempfile.mkdtemp(prefix="lab1-bench-"))
    ctx = AppContext(settings=Settings(tmp / "settings.json"))
    w = MainWindow(ctx)
    w.build_tabs()
    w.show()

    def wait(cond, timeout=900.0) -> float:
        t0 = time.perf_counter()
        while not cond():
            if time.perf_counter() - t0 > timeout:
                raise SystemExit("timed out")
            loop = QEventLoop()
            QTimer.singleShot(20, loop.quit)
            loop.exec()
        return time.perf_counter() - t0

    t0 = time.perf_counter()
    ctx.load_model(ModelSource("bundled"))
    wait(lambda: ctx.session.current is not None)
    print(f"load the bundled model: {time.perf_counter() - t0:.1f} s")
    dock = w.toggle_labs(True)
    dock.reset_lab()
    p, g, s = w.panel("PromptPanel"), w.panel("GeneratePanel"), w.panel("SamplingPanel")
    waits = {}

    def step(sid, act):
        wait(lambda: not any(getattr(x, "busy", False) for x in w.panels))
        t = time.perf_counter()
        act()
        wait(lambda: dock.is_ticked(sid))
        waits[sid] = time.perf_counter() - t
        print(f"{sid:15s} {waits[sid]:6.1f} s", flush=True)

    p.shots_spin.setValue(0)
    step("zero-shot", p.run_button.click)
    p.shots_spin.setValue(2)
    step("shots", p.compare_button.click)
    p.compare_mode.setCurrentIndex(p.compare_mode.findData("templates"))
    p.shots_spin.setValue(0)
    step("templates", p.compare_button.click)
    # as the lab says for a model that reads 8,192 tokens: paste the dialogue many times over
    dialogue = p.dialogue_edit.toPlainText()
    step("context-window", lambda: p.dialogue_edit.setPlainText("\n".join([dialogue] * 80)))
    p.dialogue_edit.setPlainText(dialogue)
    p.shots_spin.setValue(0)
    g.prompt_edit.setPlainText("Write a short poem about the sea.")
    g.mode.setCurrentIndex(0)
    step("greedy", g.generate_button.click)
    s.controls.sample_radio.setChecked(True)
    wait(lambda: not s.busy)
    s.read_button.click()
    wait(lambda: s.five_button.isEnabled())
    s.controls.temperature.setValue(150)
    step("temperature", s.five_button.click)
    s.controls.top_k.setValue(5)
    step("top-k", s.five_button.click)
    s.controls.top_k.setValue(0)
    s.controls.top_p.setValue(40)
    step("top-p", s.five_button.click)
    print(f"lab 1 waits in all: {sum(waits.values()):.1f} s over {len(waits)} steps "
          f"(rollouts of {s.steps_spin.value()} tokens, prompt answers up to {p.max_tokens.value()} tokens, "
          f"generation up to {g.max_tokens.value()} tokens)")

    def run_notebook(path: Path, name: str) -> None:
        import nbformat

        from playground.core.labs.notebook import notebook_script

        script = path.with_suffix(".py")
        script.write_text(notebook_script(nbformat.read(str(path), as_version=4)), encoding="utf-8")
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)
        t = time.perf_counter()
        out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, cwd=tmp)
        status = "ok" if out.returncode == 0 else f"FAILED: {out.stderr[-400:]}"
        print(f"notebook {name}: {time.perf_counter() - t:.1f} s as one script ({status})")

    nb = tmp / "lab1.ipynb"
    w.export_notebook(str(nb), dock.lab())
    run_notebook(nb, "lab 1 (prompt comparison of every template, greedy generation, next-token)")
    if args.lab2_notebook:
        from playground.core.labs.notebook import build_notebook, write_notebook
        from playground.qt.labs.export import model_ref

        cols = [c.result for c in p.compare_view.columns]
        exps = [{"kind": "finetune", "method": "lora", "steps": 4,
                 "texts": [f"{c.prompt}{c.summary}" for c in cols]},
                {"kind": "evaluation", "predictions": [c.summary or " " for c in cols],
                 "references": [p.reference() or "x"] * len(cols)}]
        nb2 = tmp / "lab2.ipynb"
        write_notebook(build_notebook(model_ref(ctx.session.current), exps), nb2)
        run_notebook(nb2, "LoRA 4 steps + ROUGE")
    ctx.runner.shutdown(wait=True)


if __name__ == "__main__":
    main()

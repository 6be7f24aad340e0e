"""Attention extraction + head-grid render vs a bare eager forward with output_attentions=True.

    PLAYGROUND_HOME=/tmp/pg-bench python bench/attention.py [--tokens 512] [--repeats 3] [--long]

Prints the figures; the ratio (target <= 1.5) compares two timings taken in the same run,
alternating, so a busy machine slows both alike. With --long it also times a 1,024-token text
(downsampled at the default memory limit) and how long each view takes to redraw on the GUI thread.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SENTENCES = (
    "The old lighthouse keeper climbed the stairs every evening to light the lamp. "
    "Ships passing the rocky coast relied on its beam to find the harbour. "
    "One winter night a storm knocked out the power across the whole island. "
    "He lit the backup oil lamp by hand and kept it burning until dawn. "
    "In the morning the fishermen came to thank him, carrying bread and fresh fish. "
)


def prompt_of(tokenizer, n: int) -> str:
    """A natural-looking text of exactly ``n`` tokens."""
    ids = tokenizer(SENTENCES * (n // 40 + 2), add_special_tokens=False)["input_ids"]
    for cut in range(n, n - 20, -1):
        text = tokenizer.decode(ids[:cut])
        if len(tokenizer(text)["input_ids"]) == n:
            return text
    raise SystemExit(f"could not build a {n}-token prompt")


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--long", action="store_true", help="also time a 1,024-token text and view redraws")
    args = parser.parse_args()

    import torch
    from PySide6.QtWidgets import QApplication

    from playground.core.attention import extract_attention, summarize
    from playground.core.models.sources import ModelSource
    from playground.core.models.loading import load_model
    from playground.qt.inside.heads_view import HeadGridView

    app = QApplication.instance() or QApplication([])
    loaded = load_model(ModelSource("bundled"), device="cpu")
    model = loaded.model
    text = prompt_of(loaded.tokenizer, args.tokens)
    ids = torch.tensor([loaded.tokenizer(text)["input_ids"]])
    print(f"model: {loaded.info.name}, {loaded.info.num_layers} layers × {loaded.info.num_heads} heads; "
          f"prompt {ids.shape[1]} tokens; torch threads {torch.get_num_threads()}")
    grid = HeadGridView()
    grid.resize(900, 800)
    grid.show()
    app.processEvents()

    def bare():
        previous = model.config._attn_implementation
        model.set_attn_implementation("eager")
        try:
            with torch.inference_mode():
                out = model(input_ids=ids, output_attentions=True, use_cache=False)
            return len(out.attentions)
        finally:
            model.set_attn_implementation(previous)

    def ours():
        result = extract_attention(loaded, text)
        amap = result.main
        layer = amap.num_layers // 2
        grid.show_layer(amap.layer(layer), amap.query_labels, amap.key_labels, "bench", 0)
        grid.canvas.draw()  # the render itself, not a deferred request
        return result

    bare()  # warm-up: first calls pay for lazy initialisation
    ours()
    t_bare, t_ours = [], []
    for _ in range(args.repeats):
        t_bare.append(timed(bare)[0])
        t_ours.append(timed(ours)[0])
    mb, mo = statistics.median(t_bare), statistics.median(t_ours)
    print(f"bare eager forward, output_attentions=True: median {mb:.2f} s  (runs: "
          + ", ".join(f"{t:.2f}" for t in t_bare) + ")")
    print(f"extraction + head-grid render:              median {mo:.2f} s  (runs: "
          + ", ".join(f"{t:.2f}" for t in t_ours) + ")")
    print(f"ratio (median / median): {mo / mb:.2f}   ratio (best / best): {min(t_ours) / min(t_bare):.2f}   "
          f"target <= 1.5")
    result = ours()
    t_sum, _ = timed(lambda: summarize(result))
    print(f"mean over heads + rollout of all layers (worker, once per analysis): {t_sum:.2f} s")

    if args.long:
        from playground.core.base.settings import Settings
        from playground.qt.context import AppContext
        from playground.qt.inside import InsidePanel

        long_text = prompt_of(loaded.tokenizer, 1024)
        t_long, long_result = timed(lambda: summarize(extract_attention(loaded, long_text, over_limit="downsample")))
        print(f"1,024 tokens: extraction + summaries {t_long:.2f} s (in the worker); {long_result.plan.describe()}")
        ctx = AppContext(settings=Settings(Path(os.environ.get("PLAYGROUND_HOME", "/tmp")) / "bench-settings.json"))
        ctx.session.set(loaded)
        panel = InsidePanel(ctx)
        panel.resize(1280, 860)
        panel.show()
        app.processEvents()
        panel.controls.policy_combo.setCurrentIndex(panel.controls.policy_combo.findData("downsample"))
        panel.text_edit.setPlainText(long_text)
        panel.update_tokens()
        # Responsiveness: a 10 ms timer on the GUI thread while the analysis runs through the task
        # runner, as in the app. The longest gap between ticks is the longest the window froze.
        from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer

        clock, ticks = QElapsedTimer(), []
        clock.start()
        timer = QTimer()
        timer.setInterval(10)
        timer.timeout.connect(lambda: ticks.append(clock.elapsed()))
        finished = []
        panel.sig_analysis_finished.connect(finished.append)
        loop = QEventLoop()
        panel.sig_analysis_finished.connect(loop.quit)
        timer.start()
        t0 = time.perf_counter()
        panel.analyse()
        loop.exec()
        timer.stop()
        gaps = sorted(b - a for a, b in itertools.pairwise(ticks))
        print(f"1,024 tokens through the Inside tab: {time.perf_counter() - t0:.2f} s; GUI thread during it: "
              f"{len(ticks)} ticks of a 10 ms timer, longest gap {gaps[-1] if gaps else 0} ms, "
              f"99th percentile {gaps[int(0.99 * (len(gaps) - 1))] if gaps else 0} ms "
              f"({'ok' if finished and finished[0] is not None else 'FAILED'})")
        for name in ("tokens", "attention", "heads", "lines"):
            panel.view_tabs.setCurrentIndex(list(panel.views).index(name))
            if name == "tokens":
                t, _ = timed(lambda: (panel.update_tokens(), app.processEvents()))
                print(f"1,024 tokens: GUI-thread tokenize + token view: {t * 1000:.0f} ms")
                continue
            view = panel.views[name]
            for head in (0, "mean", "rollout") if name == "attention" else (0,):
                panel.head_combo.setCurrentIndex(panel.head_combo.findData(head))
                t, _ = timed(lambda v=view: (panel.refresh(), v.canvas.draw()))
                print(f"1,024 tokens: GUI-thread redraw of '{name}' ({head}): {t * 1000:.0f} ms")
        ctx.runner.shutdown(wait=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

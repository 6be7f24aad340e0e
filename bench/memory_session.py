"""Resident memory of the app's process through a scripted session of labs 1-3 (issue 35, target <= 3 GB).

The whole window is built offscreen with a fresh PLAYGROUND_HOME, the bundled model is loaded, then the
labs' main actions run through the tabs' own buttons, as a learner does them, with few steps each:
Lab 1 (Prompt 0/2-shot, Inside tokens and attention, Generate greedy, Sampling five rollouts),
Lab 2 (Evaluate before, Fine-tune full / LoRA / prompt tuning, "Use in playground", Evaluate after),
Lab 3 (Align labels, an Arena vote, the reward model, GRPO with and without KL) and the Lifecycle tab's
precision sweep with "Use this precision" (then back to FP32).

After each step it prints the process's resident memory (VmRSS), its peak (VmHWM), the bytes of every
torch tensor storage alive and the models alive (found by walking the garbage collector's objects, so the
figure does not depend on the app's own bookkeeping), and the model bar's "held" line.

Run: QT_QPA_PLATFORM=offscreen nice python bench/memory_session.py [--examples 4] [--steps 2]
Say the load (uptime, printed at the start and the end): memory figures do not depend on it, times do.
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MIB = 1024 * 1024


def proc_status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def tensors_alive() -> tuple[int, list[str]]:
    """(bytes of the distinct tensor storages alive, 'Class size' of each model alive) from gc's objects."""
    import torch
    from transformers import PreTrainedModel

    seen, total, models = set(), 0, []
    # model loads freeze what is alive (runtime.quiet_loading) and gc.get_objects() skips frozen objects:
    # unfreeze to look, freeze again (nothing is collected here, so the figures are not changed by looking)
    frozen = gc.get_freeze_count()
    gc.unfreeze()
    objects = gc.get_objects()
    if frozen:
        gc.freeze()
    for obj in objects:
        try:
            if isinstance(obj, torch.Tensor):
                st = obj.untyped_storage()
                key = (st.data_ptr(), st.nbytes())
                if key not in seen and st.device.type == "cpu":
                    seen.add(key)
                    total += st.nbytes()
            elif isinstance(obj, PreTrainedModel):
                own = {(p.untyped_storage().data_ptr()): p.untyped_storage().nbytes()
                       for p in list(obj.parameters()) + list(obj.buffers())}
                models.append(f"{type(obj).__name__} {sum(own.values()) / MIB:.0f} MiB")
        except Exception:  # noqa: BLE001 (a tensor subclass without storage: not counted)
            continue
    del objects
    # a PeftModel's base is a PreTrainedModel inside another: both are listed, sizes overlap
    return total, sorted(models)


def who_holds(skip_ids: set[int], depth: int = 8) -> None:
    """For each top-level model alive that the model bar does not name: a chain of what refers to it."""
    import types

    import torch
    from transformers import PreTrainedModel

    frozen = gc.get_freeze_count()
    gc.unfreeze()
    gc.collect()
    objects = gc.get_objects()  # frozen again at the end: get_referrers does not see frozen objects
    inner = {id(m) for o in objects if isinstance(o, torch.nn.Module) for m in o.modules() if m is not o}
    orphans = [o for o in objects if isinstance(o, PreTrainedModel) and id(o) not in inner and id(o) not in skip_ids]
    del objects
    mine = {id(orphans)}

    def describe(r) -> str:
        if isinstance(r, types.FrameType):
            return f"frame {r.f_code.co_name} ({r.f_code.co_filename.rsplit('/', 2)[-1]}:{r.f_lineno})"
        if isinstance(r, types.FunctionType):
            return f"function {r.__module__}.{r.__qualname__}"
        if isinstance(r, dict):
            owners = [o for o in gc.get_referrers(r) if getattr(o, "__dict__", None) is r]
            return f"__dict__ of {type(owners[0]).__name__}" if owners else f"dict({len(r)})"
        return type(r).__name__

    def walk(obj, level: int, seen: set) -> None:
        if level >= depth:
            return
        refs = [r for r in gc.get_referrers(obj) if id(r) not in seen and id(r) not in mine
                and not isinstance(r, type(iter([])))
                and not (isinstance(r, types.FrameType) and r.f_code.co_name in ("who_holds", "walk"))]
        for r in refs[:3]:
            print("    " + "  " * level + "<- " + describe(r))
            seen.add(id(r))
            if not isinstance(r, types.ModuleType) and not (isinstance(r, dict) and "__name__" in r):
                walk(r, level + 1, seen)

    while orphans:
        model = orphans.pop()
        print(f"  not named: {type(model).__name__} at {id(model):#x}")
        walk(model, 0, {id(model), id(mine)})
        del model
    if frozen:
        gc.freeze()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=4, help="training examples per fine-tuning run")
    ap.add_argument("--steps", type=int, default=2, help="optimizer steps of each Align run")
    ap.add_argument("--skip", default="", help="comma-separated step names to skip (e.g. 'lab2 fine-tune full')")
    ap.add_argument("--only", default="", help="comma-separated prefixes: run only the steps named so (e.g. lifecycle)")
    ap.add_argument("--diagnose", action="store_true", help="at the end, say what holds each model not named")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(), flush=True)
    home = Path(tempfile.mkdtemp(prefix="memory-session-"))
    os.environ["PLAYGROUND_HOME"] = str(home)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from _common import quiet_torch

    quiet_torch(None)
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from playground.core.base.settings import Settings
    from playground.core.models.sources import ModelSource
    from playground.qt.context import AppContext
    from playground.qt.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    ctx = AppContext(settings=Settings(home / "settings.json"))
    w = MainWindow(ctx)
    w.build_tabs()
    w.show()
    t_start = time.perf_counter()
    rows: list[tuple[str, int]] = []

    def pump(ms: int = 20) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def wait(cond, what: str, timeout: float = 1200.0) -> None:
        t0 = time.perf_counter()
        while not cond():
            if time.perf_counter() - t0 > timeout:
                raise SystemExit(f"timed out waiting for {what}")
            pump()

    def idle() -> None:
        wait(lambda: not any(getattr(p, "busy", False) for p in w.panels) and not ctx.load_slot.busy, "idle")
        for p in w.panels:
            for page in getattr(p, "pages", []):
                wait(lambda: not page.slot.busy, f"{type(page).__name__} idle")
        pump(300)
        keeper = getattr(ctx, "memory", None)  # the app gives memory back when work ends (not on older trees)
        wait(lambda: keeper is None or not keeper.pending, "the release of what is no longer used")

    def measure(name: str) -> None:
        idle()
        held = ""
        bar = w.model_bar
        if hasattr(bar, "held_text"):
            held = bar.held_text()
        tensors, models = tensors_alive()
        rss = proc_status("VmRSS")
        rows.append((name, rss))
        print(f"{name:28s} RSS {rss / MIB:7.0f} MiB  peak {proc_status('VmHWM') / MIB:7.0f} MiB  "
              f"tensors {tensors / MIB:6.0f} MiB  t {time.perf_counter() - t_start:6.0f} s", flush=True)
        print(f"{'':28s} models alive: {', '.join(models) or 'none'}", flush=True)
        if held:
            releases = getattr(getattr(ctx, "memory", None), "releases", "?")
            print(f"{'':28s} model bar: {held}; memory given back {releases} times so far", flush=True)

    def step(name: str, act) -> None:
        only = [x for x in args.only.split(",") if x]
        if name in skip or (only and not any(name.startswith(x) for x in only)):
            print(f"{name:28s} skipped", flush=True)
            return
        try:
            act()
        except SystemExit:
            raise
        except Exception as exc:  # noqa: BLE001 (a step that cannot run is said, the session goes on)
            print(f"{name:28s} FAILED: {type(exc).__name__}: {exc}", flush=True)
        measure(name)

    measure("window, no model")
    ctx.load_model(ModelSource("bundled"), device="cpu")
    wait(lambda: ctx.session.current is not None, "the model")
    measure("bundled model loaded")

    # ---- Lab 1: prompting, tokens and attention, generation, sampling
    p, g, s = w.panel("PromptPanel"), w.panel("GeneratePanel"), w.panel("SamplingPanel")
    inside = w.panel("InsidePanel")

    def prompt_shots() -> None:
        p.max_tokens.setValue(24)
        p.shots_spin.setValue(0)
        p.run_button.click()
        idle()
        p.shots_spin.setValue(2)
        p.compare_button.click()

    step("lab1 prompt 0/2-shot", prompt_shots)

    def look_inside() -> None:
        w.tabs.setCurrentIndex(w.panels.index(inside))
        inside.analyse_button.click()

    step("lab1 inside attention", look_inside)

    def generate() -> None:
        g.prompt_edit.setPlainText("Write a short poem about the sea.")
        g.max_tokens.setValue(32)
        g.generate_button.click()

    step("lab1 generate greedy", generate)

    def sampling() -> None:
        s.controls.sample_radio.setChecked(True)
        idle()
        s.read_button.click()
        wait(lambda: s.five_button.isEnabled(), "five")
        s.five_button.click()

    step("lab1 sampling rollouts", sampling)

    # ---- Lab 2: evaluate, fine-tune three ways, evaluate again
    ev = w.panel("EvaluatePanel")
    ft = w.panel("FinetunePanel")

    def evaluate() -> None:
        w.tabs.setCurrentIndex(w.panels.index(ev))
        ev.sections.setCurrentIndex(0)
        ev.count_spin.setValue(2)
        ev.max_tokens.setValue(16)
        ev.run_button.click()

    step("lab2 evaluate before", evaluate)

    def finetune(method: str) -> None:
        w.tabs.setCurrentIndex(w.panels.index(ft))
        wait(lambda: ft.data_page.preview is not None, "data preview")
        ft.go_to(0)
        ft.next_button.click()
        data = ft.data_page
        data.limit_spin.setValue(args.examples)
        data.max_spin.setValue(160)
        data.val_limit_spin.setValue(2)
        wait(lambda: data.preview is not None and data.task is None, "data")
        ft.next_button.click()
        m = ft.method_page
        m.method_buttons[method].click()
        m.accum_spin.setValue(2)
        ft.next_button.click()
        tr = ft.train_page
        tr.eval_spin.setValue(2)
        tr.save_spin.setValue(0)
        tr.test_spin.setValue(2)
        tr.tokens_spin.setValue(8)
        tr.start_button.click()
        wait(lambda: tr.busy, "the run to start", 60)
        wait(lambda: not tr.busy, "the run")

    step("lab2 fine-tune full", lambda: finetune("full"))
    step("lab2 fine-tune LoRA", lambda: finetune("lora"))

    def use_lora() -> None:
        ft.result_page.use_check.setChecked(True)
        wait(lambda: ctx.session.adapter is not None, "the adapter")

    step("lab2 use LoRA in playground", use_lora)
    step("lab2 fine-tune prompt tuning", lambda: finetune("prompt_tuning"))
    step("lab2 evaluate after", evaluate)

    # ---- Lab 3: labels, arena, reward model, GRPO with and without KL
    align = w.panel("AlignPanel")

    def labels() -> None:
        ctx.use_adapter(False)
        w.tabs.setCurrentIndex(w.panels.index(align))
        fb = align.feedback
        for _ in range(2):
            fb.sample.click()
            wait(lambda: fb.pick_a.isEnabled(), "two samples")
            fb.pick_a.click()
            idle()

    step("lab3 align labels", labels)

    def arena() -> None:
        w.tabs.setCurrentIndex(w.panels.index(ev))
        page = next(x for x in ev.pages if type(x).__name__ == "ArenaPage")
        ev.sections.setCurrentWidget(page)
        page.generate_button.click()
        wait(lambda: page.matchup is not None and not page.slot.busy, "the matchup")
        page.vote("a")

    step("lab3 arena vote", arena)

    def reward() -> None:
        w.tabs.setCurrentIndex(w.panels.index(align))
        align.steps.setCurrentWidget(align.reward)
        align.reward.pairs.setValue(8)
        align.reward.test_pairs.setValue(4)
        align.reward.train.click()

    step("lab3 reward model", reward)

    def optimize(preset: str) -> None:
        op = align.optimize
        align.steps.setCurrentWidget(op)
        op.preset.setCurrentText(preset)
        op.rows["training.max_steps"].setValue(args.steps)
        op.rows["method.group_size"].setValue(2)
        op.rows["method.max_new_tokens"].setValue(12)
        op.start_btn.click()

    step("lab3 GRPO no KL", lambda: optimize("Reward hacking: count 'Person', beta 0"))
    step("lab3 GRPO with KL", lambda: optimize("Same reward, beta 0.5 (KL holds it)"))

    # ---- Lifecycle: a precision sweep, one precision used, then back to the full model
    life = w.panel("LifecyclePanel")

    def precision() -> None:
        w.tabs.setCurrentIndex(w.panels.index(life))
        page = life.precision
        life.sections.setCurrentWidget(page)
        for name, box in page.checks.items():
            if box.isChecked() != (name in {"fp32", "bf16", "int8"}):
                box.click()
        page.bar.run_button.click()
        wait(lambda: page.slot.busy, "the sweep to start", 30)
        wait(lambda: not page.slot.busy, "the sweep")
        page.use_combo.setCurrentIndex(page.use_combo.findData("bf16"))
        page.use_button.click()
        wait(lambda: ctx.session.current is not None and "BF16" in ctx.session.current.info.dtype.upper(),
             "BF16 in use", 300)

    step("lifecycle precision + BF16", precision)

    def back_to_fp32() -> None:
        page = life.precision
        page.use_combo.setCurrentIndex(page.use_combo.findData("fp32"))
        page.use_button.click()
        wait(lambda: "BF16" not in ctx.session.current.info.dtype.upper(), "FP32 in use", 300)

    step("lifecycle back to FP32", back_to_fp32)
    gc.collect()
    measure("end (after gc.collect)")
    releases = getattr(getattr(ctx, "memory", None), "releases", None)
    if releases is not None:
        from playground.core.base.memory import release_unused

        release_unused()
        measure(f"end (released again; {releases} before)")
    if args.diagnose:
        from playground.core.base.memory import holdings, session_holdings
        from playground.core.models.encoder import encoders_alive

        named = session_holdings(ctx.session) + holdings()
        skip_ids = {id(getattr(o, "model", o)) for _, o in named} | {id(m) for m in encoders_alive()}
        who_holds(skip_ids)
    print("\nResident memory by step (MiB):")
    for name, rss in rows:
        print(f"  {name:28s} {rss / MIB:7.0f}")
    print(f"end of session: {rows[-1][1] / MIB:.0f} MiB resident, peak {proc_status('VmHWM') / MIB:.0f} MiB; "
          f"{time.perf_counter() - t_start:.0f} s")
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(), flush=True)
    for p in w.panels:
        if getattr(p, "busy", False):
            p.stop()
    ctx.runner.shutdown(wait=True)


if __name__ == "__main__":
    main()

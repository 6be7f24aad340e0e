"""A real miniature scaling experiment: byte-level tiny Llamas trained from scratch on the bundled
text, every size for the same FLOP budget (C ≈ 6·N·D), held-out loss against FLOPs."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from playground.core.base.errors import InputError
from playground.core.base.handle import TaskHandle, ensure_handle
from playground.core.base.progress import report_step

SEQ_LEN = 64
BATCH = 8
MIN_STEPS = 10  # fewer steps than this trains nothing worth plotting
EVAL_POINTS = 6  # held-out evaluations per size, at the same FLOP fractions for every size
DEFAULT_BUDGET = 1e12
SPAN_NOTE = ("This experiment spans about one decade of compute on byte-level toy models; the "
             "published laws were fitted over about eight decades on real models.")


@dataclass(frozen=True)
class TinySize:
    """One tiny byte-level Llama shape."""

    name: str
    hidden: int
    layers: int
    heads: int
    intermediate: int

    def config(self):
        from transformers import LlamaConfig

        return LlamaConfig(vocab_size=256, hidden_size=self.hidden, intermediate_size=self.intermediate,
                           num_hidden_layers=self.layers, num_attention_heads=self.heads,
                           num_key_value_heads=self.heads, max_position_embeddings=SEQ_LEN,
                           tie_word_embeddings=True, bos_token_id=None, eos_token_id=None, pad_token_id=None)

    @property
    def params(self) -> int:
        """Parameters (all of them, embedding included), counted without building the model."""
        h, i, L = self.hidden, self.intermediate, self.layers
        return 256 * h + L * (4 * h * h + 3 * h * i + 2 * h) + h


SIZES = (
    TinySize("30k", 32, 2, 4, 64),
    TinySize("95k", 48, 3, 4, 128),
    TinySize("280k", 64, 4, 4, 256),
    TinySize("580k", 96, 5, 4, 256),
    TinySize("765k", 112, 5, 4, 288),
)


@dataclass
class ScalePoint:
    """One held-out evaluation of one size during its run."""

    size: str
    params: int
    flops: float
    tokens: int
    loss: float


@dataclass
class SizeResult:
    size: str
    params: int
    tokens: int
    final_loss: float
    seconds: float
    points: list[ScalePoint] = field(default_factory=list)
    of: int = 0  # how many sizes the experiment trains (0: unknown); no winner before all are done

    @property
    def tokens_per_param(self) -> float:
        return self.tokens / self.params


def bundled_bytes() -> tuple[bytes, bytes]:
    """Training bytes (the bundled train dialogues and summaries) and held-out bytes (validation)."""
    from playground.core.evaluation.datasets import load_split

    def join(split: str) -> bytes:
        return "\n\n".join(f"{e.input}\n{e.reference}" for e in load_split(split).examples).encode("utf-8")

    return join("train"), join("validation")


def check_budget(flops: float, sizes: Sequence[TinySize]) -> None:
    """Refuse a budget in plain words: not a number, infinite, not positive, or too small for even
    the smallest model to train a few steps."""
    if flops is not None and math.isnan(flops):
        raise InputError("The compute budget is not a number (got nan).", "Give a number of FLOPs such as 1e12.")
    if flops is not None and math.isinf(flops):
        raise InputError(f"The compute budget cannot be {'minus ' if flops < 0 else ''}infinite.",
                         f"Give a number of FLOPs such as {DEFAULT_BUDGET:.0e} (a few minutes here).")
    if not flops or flops <= 0:
        raise InputError(f"The compute budget must be a positive number of FLOPs (got {flops:g})." if flops
                         else "The compute budget must be a positive number of FLOPs.", "Try 1e12.")
    if not sizes:
        raise InputError("No model size was chosen.", "Pick at least one size.")
    smallest = min(s.params for s in sizes)
    need = 6.0 * max(s.params for s in sizes) * MIN_STEPS * SEQ_LEN * BATCH
    if flops < need:
        raise InputError(
            f"A budget of {flops:.2g} FLOPs is too small: the largest chosen model would train for "
            f"fewer than {MIN_STEPS} steps (the smallest, {smallest:,} parameters, needs "
            f"{6.0 * smallest * MIN_STEPS * SEQ_LEN * BATCH:.2g}).",
            f"Raise the budget to at least {need:.2g} FLOPs, or leave out the larger sizes.")


def _windows(data, count: int, generator):
    import torch

    starts = torch.randint(0, len(data) - SEQ_LEN - 1, (count,), generator=generator)
    return torch.stack([data[s:s + SEQ_LEN] for s in starts.tolist()])


def _held_out_loss(model, batch) -> float:
    import torch

    with torch.no_grad():
        return model(input_ids=batch, labels=batch).loss.item()


def planned_steps(params: int, flops: float) -> int:
    """Optimizer steps one size trains for the budget: D = C / 6N tokens, SEQ_LEN x BATCH per step."""
    return max(1, int(flops / (6.0 * params * SEQ_LEN * BATCH)))


@dataclass
class RunEstimate:
    """How long an experiment would take here: each size's steps and measured seconds per step."""

    steps: dict[str, int]
    seconds_per_step: dict[str, float]

    @property
    def seconds(self) -> float:
        return sum(n * self.seconds_per_step[k] for k, n in self.steps.items())

    def describe(self) -> str:
        each = ", ".join(f"{k}: {n:,} steps x {self.seconds_per_step[k]:.3f} s" for k, n in self.steps.items())
        return f"{format_duration(self.seconds)} on this machine ({each})"


def format_duration(seconds: float) -> str:
    """'about 40 s', 'about 12 min', 'about 3.5 h', 'about 2,000 years'."""
    if seconds < 90:
        return f"about {seconds:.0f} s"
    if seconds < 90 * 60:
        return f"about {seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"about {seconds / 3600:.1f} h"
    if seconds < 2 * 365 * 86400:
        return f"about {seconds / 86400:,.0f} days"
    return f"about {seconds / (365 * 86400):,.3g} years"


def _train_step(model, opt, batch) -> None:
    model(input_ids=batch, labels=batch).loss.backward()
    opt.step()
    opt.zero_grad(set_to_none=True)


def estimate_run(flops: float, sizes: Sequence[TinySize], *, timed_steps: int = 3) -> RunEstimate:
    """Time a few training steps of each size (after one warm-up step) on random bytes and scale
    the fastest of them to the budget's steps (other work on the machine only slows a step down)."""
    import torch
    from transformers import LlamaForCausalLM

    check_budget(flops, sizes)
    steps, per = {}, {}
    gen = torch.Generator().manual_seed(0)
    batch = torch.randint(0, 256, (BATCH, SEQ_LEN), generator=gen)
    for size in sizes:
        model = LlamaForCausalLM(size.config())
        model.train()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
        _train_step(model, opt, batch)  # the first step pays one-off costs
        times = []
        for _ in range(max(1, timed_steps)):
            start = time.perf_counter()
            _train_step(model, opt, batch)
            times.append(time.perf_counter() - start)
        per[size.name] = min(times)
        steps[size.name] = planned_steps(size.params, flops)
    return RunEstimate(steps, per)


#: The longest experiment the app starts without being told to (the CLI's --max-minutes, the tab's limit).
DEFAULT_MAX_MINUTES = 30.0


def check_duration(estimate: RunEstimate, max_seconds: float, flops: float) -> None:
    """Refuse, in plain words, an experiment estimated to take longer than ``max_seconds``."""
    if estimate.seconds <= max_seconds:
        return
    fits = flops * max_seconds / max(estimate.seconds, 1e-9)
    raise InputError(
        f"A budget of {flops:.3g} FLOPs per model would take {format_duration(estimate.seconds)} here "
        f"(measured: {', '.join(f'{k} {v:.3f} s per step' for k, v in estimate.seconds_per_step.items())}), "
        f"beyond the limit of {format_duration(max_seconds)[len('about '):]}.",
        f"Lower the budget (about {fits:.1g} FLOPs fits the limit), leave out the larger sizes, raise the limit "
        "(--max-minutes), or run it anyway (--force).")


def run_size(size: TinySize, flops: float, train, held_out, *, lr: float = 3e-3, seed: int = 0,
             handle: TaskHandle | None = None, on_step=None) -> Iterator[ScalePoint]:
    """Train one size from scratch for ``flops`` (D = C / 6N tokens), yielding held-out evaluations.

    ``on_step(step, steps)`` is called about 10 times over the run (progress)."""
    import torch
    from transformers import LlamaForCausalLM

    handle = ensure_handle(handle)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(size.config())
    n = sum(p.numel() for p in model.parameters())
    per_step = SEQ_LEN * BATCH
    steps = planned_steps(n, flops)
    every = max(1, steps // 10)
    gen = torch.Generator().manual_seed(seed)
    eval_gen = torch.Generator().manual_seed(1234)
    eval_batch = _windows(held_out, 32, eval_gen)  # the same held-out windows for every size
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    warm = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
    marks = sorted({max(1, round(steps * 2 ** -(EVAL_POINTS - 1 - k))) for k in range(EVAL_POINTS)})
    model.train()
    for step in range(1, steps + 1):
        handle.raise_if_cancelled()
        batch = _windows(train, BATCH, gen)
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        if on_step is not None and (step % every == 0 or step == steps):
            on_step(step, steps)
        if step in marks:
            model.eval()
            yield ScalePoint(size.name, n, 6.0 * n * step * per_step, step * per_step,
                             _held_out_loss(model, eval_batch))
            model.train()


def run_experiment(flops: float = DEFAULT_BUDGET, sizes: Sequence[TinySize] = SIZES, *,
                   handle: TaskHandle | None = None, data: tuple[bytes, bytes] | None = None,
                   max_seconds: float | None = None) -> Iterator[ScalePoint | SizeResult]:
    """Train every size for the same budget; yields each evaluation point and each size's result.

    A Stop ends the run between steps; sizes already finished keep their results. Progress is
    reported per size, about 10 times each. ``max_seconds``: first time a few steps of each size
    and refuse (``check_duration``) a run estimated to take longer.
    """
    import torch

    handle = ensure_handle(handle)
    check_budget(flops, sizes)
    if max_seconds is not None:
        report_step(handle, "Timing a few steps of each size", 0, None)
        check_duration(estimate_run(flops, sizes), max_seconds, flops)
    train_b, held_b = data if data is not None else bundled_bytes()
    train = torch.tensor(list(train_b), dtype=torch.long)
    held = torch.tensor(list(held_b), dtype=torch.long)
    if len(train) < 4 * SEQ_LEN or len(held) < 2 * SEQ_LEN:
        raise InputError("The text is too short to train on.", f"Give at least {4 * SEQ_LEN} bytes.")
    count = len(sizes)
    for i, size in enumerate(sizes):
        # One phase per size (the strip's bar and time left are this size's), named with its place.
        phase = f"Training the {size.name} model (size {i + 1} of {count})"
        report_step(handle, phase, 0, planned_steps(size.params, flops), f"{size.params:,} parameters")
        start = time.perf_counter()

        def on_step(step: int, steps: int, phase=phase, size=size) -> None:
            report_step(handle, phase, step, steps, f"{size.params:,} parameters")

        points = []
        for point in run_size(size, flops, train, held, handle=handle, on_step=on_step):
            points.append(point)
            yield point
        yield SizeResult(size.name, points[-1].params, points[-1].tokens, points[-1].loss,
                         time.perf_counter() - start, points, of=count)
    handle.report(1.0, "Experiment finished.")


def lower_envelope(points: Sequence[ScalePoint]) -> list[tuple[float, float, str]]:
    """(FLOPs, best loss, size) at each FLOP value reached: the best any size did with that compute."""
    best: dict[float, tuple[float, str]] = {}
    for p in points:
        key = float(f"{p.flops:.3g}")
        if key not in best or p.loss < best[key][0]:
            best[key] = (p.loss, p.size)
    out, running = [], (math.inf, "")
    for x in sorted(best):  # a larger budget can always stop early: the envelope never rises
        if best[x][0] < running[0]:
            running = best[x]
        out.append((x, running[0], running[1]))
    return out


def complete(results: Sequence[SizeResult]) -> bool:
    """Every size the experiment set out to train has finished (a stopped run is not complete)."""
    return bool(results) and all(r.of <= len(results) for r in results)


def winner(results: Sequence[SizeResult]) -> SizeResult | None:
    """The size with the lowest held-out loss at the full budget; None until every size finished
    (a size still to come may do better) and unless at least two sizes did (one size wins nothing)."""
    if len(results) < 2 or not complete(results):
        return None
    return min(results, key=lambda r: r.final_loss, default=None)


def describe_results(results: Sequence[SizeResult], flops: float, stopped: bool = False) -> str:
    """The results table; the winner once two or more sizes finished them all; a stopped run says so."""
    lines = [f"budget {flops:.3g} FLOPs per model (C ≈ 6·N·D)",
             f"{'size':<6} {'params':>9} {'tokens':>10} {'tok/param':>9} {'held-out loss':>13} {'time s':>7}"]
    for r in results:
        lines.append(f"{r.size:<6} {r.params:>9,} {r.tokens:>10,} {r.tokens_per_param:>9.1f} "
                     f"{r.final_loss:>13.3f} {r.seconds:>7.1f}")
    best = winner(results)
    if best is not None:
        lines.append(f"winner: {best.size} at {best.tokens_per_param:.1f} tokens per parameter")
    elif results:
        planned = max(r.of for r in results)
        head = f"stopped: {len(results)} of {planned} sizes finished" if stopped else \
            f"{len(results)} of {planned} sizes finished"
        if len(results) < 2 and planned <= len(results):
            lines.append("no winner: one size has nothing to win against (train two sizes or more)")
        else:
            lines.append(f"{head}: no winner until every size has trained")
    elif stopped:
        lines.append("stopped before any size finished: no winner")
    lines.append(SPAN_NOTE)
    return "\n".join(lines)

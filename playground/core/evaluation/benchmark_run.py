"""Benchmarks over systems: the base model, a fine-tuned adapter, a precision variant, k-shot prompts.

``run_benchmarks`` yields one ``ItemResult`` per (system, benchmark, item) as it is scored, so a window
or a table fills while it runs and Stop keeps what finished; ``summarize`` turns them into accuracies
with Wilson 95% intervals beside the chance level.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from playground.core.base.errors import InputError
from playground.core.base.handle import TaskHandle, ensure_handle
from playground.core.base.progress import report_step
from playground.core.base.provenance import Provenance, provenance_of
from playground.core.evaluation.benchmark import Benchmark, fewshot_context, shots_for
from playground.core.evaluation.benchmark_score import ItemScore, context_window, score_item

BASE, ADAPTER, PRECISION = "base", "adapter", "precision"
SCORING = "Scoring the choices"
Z95 = 1.959963984540054  # the normal quantile for a two-sided 95% interval


@dataclass(frozen=True)
class BenchSystem:
    """One system to score: the base model, or an adapter folder on it, or the base at another precision;
    each with its number of shots."""

    kind: str = BASE
    shots: int = 0
    adapter_dir: str = ""
    precision: str = ""  # a key of lifecycle.precision.FORMATS

    def label(self) -> str:
        from playground.core.evaluation.run import run_name

        if self.kind == ADAPTER:
            who = f"{run_name(self.adapter_dir)} (adapter)"
        elif self.kind == PRECISION:
            who = f"base at {self.precision.upper()}"
        else:
            who = "base"
        return f"{who}, {self.shots}-shot"


def check_systems(systems: Sequence[BenchSystem]) -> None:
    """Refuse what cannot run, before any model work."""
    if not systems:
        raise InputError("No system is chosen.", "Tick at least one system to score.")
    labels = [s.label() for s in systems]
    if len(set(labels)) != len(labels):
        raise InputError("Two systems are the same.", "Change the shots, the adapter or the precision of one.")
    for s in systems:
        if s.shots < 0 or s.shots > 10:
            raise InputError(f"{s.shots} shots is out of range.", "Use 0 to 10 shots.")
        if s.kind == ADAPTER and not s.adapter_dir.strip():
            raise InputError("The adapter system has no folder.", "Choose a Fine-tune run folder (or its adapter).")
        if s.kind == PRECISION and not s.precision:
            raise InputError("The precision system names no format.", "Choose bf16, fp16, int8 or int4.")


def _adapter_folder(path: str) -> str:
    """A Fine-tune run folder holds its adapter in ``adapter/``: accept either."""
    from pathlib import Path

    folder = Path(path)
    return str(folder / "adapter") if (folder / "adapter" / "adapter_config.json").is_file() else str(folder)


def system_model(loaded, system: BenchSystem, handle: TaskHandle | None = None):
    """The LoadedModel a system scores with (a copy for an adapter or a precision; the shared model stays)."""
    if system.kind == ADAPTER:
        from playground.core.evaluation.run import load_adapter_copy

        return load_adapter_copy(loaded, _adapter_folder(system.adapter_dir), handle)
    if system.kind == PRECISION:
        from playground.core.lifecycle.precision import at_precision

        return at_precision(loaded, system.precision)
    return loaded


@dataclass
class ItemResult:
    """One item scored by one system."""

    system: str
    benchmark: str
    index: int
    score: ItemScore
    context: str  # what the model read before " " + choice (shots included)


@dataclass
class Accuracy:
    """One system on one benchmark: acc and acc_norm with their Wilson 95% intervals, and chance."""

    n: int
    correct: int
    correct_norm: int
    chance: float
    interval: tuple[float, float] = (0.0, 0.0)
    interval_norm: tuple[float, float] = (0.0, 0.0)

    @property
    def acc(self) -> float:
        return self.correct / self.n if self.n else 0.0

    @property
    def acc_norm(self) -> float:
        return self.correct_norm / self.n if self.n else 0.0


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for a proportion (95% by default): unlike the normal approximation
    p ± z·sqrt(p(1-p)/n), it stays inside [0, 1] and is not zero-wide at 0/n or n/n."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def summarize(results: Sequence[ItemResult]) -> dict[tuple[str, str], Accuracy]:
    """(system label, benchmark name) -> Accuracy, in the order first seen."""
    groups: dict[tuple[str, str], list[ItemScore]] = {}
    for r in results:
        groups.setdefault((r.system, r.benchmark), []).append(r.score)
    out = {}
    for key, scores in groups.items():
        n = len(scores)
        right = sum(s.correct for s in scores)
        right_norm = sum(s.correct_norm for s in scores)
        chance = sum(s.item.chance for s in scores) / n
        out[key] = Accuracy(n, right, right_norm, chance, wilson_interval(right, n), wilson_interval(right_norm, n))
    return out


def system_provenance(model, system: BenchSystem, benchmarks: Sequence[Benchmark], batched: bool) -> Provenance:
    """Where a system's scores come from: model, adapter, precision, k-shot prompt, scoring settings."""
    names = ", ".join(f"{b.name} ({len(b.items)})" for b in benchmarks)
    other = "1 other item" if system.shots == 1 else f"{system.shots} other items"
    prompt = (f"{system.shots}-shot: {other} with their answers first, " if system.shots
              else "0-shot: ") + "context + ' ' + choice (lm-eval layout)"
    return provenance_of(model, prompt=prompt, settings="log-likelihood per choice; acc, acc_norm per byte; "
                         + ("the shared context read once, the choices batched after it" if batched else "one pass per choice"), extra=names)


@dataclass
class SystemStart:
    """Yielded before a system's first item: its label and provenance (for the result header)."""

    system: str
    provenance: Provenance
    notes: list[str] = field(default_factory=list)


def run_benchmarks(loaded, benchmarks: Sequence[Benchmark], systems: Sequence[BenchSystem], *,
                   batched: bool = True, handle: TaskHandle | None = None) -> Iterator[SystemStart | ItemResult]:
    """Score every item of every benchmark with every system, yielding as it goes.

    Yields a ``SystemStart`` before each system, then one ``ItemResult`` per item. Stop (the handle's
    cancel) ends it between two items; what was yielded stays valid.

    Raises
    ------
    InputError
        No system, an empty benchmark, a model that is not decoder-only, a choice longer than the window.
    """
    check_systems(systems)
    if loaded is None:
        raise InputError("No model is loaded.", "Load a model first (the model bar).")
    if getattr(loaded.info, "kind", "decoder-only") != "decoder-only":
        raise InputError("Benchmarks here score next-token models: load a decoder-only model.",
                         "Encoder-decoder and encoder models score choices differently.")
    if not benchmarks or not any(b.items for b in benchmarks):
        raise InputError("There are no benchmark items to score.", "Choose at least one benchmark.")
    handle = ensure_handle(handle)
    total = len(systems) * sum(len(b.items) for b in benchmarks)
    done = 0
    for system in systems:
        label = system.label()
        handle.raise_if_cancelled()
        model = system_model(loaded, system, handle)
        notes = [model.extras["adapter_warning"]] if model.extras.get("adapter_warning") else []
        yield SystemStart(label, system_provenance(model, system, benchmarks, batched), notes)
        window = context_window(model.model, model.tokenizer)
        model.model.eval()
        for bench in benchmarks:
            for index, item in enumerate(bench.items):
                handle.raise_if_cancelled()
                context = fewshot_context(item, shots_for(bench.items, index, system.shots))
                score = score_item(model.model, model.tokenizer, item, context, batched=batched, window=window)
                done += 1
                report_step(handle, SCORING, done, total, f"{label} · {bench.title}")
                yield ItemResult(label, bench.name, index, score, context)

"""Forgetting for a finished fine-tuning run: learning (validation loss) against forgetting (probes).

One call for the finetune report, the Fine-tune Result page and the Lifecycle tab::

    from playground.core.lifecycle.forgetting_run import check_run
    result = check_run(run_dir)           # loads the run's base model itself, or pass base=LoadedModel
    print(result.describe())              # also written to RUN/forgetting.json and RUN/forgetting.md

The base's probe answers and its BF16 noise floor do not depend on the run: ``baseline`` computes
them once and several runs can share them (``check_run(..., baseline=...)``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from playground.core.base.errors import InputError
from playground.core.base.handle import TaskHandle, ensure_handle
from playground.core.base.progress import report_step
from playground.core.base.units import format_delta
from playground.core.lifecycle.forgetting import (
    REPLY_TOKENS,
    ForgettingReport,
    ProbeResult,
    load_probes,
    noise_floor,
    run_probes,
)

RESULT_FILE = "forgetting.json"
#: The stress preset: the method's default learning rate times this (by hand: full fine-tuning then
#: kept 15 of 18 answers, LoRA 16, where the default rates forgot nothing measurable).
STRESS_FACTOR = 10.0


def runs_root() -> Path:
    """Where the Fine-tune tab keeps its runs (one definition: core.finetune.runs)."""
    from playground.core.finetune import runs

    return runs.runs_root()


def finished_runs(root: str | Path | None = None) -> list[Path]:
    """Finished run folders (a report.json and trained weights) under ``root``, newest first."""
    from playground.core.finetune.layout import RunFolder

    root = Path(root) if root is not None else runs_root()
    if not root.is_dir():
        return []
    found = []
    for child in root.iterdir():
        run = RunFolder(child)
        if child.is_dir() and run.status() == "finished" and (
                (child / "adapter" / "adapter_config.json").is_file() or (child / "model" / "config.json").is_file()):
            found.append(child)
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def _read_report(run_dir: Path) -> dict:
    try:
        return json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InputError(f"{run_dir} is not a finished fine-tuning run (no readable report.json).",
                         "Pick the folder of a run that finished, e.g. one the Fine-tune tab or "
                         "`playground finetune` wrote.") from None


def run_base_source(run_dir: str | Path) -> str:
    """The model.source the run was trained from ("bundled", a folder, a Hub id)."""
    return str(_read_report(Path(run_dir))["config"]["model"]["source"])


def base_mismatch(run_dir: str | Path, base) -> str:
    """'' when the run was trained from ``base`` (a LoadedModel), else a plain sentence saying which."""
    source = run_base_source(run_dir)
    known = {base.source.kind if base.source.kind in ("bundled", "encoder") else "", base.source.ref,
             str(base.info.folder or "")} - {""}
    if source in known:
        return ""
    try:
        if any(Path(source).expanduser().resolve() == Path(k).expanduser().resolve() for k in known):
            return ""
    except (OSError, RuntimeError):
        pass
    return (f"The run {Path(run_dir).name} was trained from {source}, not from {base.info.name}: "
            "load that model first (Model menu), then check the run.")


def load_base(run_dir: str | Path, device: str = "cpu", handle: TaskHandle | None = None):
    """The base model the run started from (model.source of its job), in FP32."""
    from playground.core.models.sources import ModelSource
    from playground.core.models.loading import load_model

    return load_model(ModelSource.parse(run_base_source(run_dir)), device=device, dtype="float32", handle=handle)


def load_tuned(run_dir: str | Path, base, handle: TaskHandle | None = None):
    """The run's fine-tuned model built on ``base`` (a LoadedModel; the shared model is not changed)."""
    run_dir = Path(run_dir)
    if (run_dir / "adapter" / "adapter_config.json").is_file():
        from playground.core.evaluation.run import load_adapter_copy

        return load_adapter_copy(base, run_dir / "adapter", handle)
    if (run_dir / "model" / "config.json").is_file():
        from playground.core.models.sources import ModelSource
        from playground.core.models.loading import load_model

        return load_model(ModelSource.parse(str(run_dir / "model")), device=base.device, dtype="float32",
                          handle=handle)
    raise InputError(f"The run {run_dir.name} has no trained weights (no adapter/ or model/ folder).",
                     "Pick a run that finished.")


def probing_tuned(name: str) -> str:
    """The phase of probing a fine-tuned model, named."""
    return f"Probing the fine-tuned model ({name})"


@dataclass
class Baseline:
    """The base model's probe answers and its BF16 noise floor; the same for every run of that base."""

    model_name: str
    before: ProbeResult
    noise: dict


def baseline(base, probes: dict | None = None, handle: TaskHandle | None = None) -> Baseline:
    probes = probes or load_probes()
    before = run_probes(base.model, base.tokenizer, probes, handle)
    return Baseline(base.info.name, before, noise_floor(base.model, base.tokenizer, before, probes, handle))


@dataclass
class RunForgetting:
    """One run: what it learned (validation loss) and what it forgot (probes), with the noise floor."""

    run: str
    method: str
    learning_rate: float
    steps: int
    base_model: str
    validation_before: float | None
    validation_after: float | None
    report: ForgettingReport

    @property
    def learning(self) -> float:
        """How much the validation loss fell (nats per token; positive = learned)."""
        if self.validation_before is None or self.validation_after is None:
            return math.nan
        return self.validation_before - self.validation_after

    @property
    def margin_change(self) -> float:
        return self.report.after.mean_margin - self.report.before.mean_margin

    def describe(self) -> str:
        head = (f"Forgetting check of run {self.run} ({self.method}, learning rate {self.learning_rate:g}, "
                f"{self.steps} steps) on {self.base_model}: probes answered greedily, {REPLY_TOKENS} new "
                f"tokens, scored on the first sentence; facts by log-likelihood.")
        learned = "validation loss not recorded" if math.isnan(self.learning) else \
            f"validation loss {self.validation_before:.3f} -> {self.validation_after:.3f}"
        return f"{head}\nLearning: {learned}.\nForgetting: {self.report.verdict()}"

    def to_dict(self) -> dict:
        return {"run": self.run, "method": self.method, "learning_rate": self.learning_rate, "steps": self.steps,
                "base_model": self.base_model, "validation_before": self.validation_before,
                "validation_after": self.validation_after, "replies": self.report.after.replies,
                "margins": self.report.after.margins,
                "replies_changed": sum(a.strip() != b.strip() for a, b in zip(self.report.before.replies,
                                                                             self.report.after.replies)),
                "describe": self.describe(), **self.report.to_dict()}


def check_run(run_dir: str | Path, *, base=None, baseline_result: Baseline | None = None,
              probes: dict | None = None, save: bool = True, handle: TaskHandle | None = None) -> RunForgetting:
    """Run the forgetting probes on a finished run's model and compare with its base.

    Parameters
    ----------
    run_dir
        A finished run folder (report.json, and adapter/ or model/).
    base
        The base model as a LoadedModel in FP32; loaded from the run's job when None.
    baseline_result
        The base's answers and noise floor from ``baseline`` (computed here when None).
    save
        Write RUN/forgetting.json and RUN/forgetting.md.
    handle
        Progress and Stop (between probes).
    """
    handle = ensure_handle(handle)
    run_dir = Path(run_dir)
    report = _read_report(run_dir)
    probes = probes or load_probes()
    if base is None:
        handle.report(None, "Loading the base model...")
        base = load_base(run_dir, handle=handle)
    base = base.extras.get("precision_of", base)  # the model as loaded, not a converted copy
    why = base_mismatch(run_dir, base)
    if why:
        raise InputError(why)
    if baseline_result is None:
        baseline_result = baseline(base, probes, handle)
    report_step(handle, "Loading the fine-tuned model", 0, None, run_dir.name)
    tuned = load_tuned(run_dir, base, handle)
    after = run_probes(tuned.model, tuned.tokenizer, probes, handle, phase=probing_tuned(run_dir.name))
    del tuned
    val = report.get("curves", {}).get("validation_loss") or []
    cfg = report["config"]
    lr = cfg["training"]["learning_rate"]
    if lr == "auto":
        from playground.core.finetune.config import DEFAULT_LR

        lr = DEFAULT_LR[cfg["method"]["name"]]
    result = RunForgetting(run_dir.name, cfg["method"]["name"], float(lr), int(report["training"]["steps"]),
                           baseline_result.model_name, val[0][1] if len(val) > 1 else None,
                           val[-1][1] if len(val) > 1 else None,
                           ForgettingReport(baseline_result.before, after, baseline_result.noise))
    if save:
        from playground.core.base.paths import atomic_write_text

        atomic_write_text(run_dir / RESULT_FILE, json.dumps(result.to_dict(), indent=1))
        atomic_write_text(run_dir / "forgetting.md", "# Forgetting check\n\n" + result.describe() + "\n")
    handle.report(1.0, "Forgetting check finished.")
    return result


def format_table(rows: Sequence[RunForgetting]) -> str:
    """Learning against forgetting, one line per run, the noise floor last."""
    header = (f"{'run':<28} {'method':<13} {'lr':>7} {'steps':>5} {'val loss':>15} {'questions':>9} "
              f"{'facts':>6} {'margin':>14}")
    lines = [header]
    for r in rows:
        b, a = r.report.before, r.report.after
        val = "n/a" if math.isnan(r.learning) else f"{r.validation_before:.3f}->{r.validation_after:.3f}"
        lines.append(f"{r.run[:28]:<28} {r.method:<13} {r.learning_rate:>7.0e} {r.steps:>5} {val:>15} "
                     f"{a.questions_passed:>4}/{len(a.question_pass):<4} {a.facts_right:>3}/{len(a.margins):<2} "
                     f"{a.mean_margin:>6.2f} ({format_delta(b.mean_margin, a.mean_margin, 2)})")
    if rows:
        n, b = rows[0].report.noise, rows[0].report.before
        lines.append(f"base {rows[0].base_model}: questions {b.questions_passed}/{len(b.question_pass)}, facts "
                     f"{b.facts_right}/{len(b.margins)}, margin {b.mean_margin:.2f}; noise floor (BF16, no "
                     f"training): {n['replies_changed']} replies changed, {n['questions_lost']} answers lost, "
                     f"margin {format_delta(0.0, n['margin_change'], 2)}")
    return "\n".join(lines)


def save_plot(rows: Sequence[RunForgetting], path: str | Path) -> None:
    """Learning (validation-loss drop) against forgetting (margin change), the noise floor shaded."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.2), dpi=100)
    ax = fig.add_subplot(111)
    draw(ax, rows)
    fig.tight_layout()
    fig.savefig(str(path))


def saved_check(run_dir: str | Path) -> dict | None:
    """The check written to RUN/forgetting.json by an earlier ``check_run`` (None when there is none)."""
    try:
        found = json.loads((Path(run_dir) / RESULT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) and "after" in found and "noise_floor" in found else None


def saved_table(saved: dict) -> tuple[list[list[str]], str]:
    """A saved check (``saved_check``) as the Lifecycle tab shows it: the rows of the base, its
    noise floor and the run (model, questions passed, facts right, mean margin, replies changed),
    and the verdict."""
    b, a, n = saved["before"], saved["after"], saved["noise_floor"]
    floor = (b["questions_passed"] - n["questions_lost"], b["facts_right"] - n["facts_lost"],
             b["mean_margin"] + n["margin_change"], n["replies_changed"])
    rows = []
    for label, (q, f, m, changed) in (("base", (b["questions_passed"], b["facts_right"], b["mean_margin"], "")),
                                      ("base rounded to BF16 (noise floor)", floor),
                                      (f"run {saved['run']} ({saved['method']})",
                                       (a["questions_passed"], a["facts_right"], a["mean_margin"],
                                        saved.get("replies_changed", "")))):
        rows.append([label, f"{q}/{b['questions']}", f"{f}/{b['facts']}", f"{m:.2f}", str(changed)])
    return rows, saved.get("describe", saved["verdict"])


def draw(ax, rows: Sequence[RunForgetting | dict]) -> None:
    """Draw the learning-vs-forgetting plot on ``ax`` (cleared first; the GUI redraws in place).

    A row is a RunForgetting or a saved check (``RunForgetting.to_dict``, as in forgetting.json).
    """
    points = [r if isinstance(r, dict) else r.to_dict() for r in rows]
    ax.clear()
    if points:
        floor = abs(points[0]["noise_floor"]["margin_change"])
        ax.axhspan(-floor, floor, color="0.85", label="noise floor (BF16, no training)")
    for p in points:
        before, after = p["validation_before"], p["validation_after"]
        x = before - after if before is not None and after is not None else 0.0
        y = p["after"]["mean_margin"] - p["before"]["mean_margin"]
        ax.scatter([x], [y], s=30)
        ax.annotate(f"{p['method']} lr {p['learning_rate']:.0e}", (x, y), fontsize=7, xytext=(4, 3),
                    textcoords="offset points")
    ax.axhline(0, color="0.4", lw=0.8)
    ax.set_xlabel("learning: validation loss drop (nats/token)")
    ax.set_ylabel("forgetting: change of fact margin (nats)")
    ax.set_title("Learning against forgetting" + (f" ({points[0]['base_model']})" if points else ""), fontsize=9)
    if points:
        ax.legend(fontsize=7, loc="lower left")


def preset(method: str, output_dir: str | Path, *, stress: bool = False, steps: int = 12,
           validation_examples: int = 16):
    """A short job on the bundled train split for the forgetting comparison (``stress``: 10x the rate).

    The job is an ordinary FinetuneConfig: run it with ``run_finetune`` or save it with ``to_toml``.
    """
    from playground.core.finetune.config import DEFAULT_LR, METHODS, FinetuneConfig

    if method not in METHODS:
        raise InputError(f"Unknown method {method!r}.", f"Use one of: {', '.join(METHODS)}.")
    cfg = FinetuneConfig()
    cfg.method.name = method
    cfg.training.max_steps = steps
    cfg.training.gradient_accumulation_steps = 4
    cfg.training.learning_rate = float(f"{DEFAULT_LR[method] * (STRESS_FACTOR if stress else 1.0):.6g}")
    cfg.training.eval_every = steps  # validation at step 0 and at the end: the learning signal
    cfg.training.save_every = 0
    cfg.data.max_validation_examples = validation_examples
    cfg.data.max_length = 512
    cfg.evaluation.test_examples = 0  # ROUGE is not what this measures; it would double the time
    cfg.output.dir = str(output_dir)
    cfg.output.overwrite = True
    return cfg.validate()

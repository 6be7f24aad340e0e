"""A distillation run's report: the settings, the measured models and the loss curves
(report.json for programs, report.md for people)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from playground.core.base.paths import atomic_write_text
from playground.core.distill.measure import ModelRow, format_rows


def build_report(job, rows: list[ModelRow], students: dict, curves: dict) -> dict:
    """What report.json holds. ``curves``: per student, its training history (losses, parts)."""
    by_kind = {r.kind: r for r in rows}
    verdict = ""
    soft, hard = by_kind.get("soft"), by_kind.get("hard")
    if soft and hard:
        change = (hard.perplexity - soft.perplexity) / hard.perplexity if hard.perplexity else 0.0
        said = ("about the same (under 1% apart: noise, not a lesson, after so few steps)." if abs(change) < 0.01
                else f"the soft targets helped ({change:.0%} lower)." if change > 0
                else f"the soft targets did not help here ({-change:.0%} higher).")
        verdict = (f"After the same {job.training.max_steps} steps, the soft-target student's held-out perplexity is "
                   f"{soft.perplexity:.2f} against {hard.perplexity:.2f} for the hard-label one: {said}")
    return {
        "kind": "distill",
        "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
        "teacher": job.model.source,
        "settings": job.to_dict(),
        "models": [r.to_dict() for r in rows],
        "students": students,
        "verdict": verdict,
        "training": {kind: {"steps": c.get("step", 0), "seconds": c.get("train_seconds", 0.0),
                            "tokens_seen": c.get("tokens_seen", 0), "losses": c.get("losses", []),
                            "parts": c.get("extra", {}).get("parts", []), "validation": c.get("validation", [])}
                     for kind, c in curves.items()},
    }


def write_report(run_dir: str | Path, report: dict) -> None:
    """report.json and report.md in the run folder."""
    run_dir = Path(run_dir)
    rows = [ModelRow.from_dict(r) for r in report["models"]]
    s = report["settings"]
    lines = ["# Distillation", "", f"Teacher: {report['teacher']}", "",
             f"T = {s['distill']['temperature']:g}, α (weight of the hard labels) = {s['distill']['alpha']:g}, "
             f"{s['distill']['direction']} KL, {s['training']['max_steps']} steps", "", "```",
             format_rows(rows), "```", ""]
    if report.get("verdict"):
        lines += [report["verdict"], ""]
    for kind, t in report.get("training", {}).items():
        rate = t["tokens_seen"] / t["seconds"] if t["seconds"] else 0.0
        lines.append(f"- {kind}: {t['steps']} steps in {t['seconds']:.0f} s ({rate:.0f} training tokens/s)")
    lines += ["", "Students (Hugging Face folders):"] + [f"- {k}: {v}" for k, v in report["students"].items()]
    atomic_write_text(run_dir / "report.json", json.dumps(report, indent=1))
    atomic_write_text(run_dir / "report.md", "\n".join(lines) + "\n")

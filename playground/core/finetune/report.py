"""The run's report: report.json (everything), report.md (to read) and loss.png (the curves)."""

from __future__ import annotations

import io
import json
from pathlib import Path

from playground.core.base.paths import atomic_write_bytes, atomic_write_text
from playground.core.base.units import format_delta, format_score, score_value
from playground.core.finetune.memory_measure import describe_run_memory


def build_report(cfg, method_info, data_stats: dict, history, *, status: str, artifact: str,
                 peak_memory: int, memory_at_start: int = 0, memory: dict | None = None, processes: int, device: str,
                 precision: str,
                 rouge_before: dict | None, rouge_after: dict | None, samples: list) -> dict:
    seconds = history.train_seconds
    return {
        "status": status,
        "config": cfg.to_dict(),
        "method": {"name": method_info.method, "trainable_parameters": method_info.trainable,
                   "total_parameters": method_info.total, "trainable_share": method_info.share,
                   "target_modules": method_info.target_modules, **method_info.details},
        "data": data_stats,
        "training": {"steps": history.step, "train_seconds": round(seconds, 2),
                     "tokens_seen": history.tokens_seen,
                     "tokens_per_s": round(history.tokens_seen / seconds, 1) if seconds else 0.0,
                     "tokens_processed": history.tokens_processed,
                     "padding_share": round(1 - history.tokens_seen / history.tokens_processed, 4)
                     if history.tokens_processed else 0.0,
                     "peak_memory_bytes": peak_memory, "memory_at_start_bytes": memory_at_start,
                     "memory_added_bytes": max(0, peak_memory - memory_at_start) if memory_at_start else 0,
                     "memory": memory or {},  # like for like with the estimate (memory_measure.run_memory)
                     "processes": processes, "device": device,
                     "precision": precision,
                     "final_train_loss": history.losses[-1][1] if history.losses else None,
                     "final_validation_loss": history.validation[-1][1] if history.validation else None},
        "curves": {"train_loss": history.losses, "validation_loss": history.validation},
        "rouge": {"before": rouge_before, "after": rouge_after,
                  "test_examples": cfg.evaluation.test_examples, "samples": samples},
        "artifact": artifact,
    }


def render_markdown(report: dict) -> str:
    m, t, r = report["method"], report["training"], report["rouge"]
    lines = [f"# Fine-tuning report ({report['status']})", "",
             f"- Base model: {run_provenance(report)}",
             f"- Method: **{m['name']}**, {m['trainable_parameters']:,} trainable parameters of "
             f"{m['total_parameters']:,} ({m['trainable_share'] * 100:.3f}%)"]
    if m.get("target_modules"):
        lines.append(f"- LoRA on: {', '.join(m['target_modules'])} (rank {m.get('rank')}, alpha {m.get('alpha')})")
    lines += [f"- Steps: {t['steps']}, {t['tokens_seen']:,} tokens in {t['train_seconds']:.1f} s "
              f"({t['tokens_per_s']:.1f} tokens/s, {t.get('padding_share', 0) * 100:.1f}% padding) on "
              f"{t['processes']} x {t['device']} ({t['precision']})",
              f"- Memory: {describe_run_memory(t)}",
              f"- Final training loss: {_fmt(t['final_train_loss'])}, validation loss: "
              f"{_fmt(t['final_validation_loss'])}", f"- Artifact: `{report['artifact']}`", ""]
    for split, st in report["data"].items():
        lines.append(f"- {split}: {st['examples']} examples from {st['source']} ({st['skipped_empty']} empty rows "
                     f"skipped, {st['truncated']} truncated, {st['dropped_too_long']} dropped as too long); "
                     f"tokens per example median {st['total_tokens'].get('median', 0):.0f}, "
                     f"max {st['total_tokens'].get('max', 0)}")
    if r["before"] or r["after"]:
        lines += ["", f"Test split, {r['test_examples']} dialogues, greedy, with the training template "
                      "(ROUGE and BLEU on one scale, 0-100; 95% bootstrap interval):", "",
                  "| | ROUGE-1 | ROUGE-2 | ROUGE-L | ROUGE-Lsum | BLEU |", "|---|---|---|---|---|---|"]
        for when in ("before", "after"):
            s = r[when]
            if s:
                ci = s.get("intervals", {})
                cells = [format_score(s[k], k) + (f" [{format_score(ci[k][0], k)}, {format_score(ci[k][1], k)}]"
                                                  if k in ci else "") for k in ROUGE_KEYS]
                cells.append(format_score(s.get("bleu", 0.0), "bleu"))
                lines.append(f"| {when} fine-tuning | " + " | ".join(cells) + " |")
        if r["before"] and r["after"]:
            lines.append("| change | " + " | ".join(score_delta(r["before"], r["after"], k)
                                                    for k in (*ROUGE_KEYS, "bleu")) + " |")
    for s in r.get("samples", [])[:3]:
        lines += ["", f"> reference: {s['reference']}", f"> before: {s.get('before', '')}",
                  f"> after: {s.get('after', '')}"]
    return "\n".join(lines) + "\n"


ROUGE_KEYS = ("rouge1", "rouge2", "rougeL", "rougeLsum")


def score_delta(before: dict, after: dict, key: str) -> str:
    """The change of one score between two shown values, on the app's scale ('+1.4', '±0.0', '–')."""
    b, a = (before or {}).get(key), (after or {}).get(key)
    if a is None or b is None:
        return "–"
    return format_delta(score_value(b, key), score_value(a, key))


def run_provenance(report: dict) -> str:
    """The base model, the prompt template and the precision a run trained and was scored with."""
    cfg = report.get("config", {})
    model, data = cfg.get("model", {}), cfg.get("data", {})
    source = model.get("source", "")
    name = "the bundled SmolLM2-135M-Instruct" if source == "bundled" else (source or "n/a")
    chat = "chat template on" if data.get("use_chat_template") else "chat template off"
    precision = report.get("training", {}).get("precision") or model.get("precision", "")
    return (f"{name}; template {data.get('template', 'n/a')}, {chat}"
            + (f"; mixed precision {precision}" if precision and precision != "no" else "; float32"))


def _fmt(x) -> str:
    return "n/a" if x is None else f"{x:.4f}"


def loss_plot_png(report: dict) -> bytes | None:
    """The loss curves as a PNG (matplotlib's Agg canvas: no GUI, no global backend change)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return None
    curves = report["curves"]
    fig = Figure(figsize=(6, 3.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    if curves["train_loss"]:
        ax.plot([c[0] for c in curves["train_loss"]], [c[1] for c in curves["train_loss"]], label="training")
    if curves["validation_loss"]:
        ax.plot([c[0] for c in curves["validation_loss"]], [c[1] for c in curves["validation_loss"]],
                marker="o", label="validation")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss per summary token")
    ax.set_title(f"{report['method']['name']}: loss")
    ax.legend()
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def write_report(run_dir: Path, report: dict) -> None:
    atomic_write_text(run_dir / "report.json", json.dumps(report, indent=1))
    atomic_write_text(run_dir / "report.md", render_markdown(report))
    png = loss_plot_png(report)
    if png:
        atomic_write_bytes(run_dir / "loss.png", png)

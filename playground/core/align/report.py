"""An align run's report to read: report.md (what ran, per-step reward and KL, the monitor, the
filmstrip of fixed prompts) and curves.png (reward, KL and the monitor against the step).

report.json holds everything; these two are for a person. The monitor metric (ROUGE-L of greedy
summaries of held-out dialogues) is not optimized, so a reward that climbs while it falls is the
sign of reward hacking: both files show the two side by side.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from playground.core.base.paths import atomic_write_bytes, atomic_write_text
from playground.core.base.units import format_bytes, format_delta, format_score, score_value


def _num(x, fmt: str = ".4f") -> str:
    return "n/a" if x is None else format(x, fmt)


def monitor_change(monitor: list) -> str:
    """The monitor's ROUGE-L change from its first to its last step, from the shown values ('+1.4')."""
    if not monitor:
        return "–"
    return format_delta(score_value(monitor[0]["rouge_l"], "rougeL"), score_value(monitor[-1]["rouge_l"], "rougeL"))


def render_markdown(report: dict) -> str:
    """report.md for an optimization run (GRPO, RLOO, PPO, DPO) or a reward-model run."""
    if report.get("method") == "reward_model":
        probe = report.get("probe_repeat", {})
        return "\n".join([
            f"# Reward model ({report.get('mode', '')})", "",
            f"- Model: {report.get('model', 'n/a')}; features from the {report.get('backbone', 'policy')}",
            f"- Steps: {report.get('steps')}, {report.get('seconds', 0):.1f} s",
            (f"- Pair accuracy: training {_num(report.get('train_accuracy'), '.3f')}, "
             f"held-out {_num(report.get('test_accuracy'), '.3f')}"),
            (f"- 'The reference said twice' scored above the reference on {probe.get('overpaid', 0)} of "
             f"{probe.get('pairs', 0)} held-out dialogues (what a reward model overpays for)."), ""])
    steps = report.get("per_step", [])
    monitor = report.get("monitor", [])
    rewards = " + ".join(f"{w:g} x {r}" for r, w in zip(report.get("rewards", []), report.get("weights", [])))
    lines = [f"# Align report: {report.get('method', '').upper()}", "",
             f"- Model: {report.get('model', 'n/a')}",
             f"- Starts from: {report.get('start', 'base')}"
             + (f" (the LoRA in {report['start_adapter']} merged in first; adapter/ holds it and the align "
                "LoRA together, on the base)" if report.get("start_adapter") else ""),
             f"- Steps: {report.get('steps')}, KL weight (beta) {report.get('beta')}, reward: {rewards or 'pairs (DPO)'}",
             f"- Peak memory: {format_bytes(report.get('peak_memory_bytes', 0))}", ""]
    if report.get("method") == "grpo" and report.get("loss_type"):
        from playground.core.align.methods import GRPO_LOSS_WORDS

        lt = report["loss_type"]
        lines.insert(-1, f"- Loss: {lt} ({GRPO_LOSS_WORDS.get(lt, '')})")
    if monitor:
        first, last = monitor[0], monitor[-1]
        lines += [(f"- Monitor (ROUGE-L of greedy summaries of {len(first.get('samples', []))} held-out "
                   f"dialogues, not optimized; 0-100): {format_score(first['rouge_l'], 'rougeL')} at step "
                   f"{first['step']} -> {format_score(last['rouge_l'], 'rougeL')} at step {last['step']} "
                   f"({monitor_change(monitor)})."), ""]
    if steps:
        extra = "margin" if any("margin" in s for s in steps) else None
        head = ["step", "reward mean", "reward std", "KL", "entropy", "length"] + ([extra] if extra else [])
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for s in steps:
            cells = [str(s["step"]), _num(s.get("reward_mean")), _num(s.get("reward_std")), _num(s.get("kl"), ".5f"),
                     _num(s.get("entropy"), ".3f"), _num(s.get("completion_length"), ".1f")]
            if extra:
                cells.append(_num(s.get(extra)))
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    if monitor:
        lines += ["## Filmstrip: the same held-out dialogues at each monitor step", ""]
        for m in monitor:
            lines.append(f"### Step {m['step']} (ROUGE-L {format_score(m['rouge_l'], 'rougeL')}"
                         + (f", KL {m['kl']:.5f}" if m.get("kl") is not None else "") + ")")
            for s in m.get("samples", []):
                reward = f" (reward {s['reward']:.3f})" if s.get("reward") is not None else ""
                lines.append(f"- {s.get('prompt_id', '')}{reward}: {s['completion']}")
            lines.append("")
    for s in report.get("samples_after", [])[:3]:
        lines += [f"> before: {s['before']}", f"> after: {s['after']}", ""]
    return "\n".join(lines) + "\n"


def curves_png(report: dict) -> bytes | None:
    """Reward, KL and the monitor against the step (matplotlib's Agg canvas, no global backend)."""
    steps = report.get("per_step", [])
    if not steps:
        return None
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return None
    fig = Figure(figsize=(8, 3.2), dpi=100)
    FigureCanvasAgg(fig)
    ax_r, ax_k = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    x = [s["step"] for s in steps]
    ax_r.plot(x, [s.get("reward_mean", 0.0) for s in steps], marker=".", label="reward (optimized)")
    monitor = report.get("monitor", [])
    if monitor:
        ax_m = ax_r.twinx()
        ax_m.plot([m["step"] for m in monitor], [score_value(m["rouge_l"], "rougeL") for m in monitor],
                  color="tab:green", marker="o", label="monitor ROUGE-L (not optimized)")
        ax_m.set_ylabel("monitor ROUGE-L (0-100)", color="tab:green")
    ax_r.set_xlabel("step")
    ax_r.set_ylabel("mean reward")
    ax_r.set_title("Reward and the monitor")
    ax_k.plot(x, [s.get("kl", 0.0) for s in steps], color="tab:red", marker=".")
    ax_k.set_xlabel("step")
    ax_k.set_ylabel("KL to the reference")
    ax_k.set_title(f"KL (beta {report.get('beta')})")
    fig.suptitle(f"{str(report.get('method', '')).upper()} on {report.get('model', '')}", fontsize=9)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def write_report(run_dir: Path, report: dict) -> None:
    """report.json, report.md and (for optimization runs) curves.png, each written atomically."""
    run_dir = Path(run_dir)
    atomic_write_text(run_dir / "report.json", json.dumps(report, indent=1))
    atomic_write_text(run_dir / "report.md", render_markdown(report))
    png = curves_png(report)
    if png:
        atomic_write_bytes(run_dir / "curves.png", png)

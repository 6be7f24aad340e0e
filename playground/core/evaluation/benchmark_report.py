"""Benchmark results as text: one accuracy with its interval, and the table the CLI and the benches print."""

from __future__ import annotations

from collections.abc import Mapping

from playground.core.evaluation.benchmark_run import Accuracy


def percent(value: float) -> str:
    """An accuracy (a fraction) on the app's 0-100 scale: '42.3'."""
    return f"{100.0 * value:.1f}"


def accuracy_text(value: float, interval: tuple[float, float]) -> str:
    """'42.3 [30.1-55.0]': the accuracy and its Wilson 95% interval, in percent."""
    return f"{percent(value)} [{percent(interval[0])}-{percent(interval[1])}]"


def format_table(summary: Mapping[tuple[str, str], Accuracy], titles: Mapping[str, str] | None = None) -> str:
    """One row per (system, benchmark): items, acc and acc_norm with 95% intervals, chance, all in percent."""
    titles = titles or {}
    rows = [("system", "benchmark", "items", "acc % [95% CI]", "acc_norm % [95% CI]", "chance %")]
    for (system, bench), acc in summary.items():
        rows.append((system, titles.get(bench, bench), str(acc.n), accuracy_text(acc.acc, acc.interval),
                     accuracy_text(acc.acc_norm, acc.interval_norm), percent(acc.chance)))
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) if c < 2 else cell.rjust(w) for c, (cell, w) in enumerate(zip(r, widths)))
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


INTERVAL_NOTE = ("Intervals: Wilson score 95% intervals for a proportion (n items). With 25 items an interval is "
                 "about +-18 points wide: two systems whose intervals overlap a lot are not shown to differ.")


def summary_dict(summary: Mapping[tuple[str, str], Accuracy]) -> list[dict]:
    """Plain data for JSON output and notebooks."""
    return [{"system": s, "benchmark": b, "n": a.n, "acc": a.acc, "acc_ci": list(a.interval), "acc_norm": a.acc_norm,
             "acc_norm_ci": list(a.interval_norm), "chance": a.chance} for (s, b), a in summary.items()]

"""A static loss-vs-FLOPs figure of the mini experiment (for the CLI and docs; the GUI draws live)."""

from __future__ import annotations


def plain_loss_ticks(ax) -> None:
    """Loss ticks as plain numbers (1.5, 2, 3) on a log axis, not as 2×10^0: a loss spans under a decade."""
    from matplotlib.ticker import FuncFormatter

    plain = FuncFormatter(lambda v, _pos: f"{v:g}")
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(plain)


def save_plot(points, results, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from playground.core.lifecycle.mini_scaling import SPAN_NOTE, lower_envelope, winner

    fig = Figure(figsize=(6.4, 4.2), dpi=100)
    ax = fig.add_subplot(111)
    for r in results:
        ax.plot([p.flops for p in r.points], [p.loss for p in r.points], marker="o", ms=3,
                label=f"{r.size} ({r.params:,} params)")
    env = lower_envelope(points)
    ax.plot([e[0] for e in env], [e[1] for e in env], "k--", lw=1.5, label="lower envelope")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training compute (FLOPs, 6·N·D)")
    ax.set_ylabel("held-out loss (nats per byte)")
    plain_loss_ticks(ax)
    best = winner(results)
    title = "Same budget, different sizes"
    if best is not None:
        title += f": best {best.size} at {best.tokens_per_param:.0f} tokens/param"
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)
    fig.text(0.01, 0.01, SPAN_NOTE, fontsize=6, wrap=True)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path)

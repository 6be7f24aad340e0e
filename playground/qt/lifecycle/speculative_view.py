"""Drawing one speculative round: the γ proposed tokens with the draft's q and the target's p (green
accepted, red rejected), the residual a rejected position resamples from, and the bonus token; and the
text so far, each token coloured by how it was made. Plain data in (``core.decoding.speculative.Round``),
pictures out; no model here."""

from __future__ import annotations

import html

from playground.qt import design

Q_TIP = "q: the draft's probability of the token it proposed (under the decoding settings)."
P_TIP = "p: the target's probability of the same token at the same position, from its one verifying pass."


def token_chip(text: str, colour: str, tip: str = "") -> str:
    """One token as a coloured chip for a rich-text label (dark text reads on every chip colour)."""
    shown = html.escape(text.replace(" ", "␣").replace("\n", "↵")) or "∅"
    title = f" title='{html.escape(tip)}'" if tip else ""
    return f"<span style='background:{colour}; color:#111'{title}>{shown}</span>"


#: How a token was made, as chip colours from the shared probability palette (green kept, orange
#: drawn by the target at a rejection, pale green the bonus).
KIND_COLOURS = {"accepted": design.PROBABILITY_COLOURS[0][1], "bonus": design.PROBABILITY_COLOURS[1][1],
                "resampled": design.PROBABILITY_COLOURS[3][1], "target": design.PROBABILITY_COLOURS[3][1],
                "rejected": design.PROBABILITY_COLOURS[4][1]}
KIND_WORDS = {"accepted": "a draft token the target accepted", "bonus": "the bonus token, from the target's pass",
              "resampled": "drawn from the residual at a rejection", "target": "the target's own choice at a rejection"}


def text_html(rounds) -> str:
    """Every committed token of ``rounds`` as chips, in order (rejected guesses are not part of the text)."""
    parts = []
    for r in rounds:
        for i, tok in enumerate(r.new_tokens):
            if i < r.accepted:
                kind, text = "accepted", r.proposals[i].text
            else:
                kind, text = r.next_kind, r.next_text
            parts.append(token_chip(text, KIND_COLOURS[kind], f"round {r.index + 1}: {KIND_WORDS[kind]}"))
    return "".join(parts)


def round_caption(r, greedy: bool) -> str:
    """One paragraph: what the rule did in round ``r``."""
    n = len(r.proposals)
    head = f"<b>Round {r.index + 1}</b>: the draft proposed {n}, the target accepted {r.accepted}"
    if r.rejected_at is not None:
        bad = r.proposals[r.rejected_at]
        if greedy:
            why = (f"; “{html.escape(bad.text)}” was rejected: the target's top token there is "
                   f"“{html.escape(bad.target_top_text)}”, which it writes instead")
        else:
            why = (f"; “{html.escape(bad.text)}” was rejected (p {bad.p:.3f} &lt; q {bad.q:.3f}, kept with "
                   f"chance {bad.chance:.2f}) and “{html.escape(r.next_text)}” drawn from the residual")
    else:
        why = f"; all kept, and the target's pass gave a bonus token, “{html.escape(r.next_text)}”" if n else \
            f"; nothing to propose at the end, the target wrote “{html.escape(r.next_text)}”"
    return f"{head}{why}: {len(r.new_tokens)} token(s) for one target pass."


class RoundChart:
    """Two axes on one figure, updated in place: q/p bars per proposal; the residual (or bonus)."""

    def __init__(self, figure, canvas) -> None:
        from playground.qt.widgets.plot import EmptyState

        self.figure, self.canvas = figure, canvas
        self.ax = figure.add_subplot(211)
        self.res_ax = figure.add_subplot(212)
        self.empty = EmptyState(figure, "Each round appears here: the draft's proposed tokens with their q and\n"
                                        "the target's p, green accepted, red rejected; below, the residual\n"
                                        "a rejected position resamples from, or the bonus token.")
        self.clear()

    def clear(self) -> None:
        for ax in (self.ax, self.res_ax):
            ax.clear()
            ax.set_visible(False)
        self.empty.show(True)
        self.canvas.draw_idle()

    def show(self, r, greedy: bool) -> None:
        colours = design.CHART_COLOURS
        ok, bad = design.current_colours().ok, design.current_colours().error
        self.empty.show(False)
        ax, res = self.ax, self.res_ax
        for a in (ax, res):
            a.clear()
            a.set_visible(True)
        n = len(r.proposals)
        xs = list(range(n))
        width = 0.38
        if n:
            ax.bar([x - width / 2 for x in xs], [p.q for p in r.proposals], width, color=colours[1], label="q (draft)")
            edges = [ok if p.accepted else bad if i == r.rejected_at else design.current_colours().grid
                     for i, p in enumerate(r.proposals)]
            ax.bar([x + width / 2 for x in xs], [p.p for p in r.proposals], width, color=colours[0],
                   label="p (target)", edgecolor=edges, linewidth=2)
            ax.set_xticks(xs, [_short(p.text) for p in r.proposals])
            for i, label in enumerate(ax.get_xticklabels()):
                p = r.proposals[i]
                label.set_color(ok if p.accepted else bad if i == r.rejected_at else design.current_colours().edge)
                verdict = "kept" if p.accepted else ("rejected" if i == r.rejected_at else "not checked")
                ax.annotate(verdict, (i, 1.02), ha="center", fontsize=8, color=label.get_color(),
                            xycoords=("data", "axes fraction"))
            ax.legend(loc="upper right", fontsize=8, frameon=False)
        top = max([0.05] + [max(p.p, p.q) for p in r.proposals])
        ax.set_ylim(0, min(1.0, top) * 1.15)
        ax.set_ylabel("probability")
        ax.set_title(("greedy: kept iff it is the target's top token" if greedy else "kept with chance min(1, p/q)"),
                     fontsize=9, loc="left", pad=14)
        if r.rejected_at is not None:
            entries = r.residual
            title = ("the target's distribution there: greedy takes its top" if greedy else
                     "residual norm(max(0, p − q)): the token is drawn from it")
        else:
            entries = [(r.next_token, r.next_text, r.next_prob)]
            title = ("bonus token: every guess was kept"
                     if n else "the target's own token (nothing left to propose)")
        ys = [e[2] for e in entries]
        cols = [ok if e[0] == r.next_token else colours[7] for e in entries]
        res.bar(range(len(entries)), ys, color=cols)
        res.set_xticks(range(len(entries)), [_short(e[1]) for e in entries])
        res.set_ylim(0, max(ys + [0.01]) * 1.15)
        res.set_ylabel("probability")
        res.set_title(title, fontsize=9, loc="left")
        self.canvas.draw_idle()


def _short(text: str, limit: int = 10) -> str:
    text = text.replace("\n", "↵") or "∅"
    return text if len(text) <= limit else text[:limit - 1] + "…"

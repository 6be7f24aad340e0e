"""Exports of an evaluation: a CSV of every example and a self-contained HTML report."""

from __future__ import annotations

import csv
import html
import io
import time
from collections.abc import Sequence
from pathlib import Path

from playground.core.base.units import format_score
from playground.core.models.encoder import ENCODER_NAME, SIMILARITY_NOTE
from playground.core.evaluation.run import ExampleResult
from playground.core.evaluation.metrics import (
    METRIC_KEYS,
    METRIC_LABELS,
    ROUGE_KEYS,
    SIMILARITY_KEY,
    ScoreReport,
    score_text,
)
from playground.core.base.paths import atomic_write_text
from playground.core.evaluation.rouge_explain import explain_pair, highlight_html
from playground.core.evaluation.text_tokens import DEFAULT, TOKENIZERS

BAR_COLOURS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52")


def results_csv(results: Sequence[ExampleResult], labels: Sequence[str]) -> str:
    """One row per example: id, topic, dialogue, reference, then each system's output, ROUGE F1 (on the
    app's 0-100 scale, as every screen shows it) and embedding similarity (a cosine, when computed)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    head = ["id", "topic", "dialogue", "reference"]
    with_sim = any(r.similarity for r in results)
    for label in labels:
        head += [f"{label} output"] + [f"{label} {METRIC_LABELS[k]} F1 (0-100)" for k in ROUGE_KEYS]
        head += [f"{label} embedding similarity ({ENCODER_NAME})"] if with_sim else []
    w.writerow(head)
    for r in results:
        row = [r.example.id, r.example.topic, r.example.input, r.example.reference]
        for label in labels:
            row.append(r.outputs.get(label, ""))
            scores = r.scores.get(label, {})
            row += [format_score(scores[k].fmeasure, k) if k in scores else "" for k in ROUGE_KEYS]
            if with_sim:
                row.append(format_score(r.similarity[label], "similarity") if label in r.similarity else "")
        w.writerow(row)
    return buf.getvalue()


def write_csv(path: str | Path, results: Sequence[ExampleResult], labels: Sequence[str]) -> None:
    atomic_write_text(Path(path), results_csv(results, labels))


def _bar_chart_svg(reports: dict[str, ScoreReport], width: int = 720, height: int = 300) -> str:
    """A grouped bar chart (metric groups, one bar per system, interval whiskers) as inline SVG."""
    left, bottom, top, right = 44, 40, 16, 12
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = max([0.0] + [rep.interval(k)[1] for rep in reports.values()
                                                  for k in METRIC_KEYS if k in rep.ci] +
                    [rep.value(k) for rep in reports.values() for k in METRIC_KEYS])
    ymax = max(10.0, (int(top_value / 10) + 1) * 10.0)
    y = lambda v: top + plot_h * (1 - v / ymax)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="11">']
    for tick in range(0, int(ymax) + 1, 10 if ymax <= 60 else 20):
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick}</text>')
    parts.append(f'<text x="12" y="{top + plot_h / 2}" transform="rotate(-90 12 {top + plot_h / 2})" '
                 f'text-anchor="middle">score (0-100)</text>')
    group_w = plot_w / len(METRIC_KEYS)
    bar_w = group_w * 0.8 / max(1, len(reports))
    for g, key in enumerate(METRIC_KEYS):
        x0 = left + g * group_w + group_w * 0.1
        parts.append(f'<text x="{left + (g + 0.5) * group_w:.1f}" y="{height - bottom + 16}" '
                     f'text-anchor="middle">{METRIC_LABELS[key]}</text>')
        for s, (label, rep) in enumerate(reports.items()):
            v = rep.value(key)
            x = x0 + s * bar_w
            colour = BAR_COLOURS[s % len(BAR_COLOURS)]
            parts.append(f'<rect x="{x:.1f}" y="{y(v):.1f}" width="{bar_w - 2:.1f}" height="{y(0) - y(v):.1f}" '
                         f'fill="{colour}"><title>{html.escape(label)}: {score_text(rep, key, False)}</title></rect>')
            if key in rep.ci:
                lo, hi = rep.interval(key)
                cx = x + (bar_w - 2) / 2
                parts.append(f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{y(lo):.1f}" y2="{y(hi):.1f}" stroke="#222"/>')
    for s, label in enumerate(reports):
        lx = left + 8 + s * 170
        parts.append(f'<rect x="{lx}" y="{height - 14}" width="10" height="10" fill="{BAR_COLOURS[s % 4]}"/>'
                     f'<text x="{lx + 14}" y="{height - 5}">{html.escape(label[:26])}</text>')
    parts.append("</svg>")
    return "".join(parts)


_CSS = """
body { font-family: sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; margin: 12px 0; }
th, td { border: 1px solid #ccc; padding: 4px 8px; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; white-space: nowrap; }
td.text { white-space: pre-wrap; max-width: 420px; font-size: 13px; }
.small { color: #666; font-size: 12px; }
"""


def render_html(results: Sequence[ExampleResult], reports: dict[str, ScoreReport], *, title: str = "Evaluation",
                dataset: str = "", model: str = "", tokenizer: str = DEFAULT, use_stemmer: bool = True,
                stopped: bool = False, provenance: dict[str, dict] | None = None) -> str:
    """A self-contained HTML page: settings, where each system's outputs came from (``provenance``:
    label -> ``Provenance.as_dict()``, also embedded as JSON), aggregate table, bar chart, and every
    example with the output's longest-common-subsequence tokens highlighted. Scores read as on every
    screen (``units.format_score``: ROUGE and BLEU 0-100, the similarity a cosine)."""
    esc = html.escape
    labels = list(reports)
    with_sim = any(rep.similarity is not None for rep in reports.values())
    out = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{esc(title)}</title>"
           f"<style>{_CSS}</style></head><body><h1>{esc(title)}</h1>"]
    n = len(results)
    meta = [f"Dataset: {esc(dataset)}" if dataset else "", f"Model: {esc(model)}" if model else "",
            f"{n} example{'s' if n != 1 else ''}{' (stopped early: partial results)' if stopped else ''}",
            f"ROUGE tokenizer: {esc(tokenizer)} — {esc(TOKENIZERS.get(tokenizer, ''))}; "
            f"stemming {'on' if use_stemmer else 'off'}",
            f"Made {time.strftime('%Y-%m-%d %H:%M')} with LLM Playground"]
    out.append("<p class='small'>" + "<br>".join(m for m in meta if m) + "</p>")
    if provenance:
        import json

        keys = ("model", "adapter", "precision", "prompt", "settings", "extra", "time")
        out.append("<h2>Provenance</h2><table><tr><th>system</th>" + "".join(f"<th>{k}</th>" for k in keys)
                   + "</tr>")
        for label, prov in provenance.items():
            out.append(f"<tr><td>{esc(label)}</td>" + "".join(f"<td>{esc(str(prov.get(k, '')))}</td>" for k in keys)
                       + "</tr>")
        data = json.dumps(provenance, ensure_ascii=False).replace("</", "<\\/")
        out.append(f"</table><script type='application/json' id='provenance'>{data}</script>")
    out.append("<h2>Scores</h2><table><tr><th>system</th>"
               + "".join(f"<th>{METRIC_LABELS[k]}</th>" for k in METRIC_KEYS)
               + ("<th>Emb. sim.</th>" if with_sim else "") + "</tr>")
    for label, rep in reports.items():
        cells = []
        for k in METRIC_KEYS + ((SIMILARITY_KEY,) if with_sim else ()):
            value, _, ci = score_text(rep, k).partition(" ")
            ci = f"<br><span class='small'>{esc(ci)}</span>" if ci else ""
            cells.append(f"<td class='num'>{esc(value)}{ci}</td>")
        out.append(f"<tr><td>{esc(label)}</td>{''.join(cells)}</tr>")
    out.append("</table><p class='small'>ROUGE and BLEU on one 0-100 scale; embedding similarity is a "
               "cosine (-1 to 1). In brackets: the 95% bootstrap confidence interval over the examples." + (f" {esc(SIMILARITY_NOTE)}" if with_sim else "") + "</p>")
    out.append(_bar_chart_svg(reports))
    out.append("<h2>Examples</h2><p class='small'>Highlighted: the output's words that are part of "
               "the longest common subsequence with the reference (ROUGE-L).</p><table><tr><th>#</th>"
               "<th>dialogue</th><th>reference</th>" + "".join(f"<th>{esc(x)}</th>" for x in labels) + "</tr>")
    for r in results:
        cells = [f"<td class='num'>{esc(r.example.id)}</td>", f"<td class='text'>{esc(r.example.input)}</td>",
                 f"<td class='text'>{esc(r.example.reference)}</td>"]
        for label in labels:
            text = r.outputs.get(label, "")
            ex = explain_pair(text, r.example.reference, tokenizer=tokenizer, use_stemmer=use_stemmer)
            s = r.scores.get(label, {})
            score = " · ".join(f"{METRIC_LABELS[k]} {format_score(s[k].fmeasure, k)}"
                               for k in ("rouge1", "rouge2", "rougeL") if k in s)
            if label in r.similarity:
                score += f" · Emb. sim. {format_score(r.similarity[label], 'similarity')}"
            cells.append(f"<td class='text'>{highlight_html(text, ex.spans('lcs', 'prediction'))}"
                         f"<br><span class='small'>{score}</span></td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table></body></html>")
    return "".join(out)


def write_html(path: str | Path, results: Sequence[ExampleResult], reports: dict[str, ScoreReport], **kw) -> None:
    atomic_write_text(Path(path), render_html(results, reports, **kw))

"""Export the session as one self-contained HTML handout: each tab's prompts, settings, outputs
and charts (embedded as PNG, so the file opens anywhere without a network)."""

from __future__ import annotations

import base64
import html
import io
import re
import time

from PySide6.QtWidgets import QWidget


def canvas_pngs(panel: QWidget) -> list[bytes]:
    """PNG images of every matplotlib canvas inside a panel (without importing matplotlib).

    A panel may choose its charts with ``session_figures() -> [Figure]`` (e.g. only those that
    show a result); otherwise every figure with axes is taken, each once."""
    chooser = getattr(panel, "session_figures", None)
    if chooser is not None:
        figures = list(chooser())
    else:
        figures = [getattr(w, "figure", None) for w in panel.findChildren(QWidget)]
    out, seen = [], set()
    for figure in figures:
        if figure is None or not hasattr(figure, "savefig") or not figure.axes or id(figure) in seen:
            continue
        seen.add(id(figure))
        buf = io.BytesIO()
        figure.savefig(buf, format="png", dpi=100, bbox_inches="tight")
        out.append(buf.getvalue())
    return out


_TAG = re.compile(r"</?(b|i|u|code|br|small|big|p|span|a|h[1-6]|ul|ol|li|table|tr|td|th|pre|div|font)\b[^>]*>", re.I)


def plain_text(text: str) -> str:
    """A panel's label text as plain text: Qt rich text (``<b>``, ``<code>``…) loses its tags."""
    from PySide6.QtGui import QTextDocumentFragment

    if _TAG.search(text):
        return QTextDocumentFragment.fromHtml(text).toPlainText()
    return text


def session_html(panels: list, title: str = "LLM Playground session") -> str:
    """The handout for a list of panels (each may define ``session_snapshot() -> [(heading, text)]``)."""
    e = html.escape
    parts = []
    for panel in panels:
        items = panel.session_snapshot() if hasattr(panel, "session_snapshot") else []
        images = canvas_pngs(panel)
        if not items and not images:
            continue
        body = []
        for heading, text in items:
            body.append(f"<h3>{e(heading)}</h3><pre>{e(plain_text(text))}</pre>")
        for png in images:
            body.append(f"<img alt='chart' src='data:image/png;base64,{base64.b64encode(png).decode('ascii')}'>")
        parts.append(f"<section><h2>{e(panel.title)}</h2>{''.join(body)}</section>")
    if not parts:
        parts.append("<p>Nothing was run in this session yet.</p>")
    stamp = time.strftime("%Y-%m-%d %H:%M")
    style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}"
             "section{border-top:2px solid #ddd;margin-top:2em}pre{white-space:pre-wrap;background:#f6f6f6;"
             "padding:.6em;border-radius:4px}img{max-width:100%;border:1px solid #ddd;margin:.5em 0}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title><style>{style}</style>"
            f"</head><body><h1>{e(title)}</h1><p>{e(stamp)}</p>{''.join(parts)}</body></html>")

"""Saving what the Inside tab shows: the current view as PNG or CSV, its part of the session handout
(the text, what was found, and only the charts that show a result), and its notebook experiment."""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog

from playground.core.base.errors import InputError, PlaygroundError

NOTHING_HINT = {
    "tokens": "type a text first.",
    "lens": "analyse a text, then open the Logit lens.",
    "embeddings": "type a few words and press Compare.",
    "kinds": "type a sentence and press Compare both kinds.",
}


def hint_for(view: str, capital: bool = True) -> str:
    """What to do before view ``view`` has anything to save."""
    hint = NOTHING_HINT.get(view, "analyse a text first.")
    return hint[0].upper() + hint[1:] if capital else hint


def export_view(view, name: str, path: str, kind: str) -> None:
    """Save a view as 'png' (picture) or 'csv' (numbers); InputError when it shows nothing yet."""
    if not view.has_data:
        raise InputError("This view shows nothing to save yet.", hint_for(name))
    (view.export_png if kind == "png" else view.export_csv)(path)


def export_with_dialog(panel, kind: str) -> None:
    """Ask where to save the panel's current view, save it, and say how it went."""
    name = panel.current_view()
    if not panel.views[name].has_data:
        panel.message_label.setText(f"Nothing to save yet: {hint_for(name, capital=False)}")
        return
    filters = "PNG image (*.png)" if kind == "png" else "CSV table (*.csv)"
    path, _ = QFileDialog.getSaveFileName(panel, "Save the current view", f"{name}.{kind}", filters)
    if not path:
        return
    try:
        panel.export_current(path, kind)
    except (OSError, PlaygroundError) as exc:
        panel.message_label.setText(f"Could not save {path}: {exc}")
    else:
        panel.message_label.setText("")
        panel.status_label.setText(f"Saved {path}")


def mark_origin(panel) -> None:
    """The status line and the handout's summary: what the analysis found and which model computed it
    (in orange once the Adapter switch selects another model)."""
    import html

    panel.summary = f"{panel._summary} · computed with {panel.context.origin(panel.result_model)}"
    panel._status = f"{html.escape(panel._summary)} · {panel.context.origin_html(panel.result_model, 'Analyse again')}"
    panel.status_label.setText(panel._status)


def snapshot(panel) -> list[tuple[str, str]]:
    """(heading, text) items for the session handout."""
    items: list[tuple[str, str]] = []
    if panel.result is not None:
        items.append(("Text looked inside", panel.result.text))
        items.append(("Attention", panel.summary))
    if panel.lens.result is not None:
        r = panel.lens.result
        guesses = ", ".join(f"{lab} → {r.top_tokens[-1][c][0]} ({float(r.top_probs[-1, c, 0]):.0%})"
                            for c, lab in enumerate(r.input_labels))
        items.append(("Logit lens, last layer (token → top next-token guess)", guesses))
    if panel.embeddings.result is not None:
        items.append(("Embeddings compared", ", ".join(panel.embeddings.result.words)))
    return items


def notebook_experiment(panel) -> dict | None:
    """The analysed text at the map, layer and head on show, as the notebook's attention experiment."""
    result = panel.result
    if result is None or "self" not in result.maps:
        return None
    name, layer, head = panel.selection()
    return {"kind": "attention", "text": result.text, "layer": int(layer),
            "head": int(head) if isinstance(head, int) else 0, "row": -1}


def figures(panel) -> list:
    """The figures of the views that show a result."""
    out = []
    if panel.result is not None:
        out += [v.figure for v in (panel.heatmap, panel.heads, panel.lines) if v.has_data]
    if panel.embeddings.has_data:
        out.append(panel.embeddings.figure)
    return out

"""Two Inside views about kinds of model: Meaning (sentence embeddings of the bundled encoder: a
cosine matrix and a 2-D map) and Objectives (how causal LM, masked LM and span corruption turn a
sentence into a training example; both tokenizers side by side; the causal model's per-token loss)."""

from __future__ import annotations

import html

from PySide6.QtWidgets import (
    QLineEdit,
    QPlainTextEdit,
    QTextBrowser,
    QWidget,
)

from playground.qt.inside.common import make_canvas
from playground.qt.task_slot import TaskSlot
from playground.qt.widgets.make import button, hbox, note_label, vbox

SENTENCES = ("The meeting was moved to Friday.\nThey rescheduled the meeting for Friday.\n"
             "Bananas are rich in potassium.\nI eat a banana every morning.")


class MeaningView(QWidget):
    """Type sentences (one a line); see how close their meanings are to the bundled encoder."""

    def __init__(self, context, parent=None) -> None:
        super().__init__(parent)
        self.context = context
        self.slot = TaskSlot(context.runner, parent=self)
        self.edit = QPlainTextEdit(SENTENCES)
        self.edit.setMaximumHeight(90)
        self.edit.setToolTip("One sentence per line (2 to 12).")
        self.button = button("Compare meanings", on_click=self.compare)
        self.note = note_label()
        self.slot.say = self.note.setText
        self.figure, self.canvas = make_canvas(8, 3.6)
        self.ax_matrix, self.ax_map = self.figure.subplots(1, 2)
        from playground.qt.widgets.plot import EmptyState

        # Before a result: a sentence, not two empty axes with -0.04…0.04 ticks (issue 28).
        self.empty = EmptyState(self.figure, "Press Compare meanings: how alike the sentences are, and a map "
                                "of them, appear here.", axes=[self.ax_matrix, self.ax_map])
        self.has_data = False
        self.matrix = None
        self.texts: list[str] = []
        vbox(hbox((self.edit, 1), self.button), self.note, (self.canvas, 1), parent=self)

    def compare(self) -> None:
        texts = [t.strip() for t in self.edit.toPlainText().splitlines() if t.strip()]
        if not 2 <= len(texts) <= 12:
            self.note.setText("Type between 2 and 12 sentences, one per line.")
            return
        from playground.core.models.encoder import sentence_map

        self.note.setText("Reading the sentences with the bundled encoder…")
        self.task = self.slot.start("meaning", lambda h: (texts, sentence_map(texts)), on_done=self.show_result)

    def show_result(self, done) -> None:
        texts, (matrix, coords, emb) = done
        self.texts, self.matrix = texts, matrix
        short = [t if len(t) <= 28 else t[:26] + "…" for t in texts]
        self.empty.show(False)
        for ax in (self.ax_matrix, self.ax_map):
            ax.clear()
        self.ax_matrix.imshow(matrix, vmin=-0.2, vmax=1, cmap="viridis")
        for i in range(len(texts)):
            for j in range(len(texts)):
                self.ax_matrix.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", fontsize=7,
                                    color="white" if matrix[i, j] < 0.6 else "black")
        self.ax_matrix.set_xticks(range(len(texts)), [str(i + 1) for i in range(len(texts))])
        self.ax_matrix.set_yticks(range(len(texts)), [f"{i + 1}. {s}" for i, s in enumerate(short)], fontsize=7)
        self.ax_matrix.set_title("cosine similarity", fontsize=9)
        self.ax_map.scatter(coords[:, 0], coords[:, 1])
        for i, (x, y) in enumerate(coords):
            self.ax_map.annotate(f"{i + 1}", (x, y), xytext=(4, 4), textcoords="offset points")
        self.ax_map.set_title("2-D map (PCA of the sentence vectors)", fontsize=9)
        self.ax_map.set_xticks([])
        self.ax_map.set_yticks([])
        self.canvas.draw_idle()
        self.has_data = True
        self.note.setText(f"Sentence vectors from {emb.encoder_name}: the mean of its last layer over each "
                          f"sentence's tokens. Close meanings point the same way (cosine near 1) even with "
                          f"different words. {emb.note()}")

    def export_png(self, path: str) -> None:
        self.figure.savefig(path)

    def export_csv(self, path: str) -> None:
        import csv

        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["sentence"] + self.texts)
            for t, row in zip(self.texts, self.matrix):
                w.writerow([t] + [f"{v:.4f}" for v in row])


def _row_html(name: str, cells: list, colour: str) -> str:
    tds = "".join(f"<td style='background:{colour if c is not None else '#f3f3f3'};padding:2px 4px'>"
                  f"{html.escape(c) if c is not None else '·'}</td>" for c in cells)
    return f"<tr><th align='left' style='padding-right:6px'>{name}</th>{tds}</tr>"


def _loss_colour(loss: float | None) -> str:
    if loss is None:
        return "#eeeeee"
    t = max(0.0, min(1.0, loss / 10.0))
    return f"rgb(255,{int(255 - 150 * t)},{int(255 - 200 * t)})"


def objectives_html(result) -> str:
    """The whole Objectives page from the worker's result dict."""
    out = []
    toks = result["tokenizers"]
    out.append("<h3>The tokenizers side by side</h3><table cellspacing='2'>")
    for name, pieces, vocab, how in toks:
        out.append(_row_html(f"{html.escape(name)}<br><small>{vocab:,} tokens · {how}</small>", pieces, "#e8f0fe"))
    out.append("</table><p><small>WordPiece marks a piece that continues a word with <b>##</b>; byte-level BPE "
               "marks a piece that starts after a space with <b>Ġ</b> (shown here as ␣).</small></p>")
    for ex in result["objectives"]:
        out.append(f"<h3>{html.escape(ex.name)}</h3><p><small>{html.escape(ex.explanation)}</small></p>"
                   "<table cellspacing='2'>")
        out.append(_row_html("input", ex.inputs, "#e8f0fe"))
        out.append(_row_html("target" if ex.name == "span corruption" else "label", ex.labels, "#e6f4ea"))
        out.append("</table>")
    losses = result.get("losses")
    if losses is not None:
        cells = "".join(f"<span style='background:{_loss_colour(l)};padding:2px' title='loss'>"
                        f"{html.escape(t)}<sub>{'' if l is None else f'{l:.1f}'}</sub></span> "
                        for t, l in zip(losses.tokens, losses.losses))
        out.append(f"<h3>How surprised was {html.escape(result['model'])}?</h3><p>{cells}</p>"
                   f"<p>Each token's loss (−log p of the token, given the ones before it; redder = more "
                   f"surprising). Perplexity of the sentence: <b>{losses.perplexity:.1f}</b> "
                   "(as if the model hesitated between that many tokens at each step).</p>")
    elif result.get("losses_note"):
        out.append(f"<p><i>{html.escape(result['losses_note'])}</i></p>")
    return "".join(out)


def analyse_objectives(loaded, text: str) -> dict:
    """The worker side of the Objectives view (no Qt): tokenizers, objectives, per-token loss."""
    from playground.core.models.encoder import load_encoder
    from playground.core.base.errors import PlaygroundError
    from playground.core.models.objectives import all_objectives, token_losses

    _, enc_tok = load_encoder()
    tokenizers = []
    enc_ids = enc_tok(text)["input_ids"]
    enc_pieces = enc_tok.convert_ids_to_tokens(enc_ids)
    tokenizers.append(("all-MiniLM-L6-v2 (WordPiece)", enc_pieces, len(enc_tok), "encoder"))
    if loaded is not None and loaded.info.kind != "encoder-only":
        tok = loaded.tokenizer
        raw = tok.convert_ids_to_tokens(tok(text, add_special_tokens=False)["input_ids"])
        tokenizers.append((f"{loaded.info.name}", [p.replace("Ġ", "␣") for p in raw], len(tok), loaded.info.kind))
    special = {0, len(enc_pieces) - 1}
    objectives = all_objectives(enc_pieces, enc_tok.mask_token, special=special)
    if len(tokenizers) > 1:  # the causal objective on the decoder's own tokens
        from playground.core.models.objectives import causal_lm

        objectives[0] = causal_lm(tokenizers[1][1])
    result = {"tokenizers": tokenizers, "objectives": objectives, "model": loaded.info.name if loaded else ""}
    try:
        result["losses"] = token_losses(loaded, text) if loaded is not None else None
    except PlaygroundError as exc:
        result["losses"], result["losses_note"] = None, exc.message if hasattr(exc, "message") else str(exc)
    return result


class ObjectivesView(QWidget):
    """Type a sentence; see it as each pre-training objective's training example."""

    def __init__(self, context, parent=None) -> None:
        super().__init__(parent)
        self.context = context
        self.slot = TaskSlot(context.runner, parent=self)
        self.edit = QLineEdit("The cat sat on the warm mat because it was tired.")
        self.button = button("Show the objectives", on_click=self.show_objectives)
        self.note = note_label()
        self.slot.say = self.note.setText
        self.browser = QTextBrowser()
        self.has_data = False
        self.result = None
        vbox(hbox((self.edit, 1), self.button), self.note, (self.browser, 1), parent=self)

    def show_objectives(self) -> None:
        text = self.edit.text().strip()
        if not text:
            self.note.setText("Type a sentence first.")
            return
        loaded = self.context.session.current
        self.note.setText("")
        self.task = self.slot.start("objectives", lambda h: analyse_objectives(loaded, text), on_done=self._show)

    def _show(self, result) -> None:
        self.result = result
        self.browser.setHtml(objectives_html(result))
        self.has_data = True

    def export_png(self, path: str) -> None:
        self.browser.grab().save(path)

    def export_csv(self, path: str) -> None:
        import csv

        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            for ex in self.result["objectives"]:
                w.writerow([ex.name, "input"] + ex.inputs)
                w.writerow([ex.name, "label"] + ["" if x is None else x for x in ex.labels])

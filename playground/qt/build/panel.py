"""The Build tab: building with a model. Its first section, Retrieval, is retrieval-augmented generation
you can see into (a RAG X-ray): the documents cut into chunks, every chunk's score for a question, the
prompt the model reads, the answer with and without retrieval, and where the answer came from.

One tab after Lifecycle, in lifecycle order ("augment the model and build applications"), with named
sections like Lifecycle's, so later sections (tools, agents) join it without a new tab.
"""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from playground.qt.build.react_page import ReactPage
from playground.qt.build.reasoning_page import ReasoningPage
from playground.qt.build.retrieval_page import RetrievalPage
from playground.qt.build.structured_page import StructuredPage
from playground.qt.panel import Panel
from playground.qt.sections import SectionsMixin

LESSON = ("<b>Retrieval-augmented generation gives a model documents it never read, in its prompt.</b> The "
          "documents are cut into chunks; an encoder turns each chunk into a vector; a question is turned into a "
          "vector too and the closest chunks (dense search), the chunks sharing its words (BM25) or both fused "
          "(hybrid) are pasted into the prompt above the question. The model then answers from that text. "
          "Everything here is visible: where the chunks are cut, every chunk's score, the k chunks chosen, the "
          "prompt exactly as the model reads it, the answer with and without them, and which chunk the answer "
          "came from.")


class BuildPanel(SectionsMixin, Panel):
    title = "Build"
    guide = ("Build with the model: documents it never saw (retrieval), reasoning strategies, structured output "
             "and tools (ReAct), each step visible.")
    help = """<h2>Build: retrieval, reasoning, structured output, tools</h2>
<p>A model only knows what it was trained on. <b>Retrieval</b> gives it documents at question time: the
documents are cut into <b>chunks</b> (size and overlap counted in the encoder's tokens), each chunk becomes a
<b>vector</b> (all-MiniLM-L6-v2, mean pooling), and a question's vector is compared with every chunk's
(<b>dense</b> search, cosine similarity; exact by default, or an <b>approximate</b> HNSW graph whose recall
against exact search is shown). <b>BM25</b> scores shared words instead, and <b>hybrid</b> fuses the two rank
lists (reciprocal rank fusion). The <b>top k</b> chunks (above a score <b>threshold</b>) are put in the prompt.</p>
<p><b>With and without</b> shows what the documents changed; <b>leave-one-out</b> removes one chunk at a time
and measures how much less likely the answer becomes: that is attribution. Attention weights are not.
<b>recall@k</b> is the share of questions whose answer passage is in the top k; <b>MRR</b> the mean of
1 / its rank.</p>
<p><b>Reasoning</b>: the same problem answered directly, with chain-of-thought (zero- and few-shot),
self-consistency (k sampled paths voted) and PAL (the model writes a program; a sandbox runs it).
<b>Structured output</b>: at every step a grammar masks the tokens that would break a JSON schema.
<b>ReAct</b>: the model alternates Thought, Action (a tool and its input) and Observation (the tool's real
output) until it finishes.</p>"""
    notebook_kind = "rag"

    def __init__(self, context, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.make_sections()
        self.retrieval = RetrievalPage(context)
        # The Retrieval section: its explanation at its top (one place, as in every section), then the page.
        self.retrieval_section = QWidget()
        inner = QVBoxLayout(self.retrieval_section)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addWidget(self.lesson(LESSON))
        inner.addWidget(self.retrieval, 1)
        self.sections.addTab(self.retrieval_section, "Retrieval")
        self.add_section(ReasoningPage(context), "Reasoning")
        self.add_section(StructuredPage(context), "Structured output")
        self.add_section(ReactPage(context), "ReAct (tools)")
        self.message_label = self.retrieval.box.message
        layout = QVBoxLayout(self)
        layout.addWidget(self.sections, 1)

    # --- the panel protocol ----------------------------------------------------------------------------
    def lab_events(self) -> dict:
        page = self.retrieval
        same = lambda payload: dict(payload)  # noqa: E731 (the signals carry plain data already)
        return {"rag.indexed": (page.sig_indexed, same), "rag.asked": (page.sig_asked, same),
                "rag.compared": (page.sig_compared, same), "rag.attributed": (page.sig_attributed, same),
                "rag.preset": (page.sig_preset, same), "rag.evaluated": (page.sig_evaluated, same),
                **self.pages_lab_events()}

    def reveal(self, control: str) -> QWidget | None:
        widget = self.retrieval.reveal(control)
        if widget is not None:
            self.sections.setCurrentWidget(self.retrieval_section)
            return widget
        return self.reveal_in_pages(control)

    def notebook_state(self) -> dict | None:
        """The experiment as plain data (``core.retrieval.notebook.rag_experiment``): the documents, the chunking,
        the question, the search and, when they answered this very search, the two answers."""
        page = self.retrieval
        if page.index is None or page.search is None:
            return None
        from playground.core.retrieval.notebook import rag_experiment

        s, cols = page.search, page.answers.columns
        answered = page.answered is not None and page.answered[1] is s
        return rag_experiment(page.index.documents, page.index.settings, s.question, s.method, s.k, s.hits,
                              answer=cols["with"].answer.strip() if answered else "",
                              answer_without=cols["without"].answer.strip() if answered else "",
                              threshold=s.threshold, max_new_tokens=page.generation.value.max_new_tokens)

    def session_snapshot(self) -> list[tuple[str, str]]:
        page = self.retrieval
        if page.search is None:
            return []
        s = page.search
        items = [(f"Retrieval: {s.question}", "\n".join(f"#{h.rank} {h.chunk.id} ({h.score:.3f}): {h.chunk.text[:200]}"
                                                       for h in s.hits))]
        cols = page.answers.columns
        if cols["with"].answer:
            items.append(("Answers", f"Without retrieval: {cols['without'].answer.strip()}\n"
                                     f"With retrieval: {cols['with'].answer.strip()}"))
        return items

    @property
    def busy(self) -> bool:
        return self.retrieval.busy or self.pages_busy()

    def stop(self) -> None:
        self.retrieval.stop()
        self.stop_pages()

    def on_model_changed(self, loaded) -> None:
        self.retrieval.on_model_changed(loaded)
        self.pages_model_changed(loaded)

"""Failure modes a learner can provoke on the bundled knowledge base, each a preset: a question (from the
bundled question set, by id) and the settings that make the failure happen, with a sentence saying what
to look at."""

from __future__ import annotations

from dataclasses import dataclass, replace

from playground.core.retrieval.chunking import ChunkSettings


@dataclass(frozen=True)
class Preset:
    """A question and the settings that provoke one failure; ``None`` keeps the current value."""

    key: str
    name: str
    sentence: str
    question_id: str | None = None  # a bundled question: its text (unless ``question``) and its gold answer
    question: str | None = None  # the preset's own wording, or a question the base cannot answer
    chunk_size: int | None = None
    overlap: int | None = None
    method: str | None = None
    k: int | None = None
    retrieval: bool = True

    def chunk_settings(self, current: ChunkSettings | None = None) -> ChunkSettings:
        current = current or ChunkSettings()
        return replace(current, **{k: v for k, v in (("size", self.chunk_size), ("overlap", self.overlap))
                                   if v is not None})

    def question_text(self, base) -> str:
        """The preset's question: its own wording, or the bundled question ``question_id`` of ``base``."""
        if self.question:
            return self.question
        return base.question(self.question_id).question

    def gold_answer(self, base) -> str | None:
        """The gold answer (of ``question_id``, also when the preset words the question its own way), or None."""
        return base.question(self.question_id).answer if self.question_id else None


#: Each was seen to happen with the bundled encoder and SmolLM2-135M-Instruct (greedy) on the bundled base
#: "kestrany"; tests/core/test_retrieval_presets.py checks the retrieval side of every one.
PRESETS: tuple[Preset, ...] = (
    Preset("bm25-misses", "Other words: BM25 misses, dense finds",
           "The question shares no word with the passage about the doctor ('physician', 'islanders' against "
           "'general practitioner', 'island's health'), so BM25 cannot find it; dense search, which compares "
           "meaning, ranks it second. Switch the method to Dense and look at the chunks again.",
           question_id="q42", question="Which physician looks after the islanders?", method="bm25", k=2),
    Preset("dense-misses", "Other words: dense misses, BM25 finds",
           "The reverse: the word 'passengers' leads BM25 straight to the ferry passage, while dense search ranks "
           "chunks about vehicles and the cargo boat above it. Switch the method to BM25 (or Hybrid, which fuses "
           "the two rankings) and compare.",
           question_id="q01", question="Which vessel carries passengers to the island nowadays?", method="dense",
           k=3),
    Preset("fact-split", "A chunk too small: the fact is cut in two",
           "With chunks of 16 tokens and no overlap, the sentence naming the convenor is cut in the middle of her "
           "name: one chunk ends 'The present convenor is Mare…'. The model copies what it sees ('Mare'). Raise "
           "the overlap or the chunk size and ask again.",
           question_id="q08", chunk_size=16, overlap=0, method="hybrid", k=4),
    Preset("too-many", "Too many chunks: the answer drifts",
           "With k = 4 the model answers '13 stops'. With k = 40 the prompt fills more than half of the context "
           "window with passages, most of them about other things, and the small model loses the fact (it "
           "answered '10 stops'). More context is not better context.",
           question_id="q29", method="hybrid", k=40),
    Preset("ignores-context", "The model ignores its context",
           "The right passage is retrieved first, yet the model names someone else: Ilse Varga, the museum's "
           "curator from another retrieved chunk. Retrieval did its part; a 135M-parameter model does not always "
           "read carefully. Leave-one-out shows which chunk the answer leaned on.",
           question_id="q18", method="hybrid", k=4),
    Preset("not-in-documents", "A question the documents cannot answer",
           "No document gives the price of a pint. The honest answer is 'The documents do not say' (the prompt asks "
           "for it), but search always returns k chunks, and the bundled model took a price from the bicycle-hire "
           "passage ('15 crowns a day'). Try a score threshold that drops weak chunks.",
           question="How much does a pint cost at the Driftwood Brewery?", method="hybrid", k=4),
)


def preset(key: str) -> Preset:
    for p in PRESETS:
        if p.key == key:
            return p
    raise KeyError(key)

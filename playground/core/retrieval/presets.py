"""Failure modes a learner can provoke on the bundled knowledge base, each a preset: a question (from the
bundled question set, by id) and the settings that make the failure happen, with a sentence saying what
to look at. Each was checked with the bundled model and encoder (tests/core/test_retrieval_presets.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from playground.core.retrieval.chunking import ChunkSettings


@dataclass(frozen=True)
class Preset:
    """A question and the settings that provoke one failure; ``None`` keeps the current value."""

    key: str
    name: str
    sentence: str
    question_id: str | None = None
    question: str | None = None  # a question of its own (one the base cannot answer)
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
        """The preset's question: its own, or the bundled question ``question_id`` of ``base``."""
        if self.question:
            return self.question
        return base.question(self.question_id).question


#: Filled with question ids of the bundled base (resources/knowledge/kestrany/questions.json) once each
#: failure was seen to happen with the bundled model and encoder.
PRESETS: tuple[Preset, ...] = ()


def preset(key: str) -> Preset:
    for p in PRESETS:
        if p.key == key:
            return p
    raise KeyError(key)

"""The encoder a knowledge base is embedded with: the bundled all-MiniLM-L6-v2 through the app's one
sentence-vector function (``core.models.encoder.sentence_embeddings``: mean pooling over the real
tokens, unit length), the same the Inside and Evaluate tabs use."""

from __future__ import annotations

from collections.abc import Sequence

from playground.core.base.errors import Cancelled
from playground.core.base.progress import report_step

EMBED_PHASE = "Embedding chunks"


class Encoder:
    """A sentence encoder: ``embed(texts)`` gives unit-length float32 rows (numpy).

    ``calls`` counts the texts embedded so far (a test checks that reopening an index embeds nothing).
    """

    def __init__(self, model=None, tokenizer=None, name: str | None = None, batch_size: int = 32) -> None:
        from playground.core.models.encoder import ENCODER_NAME, load_encoder

        if model is None or tokenizer is None:
            model, tokenizer = load_encoder()  # ModelLoadError in plain words when it is missing
        self.model, self.tokenizer = model, tokenizer
        self.name = name or ENCODER_NAME
        self.batch_size = batch_size
        self.calls = 0
        self.texts_embedded = 0

    @classmethod
    def of(cls, encoder) -> "Encoder":
        """An ``Encoder`` from None (the bundled one), an Encoder, a LoadedModel or a (model, tokenizer) pair."""
        if encoder is None:
            return cls()
        if isinstance(encoder, Encoder):
            return encoder
        if isinstance(encoder, tuple):
            return cls(*encoder)
        info = getattr(encoder, "info", None)
        return cls(encoder.model, encoder.tokenizer, getattr(info, "name", None))

    @property
    def dimension(self) -> int:
        return int(getattr(self.model.config, "hidden_size", 384))

    def embed(self, texts: Sequence[str], handle=None, phase: str = EMBED_PHASE):
        """Unit-length vectors [len(texts), dimension] as float32 numpy; Stop honoured between batches."""
        import numpy as np

        from playground.core.models.encoder import sentence_embeddings

        self.calls += 1
        texts = list(texts)
        out = []
        total = len(texts)
        for start in range(0, total, self.batch_size):
            report_step(handle, phase, start, total)
            if handle is not None:
                handle.wait_while_paused()
                if handle.cancelled():
                    raise Cancelled()
            part = texts[start:start + self.batch_size]
            out.append(sentence_embeddings(part, self.model, self.tokenizer, batch_size=len(part),
                                           name=self.name).vectors.numpy())
            self.texts_embedded += len(part)
        report_step(handle, phase, total, total)
        if not out:
            return np.zeros((0, self.dimension), dtype="float32")
        return np.ascontiguousarray(np.concatenate(out).astype("float32"))

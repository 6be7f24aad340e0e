"""Inside the model: attention maps, their summaries, the logit lens and embeddings.

The public names live here; the modules are split by concern:

- ``extract``: one model run → every layer's (heads, T, T) weights with token labels
- ``memory``: the layers × heads × T² × 4 bytes check before extracting
- ``aggregate``: mean over heads, attention rollout, pooling
- ``lens``: the logit lens (each layer read through the final norm and LM head)
- ``embeddings``: cosine similarity and a 2-D PCA map of input embeddings
- ``taps``: eager attention switched on for a while, and the hooks that listen to each layer
"""

from playground.core.attention.aggregate import (
    attention_rollout,
    mean_over_heads,
    pool_matrix,
)
from playground.core.attention.embeddings import (
    EmbeddingResult,
    compare_embeddings,
    cosine_similarity,
    parse_words,
    pca_2d,
    word_vectors,
)
from playground.core.attention.extract import (
    MAP_TITLES,
    AttentionMap,
    AttentionResult,
    extract_attention,
    summarize,
)
from playground.core.attention.lens import (
    LogitLensResult,
    lens_for,
    logit_lens,
    logit_lens_from_hidden,
)
from playground.core.attention.memory import (
    DEFAULT_LIMIT_BYTES,
    MemoryPlan,
    attention_bytes,
    attention_shapes,
    format_bytes,
    plan_memory,
)

__all__ = [
    "DEFAULT_LIMIT_BYTES",
    "MAP_TITLES",
    "AttentionMap",
    "AttentionResult",
    "EmbeddingResult",
    "LogitLensResult",
    "MemoryPlan",
    "attention_bytes",
    "attention_rollout",
    "attention_shapes",
    "compare_embeddings",
    "cosine_similarity",
    "extract_attention",
    "format_bytes",
    "lens_for",
    "logit_lens",
    "logit_lens_from_hidden",
    "mean_over_heads",
    "parse_words",
    "pca_2d",
    "plan_memory",
    "pool_matrix",
    "summarize",
    "word_vectors",
]

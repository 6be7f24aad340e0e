"""The Pruning section's settings, declared once with each field's label, range and help (no torch here).

The page edits them as a draft; the CLI's ``playground prune`` reads the same help. A draft may hold
what ``check_sparsity`` refuses: the core refuses it in plain words when the run starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.core.lifecycle.pruning import METHODS


@dataclass(frozen=True)
class PruningOptions:
    """Which pruning, how much, measured on how many texts, with how many greedy tokens."""

    method: str = field(default="global", metadata={
        "label": "Method", "choices": tuple((m.label, m.name) for m in METHODS.values()),
        "help": "Unstructured: zero single weights of smallest magnitude (one cut over all layers, or the same "
                "share of each layer). Heads / layers: remove whole attention heads or decoder layers, the least "
                "important first (the loss change when each is masked, on a few bundled dialogues)."})
    sparsity: int = field(default=50, metadata={
        "label": "Sparsity", "range": (0, 90, 5), "suffix": "%",
        "help": "The share removed: of the linear weights (unstructured), of all attention heads (heads) or of "
                "the decoder layers (layers). Each layer keeps at least one head, and one layer always stays."})
    texts: int = field(default=20, metadata={
        "label": "Texts", "range": (1, 500),
        "help": "How many bundled test summaries perplexity and the KL divergence from the dense model are "
                "measured on (as in the Precision section)."})
    new_tokens: int = field(default=24, metadata={
        "label": "Greedy tokens", "range": (2, 256),
        "help": "How many tokens each model writes greedily from the same prompt (the decode speed, and where "
                "the text first differs from the dense model's)."})

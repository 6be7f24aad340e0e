"""How each pre-training objective turns one sentence into a training example.

- causal LM (decoders, e.g. SmolLM2): the input is the tokens, the label at each position is the
  next token (labels are the inputs shifted left by one);
- masked LM (encoders, e.g. BERT): about 15% of the tokens are replaced by a mask token; labels
  exist only at those positions (everywhere else the loss ignores the position, label -100);
- span corruption (encoder-decoders, T5): a few spans of consecutive tokens are each replaced by
  one sentinel (<extra_id_0>, <extra_id_1>, ...); the target lists each sentinel followed by the
  tokens it hid, closed by one more sentinel.

Everything works on lists of token strings, so the rows can be drawn for any tokenizer; the
functions that take a model (``token_losses``) are separate. Nothing here imports Qt.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

IGNORE = None  # a position with no label (the -100 of transformers' losses)


@dataclass
class ObjectiveExample:
    """One objective's training example as aligned rows (``labels[i]`` belongs to ``inputs[i]``)."""

    name: str
    inputs: list[str]
    labels: list[str | None]
    explanation: str

    @property
    def n_labelled(self) -> int:
        return sum(label is not None for label in self.labels)


def causal_lm(tokens: list[str]) -> ObjectiveExample:
    """Next-token prediction: inputs tokens[:-1], labels tokens[1:]."""
    return ObjectiveExample("causal LM", list(tokens[:-1]), list(tokens[1:]),
                            "Every position predicts the token after it, seeing only what came before.")


def pick_mask_positions(n: int, rate: float = 0.15, seed: int = 0, skip: set[int] | None = None) -> list[int]:
    """round(rate * candidates) positions (at least one), drawn without replacement, sorted."""
    candidates = [i for i in range(n) if i not in (skip or set())]
    if not candidates:
        return []
    k = max(1, round(rate * len(candidates)))
    return sorted(random.Random(seed).sample(candidates, k))


def masked_lm(tokens: list[str], positions: list[int], mask_token: str = "[MASK]") -> ObjectiveExample:
    """The chosen positions become the mask token; only they carry a label (the original token)."""
    chosen = set(positions)
    inputs = [mask_token if i in chosen else t for i, t in enumerate(tokens)]
    labels = [t if i in chosen else IGNORE for i, t in enumerate(tokens)]
    return ObjectiveExample("masked LM", inputs, labels,
                            f"{len(chosen)} of {len(tokens)} tokens are hidden; the model sees both sides "
                            "of each gap and is scored only on the hidden ones.")


def pick_spans(n: int, rate: float = 0.15, mean_span: int = 3, seed: int = 0) -> list[tuple[int, int]]:
    """Non-overlapping, non-adjacent (start, end) spans covering about ``rate`` of ``n`` tokens."""
    if n < 2:
        return []
    budget = max(1, round(rate * n))
    rng = random.Random(seed)
    spans: list[tuple[int, int]] = []
    taken: set[int] = set()
    tries = 0
    while budget > 0 and tries < 100:
        tries += 1
        length = min(budget, max(1, min(mean_span, n // 2)))
        start = rng.randrange(0, n - length + 1)
        cells = set(range(start - 1, start + length + 1))  # keep a gap between spans
        if cells & taken:
            continue
        spans.append((start, start + length))
        taken |= set(range(start, start + length))
        budget -= length
    return sorted(spans)


def sentinel(i: int) -> str:
    return f"<extra_id_{i}>"


def span_corruption(tokens: list[str], spans: list[tuple[int, int]]) -> tuple[list[str], list[str]]:
    """T5's (input, target) for the given (start, end) spans: each span becomes one sentinel in the
    input; the target is each sentinel followed by what it hid, closed by a last sentinel."""
    spans = sorted(spans)
    inputs: list[str] = []
    target: list[str] = []
    pos = 0
    for k, (start, end) in enumerate(spans):
        inputs += tokens[pos:start] + [sentinel(k)]
        target += [sentinel(k)] + tokens[start:end]
        pos = end
    inputs += tokens[pos:]
    target.append(sentinel(len(spans)))
    return inputs, target


def span_corruption_example(tokens: list[str], spans: list[tuple[int, int]]) -> ObjectiveExample:
    inputs, target = span_corruption(tokens, spans)
    return ObjectiveExample("span corruption", inputs, list(target),
                            f"{len(spans)} span(s) are cut out and replaced by sentinels; the decoder writes "
                            "the missing pieces, each after its sentinel (input and target differ in length).")


def all_objectives(tokens: list[str], mask_token: str = "[MASK]", rate: float = 0.15, seed: int = 0,
                   special: set[int] | None = None) -> list[ObjectiveExample]:
    """The three objectives for one tokenized sentence (``special``: positions never masked)."""
    plain = [i for i in range(len(tokens)) if i not in (special or set())]
    body = [tokens[i] for i in plain]
    return [causal_lm(tokens),
            masked_lm(tokens, pick_mask_positions(len(tokens), rate, seed, special), mask_token),
            span_corruption_example(body, pick_spans(len(body), rate, 3, seed))]


@dataclass
class TokenLosses:
    """A causal model's surprise at each token of a sentence."""

    tokens: list[str]  # every token; the first has no loss (nothing before it to predict from)
    losses: list[float | None]  # cross-entropy in nats, None for the first token
    perplexity: float  # exp(mean loss)


def token_losses(loaded, text: str) -> TokenLosses:
    """Per-token loss of a causal LM on ``text`` and the sentence's perplexity."""
    import torch

    from playground.core.base.errors import InputError, PlaygroundError
    from playground.core.models.loading import DECODER_ONLY
    from playground.core.prompting.tokens import token_label

    if loaded.info.kind != DECODER_ONLY:
        raise PlaygroundError(f"{loaded.info.name} is {loaded.info.kind}: per-token surprise needs a causal "
                              "(decoder-only) model.", "Load the bundled SmolLM2 to see it.")
    tok = loaded.tokenizer
    ids = tok(text, add_special_tokens=False)["input_ids"]
    if len(ids) < 2:
        raise InputError("Type at least two tokens to see how surprised the model is.")
    ids = ids[: loaded.info.context_window]
    device = next(loaded.model.parameters()).device
    x = torch.tensor([ids], device=device)
    with torch.no_grad():
        logits = loaded.model(input_ids=x).logits[0].float()
    losses = torch.nn.functional.cross_entropy(logits[:-1], x[0, 1:], reduction="none").tolist()
    return TokenLosses(tokens=[token_label(tok, i) for i in ids], losses=[None] + losses,
                       perplexity=math.exp(sum(losses) / len(losses)))

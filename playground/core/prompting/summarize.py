"""Summarization prompts: zero-shot and k-shot, for chat models and plain-text models.

A causal model with a chat template gets the conversation as chat turns (each shot is a user
turn with its dialogue and an assistant turn with its summary); an encoder-decoder model, or a
model without a chat template, gets plain text ending in ``Summary:``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from playground.core.evaluation.datasets import Example
from playground.core.base.errors import InputError

INSTRUCTION = "Summarize the following conversation."


def user_message(dialogue: str) -> str:
    """The instruction followed by the dialogue: what the model is asked."""
    return f"{INSTRUCTION}\n\n{dialogue.strip()}"


def plain_block(dialogue: str, summary: str | None = None) -> str:
    """One plain-text example; without a summary it ends at 'Summary:' for the model to finish."""
    block = f"{user_message(dialogue)}\n\nSummary:"
    return f"{block} {summary.strip()}" if summary is not None else block


def uses_chat_template(loaded) -> bool:
    """True for causal models whose tokenizer has a chat template."""
    return (not loaded.is_encoder_decoder) and bool(getattr(loaded.tokenizer, "chat_template", None))


def pick_shots(pool: Sequence[Example], k: int, exclude: Example | None = None, seed: int = 0) -> list[Example]:
    """``k`` worked examples from ``pool`` (the train split), never the example being asked.

    The same seeded choice is used for every example, except that an example never sees itself
    (same id or same dialogue): it gets the next one in the seeded order instead.
    """
    if k < 0:
        raise InputError("The number of shots cannot be negative.")
    if k == 0:
        return []
    order = list(pool)
    random.Random(seed).shuffle(order)
    chosen = []
    for ex in order:
        if exclude is not None and (ex.id == exclude.id or ex.input.strip() == exclude.input.strip()):
            continue
        chosen.append(ex)
        if len(chosen) == k:
            return chosen
    raise InputError(f"{k} shots were asked for but the training examples hold only {len(chosen)} others.",
                     "Use fewer shots.")


def build_prompt(loaded, dialogue: str, shots: Sequence[Example] = ()) -> str:
    """The full prompt that asks ``loaded`` to summarize ``dialogue``, after the ``shots``.

    Parameters
    ----------
    loaded
        The LoadedModel (its kind and tokenizer decide chat template or plain text).
    dialogue
        The conversation to summarize.
    shots
        Worked examples (dialogue and reference summary) shown first: 0 = zero-shot.
    """
    if not dialogue or not dialogue.strip():
        raise InputError("The dialogue to summarize is empty.")
    if uses_chat_template(loaded):
        messages = []
        for s in shots:
            messages.append({"role": "user", "content": user_message(s.input)})
            messages.append({"role": "assistant", "content": s.reference.strip()})
        messages.append({"role": "user", "content": user_message(dialogue)})
        return loaded.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    blocks = [plain_block(s.input, s.reference) for s in shots] + [plain_block(dialogue)]
    return "\n\n\n".join(blocks)


def clean_summary(text: str) -> str:
    """The summary part of a completion: trimmed, a leading 'Summary:' removed, and cut at the
    first blank line (after it a plain-text model starts inventing the next example)."""
    text = text.strip()
    if text.lower().startswith("summary:"):
        text = text[len("summary:"):].strip()
    return text.split("\n\n", 1)[0].strip()

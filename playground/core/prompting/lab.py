"""Running prompt variants (0/1/k shots, or different templates) on one dialogue and scoring them."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

from playground.core.decoding.generation import GenerationSettings, stream_generate
from playground.core.prompting.prompts import (
    AssembledPrompt,
    ShotLike,
    assemble,
    clean_summary,
    count_prompt_tokens,
)


@dataclass
class Variant:
    """One column of a comparison: a template and some shots (or a hand-edited prompt)."""

    label: str
    template: str
    shots: Sequence[ShotLike] = ()
    use_chat_template: bool = False
    prompt_override: str = ""  # a prompt the user edited by hand wins over the template


@dataclass
class VariantEvent:
    """Progress of one variant: ``text`` grows while it streams; ``done`` comes once at the end."""

    index: int
    text: str = ""
    done: bool = False
    prompt: str = ""
    prompt_tokens: int = 0
    seconds: float = 0.0
    summary: str = ""
    scores: dict = field(default_factory=dict)


def build_variant_prompt(loaded, dialogue: str, variant: Variant) -> AssembledPrompt:
    if variant.prompt_override.strip():
        return AssembledPrompt(variant.prompt_override, [], len(variant.shots), False)
    chat = variant.use_chat_template and not loaded.is_encoder_decoder
    return assemble(dialogue, variant.shots, variant.template, tokenizer=loaded.tokenizer, use_chat_template=chat)


def score_summary(summary: str, reference: str) -> dict:
    """ROUGE F1 of one summary against its reference ({} without a reference)."""
    if not reference.strip():
        return {}
    from playground.core.evaluation.metrics import rouge

    scores = rouge([summary if summary.strip() else " "], [reference])
    return {k: float(scores[k]) for k in ("rouge1", "rouge2", "rougeL")}


def run_variants(loaded, dialogue: str, reference: str, variants: Sequence[Variant],
                 settings: GenerationSettings, cancelled: Callable[[], bool] | None = None,
                 stream_every: int = 1, handle=None) -> Iterator[VariantEvent]:
    """Generate a summary for each variant in turn, streaming text, then a scored final event.

    With a ``handle``, each variant is a named phase of the progress ("Writing the 1-shot summary
    (2 of 3)", token x of the most new tokens), then "Scoring it with ROUGE".
    """
    from playground.core.base.progress import report_step

    cancelled = cancelled or (lambda: False)
    for i, variant in enumerate(variants):
        phase = f"Writing the {variant.label} summary" + (f" ({i + 1} of {len(variants)})" if len(variants) > 1 else "")
        report_step(handle, phase, 0, settings.max_new_tokens)
        if cancelled():
            return
        prompt = build_variant_prompt(loaded, dialogue, variant)
        n_tokens = (len(loaded.tokenizer(prompt.text, add_special_tokens=not prompt.chat)["input_ids"])
                    if variant.prompt_override.strip() else count_prompt_tokens(loaded.tokenizer, prompt).total)
        t0 = time.perf_counter()
        text = ""
        for j, step in enumerate(stream_generate(loaded, prompt.text, settings, cancelled)):
            text += step.text
            report_step(handle, phase, j + 1, settings.max_new_tokens)
            if stream_every and j % stream_every == 0:
                yield VariantEvent(i, text=text)
        seconds = time.perf_counter() - t0
        if cancelled():
            return
        summary = clean_summary(text)
        if reference.strip():
            report_step(handle, f"Scoring the {variant.label} summary with ROUGE", 0, 1)
        yield VariantEvent(i, text=text, done=True, prompt=prompt.text, prompt_tokens=n_tokens, seconds=seconds,
                           summary=summary, scores=score_summary(summary, reference))


def python_snippet(model_ref: str | dict, prompt: str, settings: GenerationSettings, encoder_decoder: bool = False,
                   chat: bool = False) -> str:
    """A runnable transformers script that reproduces this prompt and these settings: the generation
    section of an exported notebook (core.notebook), as one script. ``model_ref`` is a model folder, or
    ``labs.notebook.model_ref(loaded)`` so an attached adapter is loaded as the app uses it. ``chat`` is
    kept for callers: a chat prompt already starts with the BOS its template wrote, and the script then
    adds no special tokens."""
    from playground.core.labs.notebook import experiment_script

    del chat
    model = (dict(model_ref) if isinstance(model_ref, dict)
             else {"kind": "local", "ref": model_ref, "encoder_decoder": encoder_decoder})
    return "# Reproduces a run from LLM Playground.\n" + experiment_script(
        model, [{"kind": "generation", "prompt": prompt, "settings": settings.to_dict()}])

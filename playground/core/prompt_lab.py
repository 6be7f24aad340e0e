"""Running prompt variants (0/1/k shots, or different templates) on one dialogue and scoring them."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

from playground.core.generation import GenerationSettings, stream_generate
from playground.core.prompts import (
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
    from playground.core.metrics import rouge

    scores = rouge([summary if summary.strip() else " "], [reference])
    return {k: float(scores[k]) for k in ("rouge1", "rouge2", "rougeL")}


def run_variants(loaded, dialogue: str, reference: str, variants: Sequence[Variant],
                 settings: GenerationSettings, cancelled: Callable[[], bool] | None = None,
                 stream_every: int = 1) -> Iterator[VariantEvent]:
    """Generate a summary for each variant in turn, streaming text, then a scored final event."""
    cancelled = cancelled or (lambda: False)
    for i, variant in enumerate(variants):
        if cancelled():
            return
        prompt = build_variant_prompt(loaded, dialogue, variant)
        n_tokens = (len(loaded.tokenizer(prompt.text, add_special_tokens=not prompt.chat)["input_ids"])
                    if variant.prompt_override.strip() else count_prompt_tokens(loaded.tokenizer, prompt).total)
        t0 = time.perf_counter()
        text = ""
        for j, step in enumerate(stream_generate(loaded, prompt.text, settings, cancelled)):
            text += step.text
            if stream_every and j % stream_every == 0:
                yield VariantEvent(i, text=text)
        seconds = time.perf_counter() - t0
        if cancelled():
            return
        summary = clean_summary(text)
        yield VariantEvent(i, text=text, done=True, prompt=prompt.text, prompt_tokens=n_tokens, seconds=seconds,
                           summary=summary, scores=score_summary(summary, reference))


def python_snippet(model_ref: str, prompt: str, settings: GenerationSettings, encoder_decoder: bool = False,
                   chat: bool = False) -> str:
    """A short runnable transformers script that reproduces this prompt and these settings."""
    cls = "AutoModelForSeq2SeqLM" if encoder_decoder else "AutoModelForCausalLM"
    gen = {"max_new_tokens": settings.max_new_tokens, "do_sample": settings.do_sample}
    if settings.do_sample:
        gen.update(temperature=settings.temperature, top_k=settings.top_k, top_p=settings.top_p)
    args = ", ".join(f"{k}={v!r}" for k, v in gen.items())
    seed = f"torch.manual_seed({settings.seed})\n" if settings.do_sample and settings.seed is not None else ""
    cut = "[0]" if encoder_decoder else "[0, inputs['input_ids'].shape[1]:]"
    return (
        "# Reproduces a run from LLM Playground.\n"
        "import torch\n"
        f"from transformers import AutoTokenizer, {cls}\n\n"
        f"model_id = {model_ref!r}\n"
        "tokenizer = AutoTokenizer.from_pretrained(model_id)\n"
        f"model = {cls}.from_pretrained(model_id)\n\n"
        f"prompt = {json.dumps(prompt, ensure_ascii=False)}\n"
        f"inputs = tokenizer(prompt, return_tensors='pt', add_special_tokens={not chat})\n"
        f"{seed}"
        f"output = model.generate(**inputs, {args})\n"
        f"print(tokenizer.decode(output{cut}, skip_special_tokens=True))\n")

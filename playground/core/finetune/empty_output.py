"""Why a summary came out empty: the model ended at once, wrote only special tokens (which are not
shown as text), or wrote only spaces and line breaks up to the token limit.

The report keeps the cleaned summaries only, so the reason is found by generating again: scoring
decodes greedily, so the same model on the same prompt takes the same tokens. ``explain_empty_samples``
does that for a fine-tuning report's empty samples with the models at hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from playground.core.base.handle import TaskHandle


def why_empty_in_words(max_new_tokens: int) -> str:
    """The possible reasons, for when the model is not at hand to tell which one it was."""
    return (f"an empty summary means the model wrote no text: it ended at once, wrote only special tokens "
            f"(not shown as text), or wrote only spaces and line breaks up to the limit of {max_new_tokens} "
            "new tokens")


def why_empty(steps, max_new_tokens: int, tokenizer, special: set[int] | None = None) -> str:
    """The reason, in words, that generated ``steps`` (``TokenStep``s) give an empty summary ("" if they do not).

    Parameters
    ----------
    steps
        The tokens generated, in order (``generation.stream_generate``).
    max_new_tokens
        The limit they were generated with.
    tokenizer
        Names the special tokens.
    special
        Ids of the special tokens (the tokenizer's, by default).
    """
    from playground.core.prompting.prompts import clean_summary
    from playground.core.prompting.tokens import special_ids

    raw = "".join(s.text for s in steps)
    if clean_summary(raw):
        return ""
    special = special_ids(tokenizer) if special is None else special
    ended = bool(steps) and steps[-1].is_eos
    end = ", then ended" if ended else f" up to the limit of {max_new_tokens} new tokens"
    if not steps or steps[0].is_eos:
        name = tokenizer.convert_ids_to_tokens([steps[0].token_id])[0] if steps else "end-of-text"
        return f"the model ended at once: its first token was end-of-text ({name})"
    written = [s for s in steps if not s.is_eos]
    if all(s.token_id in special for s in written):
        names = list(dict.fromkeys(tokenizer.convert_ids_to_tokens([s.token_id for s in written])))
        return f"the model wrote only special tokens ({', '.join(names)}), which are not shown as text{end}"
    if not raw.strip():
        return f"the model wrote only spaces and line breaks{end}"
    return f"the model wrote only {raw.strip()[:40]!r}, which holds no summary{end}"


def explain_empty(loaded, prompt: str, settings, cancelled: Callable[[], bool] | None = None) -> str:
    """Generate from ``prompt`` again (greedy, as scoring does) and say why the summary is empty ("" if not)."""
    from playground.core.decoding.generation import stream_generate

    steps = list(stream_generate(loaded, prompt, settings, cancelled))
    return why_empty(steps, settings.max_new_tokens, loaded.tokenizer)


def explain_empty_samples(report: dict, models: dict, handle: TaskHandle | None = None) -> Iterator[tuple]:
    """For each empty sample summary of a fine-tuning report, why it is empty.

    Parameters
    ----------
    report
        The run's report (report.json): its job (``config``) and ``rouge.samples``.
    models
        {"before": LoadedModel or None, "after": LoadedModel or None}: the base and the fine-tuned model,
        where they are at hand (a soft prompt needs transformers' own generate: not explained).
    handle
        Stop, checked between tokens.

    Yields
    ------
    (sample index, "before" or "after", reason in words)
        Only for the empty summaries a model was given for; the reason is "" when the model now writes text
        for that prompt (another model than the run's, or a dialogue the run cut to its length limit).
    """
    from playground.core.decoding.generation import GenerationSettings
    from playground.core.finetune.config import FinetuneConfig
    from playground.core.finetune.prepare import load_split_rows
    from playground.core.prompting.prompts import assemble
    from playground.core.prompting.summarize import build_prompt

    handle = handle or TaskHandle()
    samples = (report.get("rouge") or {}).get("samples") or []
    wanted = [(i, key) for i, s in enumerate(samples) for key in ("before", "after")
              if not (s.get(key) or "").strip() and models.get(key) is not None]
    if not wanted:
        return
    cfg = FinetuneConfig.from_dict(report.get("config") or {})
    rows = {r.id: r for r in load_split_rows(cfg.data, cfg.training.seed)["test"][0]}
    settings = GenerationSettings.make(max_new_tokens=cfg.evaluation.max_new_tokens, do_sample=False, top_n=0)
    for i, key in wanted:
        handle.raise_if_cancelled()
        row, loaded = rows.get(samples[i].get("id")), models[key]
        if row is None:
            continue
        peft = getattr(loaded.model, "active_peft_config", None)
        if peft is not None and getattr(peft, "is_prompt_learning", False):
            continue
        if cfg.data.template:  # the prompt scoring built (evaluation.run, a template's system)
            chat = cfg.data.use_chat_template and not loaded.is_encoder_decoder
            prompt = assemble(row.input, [], cfg.data.template, tokenizer=loaded.tokenizer, use_chat_template=chat).text
        else:
            prompt = build_prompt(loaded, row.input)
        yield i, key, explain_empty(loaded, prompt, settings, handle.cancelled)

"""Structured output by constrained decoding (issue 31 §2), through xgrammar.

A model asked for JSON often writes something close to JSON: a sentence before it, a missing quote,
a field named otherwise. *Constrained decoding* makes the wrong tokens impossible: at every step a
grammar (here compiled from a JSON Schema, or from a regular expression) says which tokens may come
next, and every other token's score is set to minus infinity before the pick. The model still chooses,
but only among tokens that keep the text valid.

Why xgrammar: it compiles a JSON Schema (or a regex / EBNF) against the tokenizer's whole vocabulary
once, then fills a bitmask of allowed tokens per step in microseconds on the CPU, offline, with a
transformers logits processor of its own (``xgrammar.contrib.hf.LogitsProcessor``, the tests' oracle)
and a plain matcher API that this module drives step by step so every mask can be shown.

``TokenMask`` wraps one matcher: ``allowed()`` (a bool per token), ``apply(logits)``, ``accept(token)``.
``decode_structured(loaded, prompt, schema, constrained)`` decodes greedily and records each step's
next-token bars before and after the mask and the share of probability the grammar removed.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Callable

from playground.core.base.errors import InputError

#: The schema of the lesson: a number and a short reason. The bounds are part of the lesson: with them the
#: grammar is finite (a number of at most ten digits and six decimals, a reason of at most 80 characters), so
#: a constrained answer always closes within ``MAX_JSON_TOKENS``; without them a model can write digits forever.
ANSWER_SCHEMA: dict = {
    "type": "object",
    "properties": {"answer": {"type": "number", "minimum": -1e9, "maximum": 1e9},
                   "reason": {"type": "string", "maxLength": 80}},
    "required": ["answer", "reason"],
    "additionalProperties": False,
}
TOP_BARS = 12
MAX_JSON_TOKENS = 160  # enough for the longest text ANSWER_SCHEMA allows, one character a token

_COMPILERS: dict = {}


def check_schema(schema: str | dict | None) -> dict:
    """The schema as a dict, or an ``InputError`` saying plainly why it is not a JSON Schema."""
    if schema is None:
        return dict(ANSWER_SCHEMA)
    if isinstance(schema, str):
        if not schema.strip():
            raise InputError("The schema is empty.", "Write a JSON Schema, e.g. the default {\"type\": \"object\", ...}.")
        try:
            schema = json.loads(schema)
        except json.JSONDecodeError as exc:
            raise InputError(f"The schema is not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).",
                             "Check the quotes, commas and braces.") from None
    if not isinstance(schema, dict):
        raise InputError("The schema must be a JSON object such as {\"type\": \"object\", ...}.",
                         "A JSON Schema is an object describing the value, not a value itself.")
    import jsonschema

    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "the top level"
        raise InputError(f"This is not a valid JSON Schema: {exc.message} (at {where}).",
                         "Types are object, string, number, integer, boolean, array or null.") from None
    return schema


def vocab_size_of(loaded) -> int:
    """The number of scores the model gives per step (may exceed the tokenizer's length)."""
    out = loaded.model.get_output_embeddings()
    if out is not None and getattr(out, "weight", None) is not None:
        return int(out.weight.shape[0])
    return int(loaded.model.config.vocab_size)


def _compiler(tokenizer, vocab_size: int):
    import xgrammar as xgr

    key = (id(tokenizer), vocab_size)
    if key not in _COMPILERS:
        stops = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else None
        info = xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=vocab_size, stop_token_ids=stops)
        _COMPILERS[key] = (tokenizer, xgr.GrammarCompiler(info))  # keep the tokenizer alive with its id
    return _COMPILERS[key][1]


def compile_json_schema(loaded, schema: str | dict | None = None):
    """The xgrammar ``CompiledGrammar`` of a JSON Schema for this model's vocabulary (refused in plain words)."""
    schema = check_schema(schema)
    try:
        return _compiler(loaded.tokenizer, vocab_size_of(loaded)).compile_json_schema(
            json.dumps(schema), any_whitespace=False)
    except Exception as exc:  # xgrammar raises RuntimeError for a schema feature it cannot compile
        raise InputError(f"The grammar library cannot use this schema: {str(exc).splitlines()[0][-200:]}",
                         "Keep to types, properties, required, enum, maxLength and similar.") from None


def compile_regex(loaded, pattern: str):
    """The compiled grammar of a regular expression (the ReAct Action line)."""
    return _compiler(loaded.tokenizer, vocab_size_of(loaded)).compile_regex(pattern)


class TokenMask:
    """One grammar matcher: which tokens may come next, and the text accepted so far."""

    def __init__(self, compiled) -> None:
        import xgrammar as xgr

        self.matcher = xgr.GrammarMatcher(compiled)
        self.bitmask = xgr.allocate_token_bitmask(1, compiled.tokenizer_info.vocab_size)
        self._fresh = False

    def _fill(self) -> None:
        if not self._fresh:
            self.matcher.fill_next_token_bitmask(self.bitmask)
            self._fresh = True

    def apply(self, logits):
        """A copy of 1-D ``logits`` with the forbidden tokens at minus infinity (xgrammar's own kernel)."""
        import xgrammar as xgr

        self._fill()
        masked = logits.detach().to("cpu", dtype=logits.dtype).clone().unsqueeze(0)
        vocab = self.bitmask.shape[-1] * 32
        if masked.shape[-1] > vocab:  # scores beyond the grammar's vocabulary are never allowed
            masked[..., vocab:] = float("-inf")
        xgr.apply_token_bitmask_inplace(masked, self.bitmask)
        return masked[0]

    def allowed(self, size: int):
        """A bool tensor of ``size``: True where the grammar allows the token next."""
        import torch

        return torch.isfinite(self.apply(torch.zeros(size)))

    def accept(self, token_id: int) -> bool:
        self._fresh = False
        return bool(self.matcher.accept_token(int(token_id)))

    @property
    def done(self) -> bool:
        return bool(self.matcher.is_terminated())


@dataclass
class MaskStep:
    """One decode step: the top tokens before and after the mask, and what the mask removed."""

    index: int
    token_id: int
    token: str
    top_ids: list[int]
    top_tokens: list[str]
    before: list[float]          # the model's probabilities of top_ids
    after: list[float]           # renormalized over the allowed tokens (equal to before when free)
    removed_share: float         # probability mass on tokens the grammar forbade (0 when free)
    allowed_count: int


@dataclass
class StructuredResult:
    """A JSON answer, free or constrained, and whether it parsed and matched the schema."""

    text: str
    constrained: bool
    steps: list[MaskStep] = field(default_factory=list)
    value: dict | None = None
    error: str | None = None
    seconds: float = 0.0
    n_tokens: int = 0
    stopped: str = ""              # "end", "grammar complete", "token budget"

    @property
    def parsed(self) -> bool:
        return self.value is not None


def parse_structured(text: str, schema: dict | None = None) -> tuple[dict | None, str | None]:
    """Read ``text`` as JSON (the first ``{...}`` in it if there is more) and validate it against ``schema``."""
    import jsonschema

    schema = schema or ANSWER_SCHEMA
    raw = text.strip()
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        start, end = raw.find("{"), raw.rfind("}")
        if start < 0 or end <= start:
            return None, "no JSON object in the text"
        try:
            value = json.loads(raw[start:end + 1])
        except json.JSONDecodeError as exc:
            return None, f"not valid JSON: {exc.msg}"
    try:
        jsonschema.validate(value, schema)
    except jsonschema.ValidationError as exc:
        return None, f"JSON, but not the schema: {exc.message}"
    return value, None


def structured_prompt(loaded, question: str) -> str:
    """The question with the instruction to answer as JSON, in the model's chat template when it has one."""
    from playground.core.decoding.generation import format_prompt

    if not question or not question.strip():
        raise InputError("The question is empty.", "Type a question or pick one from the set.")
    return format_prompt(loaded, structured_message(question), use_chat_template=True)


def structured_message(question: str) -> str:
    """The instruction and the question, before any chat template."""
    return ("Answer the question. Reply with JSON only, exactly in this form: "
            '{"answer": <a number>, "reason": "<one short sentence>"}\n\n'
            f"Question: {question.strip()}")


def _label(tokenizer, token_id: int) -> str:
    from playground.core.prompting.tokens import token_label

    return token_label(tokenizer, token_id)


def decode_structured(loaded, prompt: str, schema: str | dict | None = None, constrained: bool = True,
                      max_new_tokens: int = MAX_JSON_TOKENS, cancelled: Callable[[], bool] | None = None,
                      record: bool = True) -> StructuredResult:
    """Greedy decoding of ``prompt``, masked by the schema's grammar when ``constrained``.

    Every step records the top tokens before and after the mask and the probability share removed
    (``record=False`` skips that, for timing). Stops at the end token, when the grammar is complete, or
    at ``max_new_tokens``.
    """
    import torch

    from playground.core.decoding.cached_step import CachedDecoder
    from playground.core.decoding.generation import _eos_ids, check_prompt

    schema_d = check_schema(schema)
    mask = TokenMask(compile_json_schema(loaded, schema_d)) if constrained else None
    ids = check_prompt(loaded, prompt, max_new_tokens)
    tok = loaded.tokenizer
    eos = _eos_ids(loaded.model, tok)
    decoder = CachedDecoder(loaded, ids)
    result = StructuredResult(text="", constrained=constrained)
    out: list[int] = []
    start = time.perf_counter()
    token = None
    result.stopped = "token budget"
    for i in range(max_new_tokens):
        if cancelled is not None and cancelled():
            result.stopped = "stopped"
            break
        logits = decoder.start() if i == 0 else decoder.feed([token])
        chosen = mask.apply(logits) if mask is not None else logits
        token = int(torch.argmax(chosen))
        if record:
            result.steps.append(_record(tok, i, token, logits, chosen, mask is not None))
        if mask is not None and not mask.accept(token):
            raise RuntimeError(f"the grammar refused its own allowed token {token}")
        if token in eos:
            result.stopped = "grammar complete" if mask is not None else "end"
            break
        out.append(token)
        if mask is not None and mask.done:
            result.stopped = "grammar complete"
            break
    result.seconds = time.perf_counter() - start
    result.n_tokens = len(out)
    result.text = tok.decode(out, skip_special_tokens=True)
    result.value, result.error = parse_structured(result.text, schema_d)
    return result


def _record(tok, index: int, token: int, logits, chosen, masked: bool) -> MaskStep:
    import torch

    probs = torch.softmax(logits.float(), dim=-1)
    if masked:
        allowed = chosen > float("-inf")
        after = probs.masked_fill(~allowed, 0.0)
        kept = float(after.sum())
        after = after / max(kept, 1e-30)
        count = int(allowed.sum())
    else:
        kept, after, count = 1.0, probs, int(probs.shape[-1])
    top = torch.topk(probs, TOP_BARS).indices.tolist()
    top_after = torch.topk(after, TOP_BARS // 2)
    kept_after = [t for t, v in zip(top_after.indices.tolist(), top_after.values.tolist()) if v > 0]
    ids = list(dict.fromkeys(kept_after + top))[:TOP_BARS]
    if token not in ids:
        ids[-1] = token
    index_t = torch.tensor(ids)
    return MaskStep(index=index, token_id=token, token=_label(tok, token), top_ids=ids,
                    top_tokens=[_label(tok, t) for t in ids], before=probs[index_t].tolist(),
                    after=after[index_t].tolist(), removed_share=max(0.0, 1.0 - kept), allowed_count=count)

"""Turning dialogues into training examples: template, tokens, truncation, completion-only labels.

Rows come from :mod:`playground.core.evaluation.datasets` (the bundled dialogues, or a user's CSV / JSONL /
Parquet file with a column mapping); prompts from :mod:`playground.core.prompting.prompts` (the prompt
lab's templates). Each example is the prompt, tokenized exactly as generation tokenizes it, then
the completion (the reference summary and an end-of-text token). The labels copy the
completion's tokens and hold -100 on every prompt token, so the loss, and so the learning, is
only on writing the summary.

Rows are tokenized in batches (one call of the fast tokenizer per batch, for the prompts and one for
the completions); between batches the work reports its counts and can be stopped.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace

from playground.core.evaluation.datasets import Example as Row
from playground.core.decoding.generation import prompt_token_ids
from playground.core.prompting.prompts import assemble, completion_text
from playground.core.prompting.special_tokens import MARK_END, MARK_START

IGNORE = -100  # the label value cross-entropy skips
SPLITS = ("train", "validation", "test")
BATCH = 1024  # rows per tokenizer call: between two batches the work reports and may be stopped


@dataclass
class TrainingExample:
    """One tokenized example.

    For a decoder-only model ``input_ids`` is prompt + completion and ``labels`` masks the prompt;
    for an encoder-decoder model ``input_ids`` is the prompt (encoder) and ``labels`` the completion.
    ``row`` is the dataset row, its ``input`` the dialogue as it went into the prompt (cut when
    the example was truncated).
    """

    input_ids: list[int]
    labels: list[int]
    prompt_len: int
    row: Row

    @property
    def line(self) -> int:
        return self.row.line

    @property
    def prompt_ids(self) -> list[int]:
        return self.input_ids[: self.prompt_len]

    @property
    def num_tokens(self) -> int:
        """Real tokens the model processes (decoder-only: prompt_len < len(input_ids) always)."""
        if self.prompt_len < len(self.input_ids):
            return len(self.input_ids)
        return len(self.input_ids) + len(self.labels)


@dataclass
class SplitStats:
    """What happened to one split's rows and how long its examples are (in tokens)."""

    source: str
    rows: int = 0
    examples: int = 0
    skipped_empty: int = 0
    empty_lines: list = field(default_factory=list)
    truncated: int = 0
    dropped_too_long: int = 0
    dropped_lines: list = field(default_factory=list)
    prompt_tokens: dict = field(default_factory=dict)
    completion_tokens: dict = field(default_factory=dict)
    total_tokens: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def length_summary(values: list[int]) -> dict:
    """min / mean / median / 95th percentile / max / sum of token counts."""
    if not values:
        return {"min": 0, "mean": 0.0, "median": 0.0, "p95": 0, "max": 0, "sum": 0}
    ordered = sorted(values)
    return {"min": ordered[0], "mean": round(statistics.fmean(ordered), 1),
            "median": float(statistics.median(ordered)),
            "p95": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], "max": ordered[-1],
            "sum": sum(ordered)}


class ExampleEncoder:
    """Tokenizes (dialogue, summary) pairs with one template, truncating by one policy.

    The prompt is ``prompts.assemble``'s zero-shot prompt tokenized as ``generation`` does, so
    the model is trained on exactly the tokens it later sees when asked for a summary. A prompt
    that is too long is rebuilt around a shorter dialogue, so the instruction and the cue
    ("Summary:") always survive the cut.
    """

    def __init__(self, tokenizer, template: str, max_length: int, truncation: str,
                 encoder_decoder: bool = False, use_chat_template: bool = False) -> None:
        self.tok = tokenizer
        self.template = template
        self.max_length = max_length
        self.truncation = truncation
        self.encoder_decoder = encoder_decoder
        self.chat = bool(use_chat_template and not encoder_decoder and getattr(tokenizer, "chat_template", None))
        eos = tokenizer.eos_token_id
        self._eos = [eos] if eos is not None else []

    def prompt_text(self, dialogue: str) -> str:
        return assemble(dialogue, (), self.template, tokenizer=self.tok, use_chat_template=self.chat).text

    def prompt_ids(self, dialogue: str) -> list[int]:
        return prompt_token_ids(self.tok, self.prompt_text(dialogue))

    def _completion(self, summary: str) -> tuple[str, bool]:
        """The completion's text and whether the tokenizer adds its special tokens to it."""
        if self.encoder_decoder:  # the decoder's target: the summary with the tokenizer's end token
            return completion_text(summary, self.template).strip(), True
        return completion_text(summary, self.template, chat=self.chat), False

    def completion_ids(self, summary: str) -> list[int]:
        text, special = self._completion(summary)
        return self.tok(text, add_special_tokens=special)["input_ids"] + ([] if self.encoder_decoder else self._eos)

    def _backend(self):
        """The fast tokenizer's Rust tokenizer (None for a slow tokenizer)."""
        return getattr(self.tok, "backend_tokenizer", None) if getattr(self.tok, "is_fast", False) else None

    def _ids_batch(self, texts: list[str], add_special_tokens: bool) -> list[list[int]]:
        """Token ids of many texts in one call: the same ids as one ``tokenizer(text)`` call each."""
        if not texts:
            return []
        backend = self._backend()
        if backend is not None:  # the Rust tokenizer itself: no per-text Python work, offsets skipped
            encode = getattr(backend, "encode_batch_fast", None) or backend.encode_batch
            return [e.ids for e in encode(texts, add_special_tokens=add_special_tokens)]
        return [list(ids) for ids in self.tok(texts, add_special_tokens=add_special_tokens)["input_ids"]]

    def prompt_ids_batch(self, dialogues: Sequence[str]) -> list[list[int]]:
        """``prompt_ids`` of many dialogues, tokenized in batches."""
        texts = [self.prompt_text(d) for d in dialogues]
        out: list[list[int] | None] = [None] * len(texts)
        bos = self.tok.bos_token
        by_special: dict[bool, list[int]] = {True: [], False: []}
        for i, text in enumerate(texts):
            if MARK_START in text or MARK_END in text:  # escaped special tokens: the careful path
                out[i] = prompt_token_ids(self.tok, text)
            else:  # as prompt_token_ids: special tokens unless a chat template wrote the BOS
                by_special[not (bool(bos) and text.startswith(bos))].append(i)
        for special, idx in by_special.items():
            for i, ids in zip(idx, self._ids_batch([texts[i] for i in idx], special)):
                out[i] = ids
        return out

    def completion_ids_batch(self, summaries: Sequence[str]) -> list[list[int]]:
        """``completion_ids`` of many summaries, tokenized in one call."""
        parts = [self._completion(s) for s in summaries]
        if not parts:
            return []
        ids = self._ids_batch([t for t, _ in parts], parts[0][1])
        return ids if self.encoder_decoder else [x + self._eos for x in ids]

    def _cut(self, dialogue: str, keep: int) -> str:
        """The dialogue's first ``keep`` tokens, as text (cut at a character boundary)."""
        try:
            enc = self.tok(dialogue, add_special_tokens=False, return_offsets_mapping=True)
            return dialogue[: enc["offset_mapping"][keep - 1][1]]
        except (NotImplementedError, KeyError, IndexError, TypeError):  # a slow tokenizer has no offsets
            ids = self.tok(dialogue, add_special_tokens=False)["input_ids"]
            return self.tok.decode(ids[:keep], skip_special_tokens=True)

    def encode(self, row: Row) -> tuple[TrainingExample | None, str]:
        """An example, and what happened: 'ok', 'truncated' or 'dropped' (too long for the policy)."""
        dialogue = row.input.strip()
        comp = self.completion_ids(row.reference)
        budget = self.max_length if self.encoder_decoder else self.max_length - len(comp)
        if len(comp) > self.max_length or budget < 1:
            return None, "dropped"
        prompt = self.prompt_ids(dialogue)
        status = "ok"
        if len(prompt) > budget:
            if self.truncation == "drop":
                return None, "dropped"
            total = len(self.tok(dialogue, add_special_tokens=False)["input_ids"])
            keep = total - (len(prompt) - budget)
            # Tokens at the cut can merge differently once the text around them changes: re-check.
            while keep > 0:
                dialogue = self._cut(row.input.strip(), keep).rstrip()
                prompt = self.prompt_ids(dialogue) if dialogue else prompt
                if dialogue and len(prompt) <= budget:
                    break
                keep -= max(1, len(prompt) - budget)
            if keep <= 0:
                return None, "dropped"  # the template alone does not fit
            status = "truncated"
        used = replace(row, input=dialogue) if status == "truncated" else row
        return self._example(prompt, comp, used), status

    def _example(self, prompt: list[int], comp: list[int], row: Row) -> TrainingExample:
        if self.encoder_decoder:
            return TrainingExample(prompt, comp, len(prompt), row)
        return TrainingExample(prompt + comp, [IGNORE] * len(prompt) + comp, len(prompt), row)

    def encode_batch(self, rows: Sequence[Row]) -> list[tuple[TrainingExample | None, str]]:
        """``encode`` of each row, the same examples, with one tokenizer call for all prompts and one
        for all completions; only a prompt that must be cut goes through ``encode`` row by row."""
        comps = self.completion_ids_batch([row.reference for row in rows])
        prompts = self.prompt_ids_batch([row.input.strip() for row in rows])
        out: list = []
        to_cut = []
        for i, (row, prompt, comp) in enumerate(zip(rows, prompts, comps)):
            budget = self.max_length if self.encoder_decoder else self.max_length - len(comp)
            if len(comp) > self.max_length or budget < 1:
                out.append((None, "dropped"))
            elif len(prompt) > budget:
                out.append((None, "dropped") if self.truncation == "drop" else None)
                to_cut.append(_Cut(i, row, prompt, comp, budget))
            else:
                out.append((self._example(prompt, comp, row), "ok"))
        if self.truncation != "drop":
            self._cut_batch(to_cut, out)
        return out

    def _cut_batch(self, cuts: list[_Cut], out: list) -> None:
        """``encode``'s truncation for many rows at once: the same cut, one tokenizer call per round."""
        backend = self._backend()
        if backend is None:  # no offsets to cut at in one call: row by row
            for c in cuts:
                out[c.index] = self.encode(c.row)
            return
        texts = [c.row.input.strip() for c in cuts]
        for c, text, enc in zip(cuts, texts, backend.encode_batch(texts, add_special_tokens=False)):
            c.text, c.offsets = text, enc.offsets
            c.keep = len(enc.ids) - (len(c.prompt) - c.budget)
        active = cuts
        while active:  # a round per retry: tokens at the cut can merge differently once the text changes
            still = []
            dialogues = [c.text[: c.offsets[c.keep - 1][1]].rstrip() if c.keep > 0 else "" for c in active]
            shortened = [k for k, d in enumerate(dialogues) if d]
            for k, ids in zip(shortened, self.prompt_ids_batch([dialogues[k] for k in shortened])):
                active[k].prompt = ids
            for c, dialogue in zip(active, dialogues):
                if c.keep <= 0:
                    out[c.index] = (None, "dropped")  # the template alone does not fit
                elif dialogue and len(c.prompt) <= c.budget:
                    out[c.index] = (self._example(c.prompt, c.comp, replace(c.row, input=dialogue)), "truncated")
                else:
                    c.keep -= max(1, len(c.prompt) - c.budget)
                    still.append(c)
            active = still

    def add_batch(self, rows: Sequence[Row], stats: SplitStats, out: list[TrainingExample]) -> None:
        """Encode ``rows`` into ``out`` and count what happened to them in ``stats``."""
        for row, (ex, status) in zip(rows, self.encode_batch(rows)):
            if ex is None:
                stats.dropped_too_long += 1
                stats.dropped_lines.append(row.line)
                continue
            stats.truncated += status == "truncated"
            out.append(ex)

    def encode_rows(self, rows: list[Row], stats: SplitStats) -> list[TrainingExample]:
        out: list[TrainingExample] = []
        for start in range(0, len(rows), BATCH):
            self.add_batch(rows[start:start + BATCH], stats, out)
        return self.finish(out, stats)

    def finish(self, out: list[TrainingExample], stats: SplitStats) -> list[TrainingExample]:
        """Fill the split's length summaries once every row is encoded; returns ``out``."""
        stats.examples = len(out)
        completion = [len(e.labels) if self.encoder_decoder else len(e.input_ids) - e.prompt_len for e in out]
        stats.prompt_tokens = length_summary([e.prompt_len for e in out])
        stats.completion_tokens = length_summary(completion)
        stats.total_tokens = length_summary([e.prompt_len + c for e, c in zip(out, completion)])
        return out


@dataclass
class _Cut:
    """A row whose prompt is too long, while ``ExampleEncoder._cut_batch`` looks for its cut."""

    index: int
    row: Row
    prompt: list[int]
    comp: list[int]
    budget: int
    text: str = ""
    offsets: list = field(default_factory=list)
    keep: int = 0

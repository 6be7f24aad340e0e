"""Turning dialogues into training examples: template, tokens, truncation, completion-only labels.

Rows come from :mod:`playground.core.evaluation.datasets` (the bundled dialogues, or a user's CSV / JSONL /
Parquet file with a column mapping); prompts from :mod:`playground.core.prompting.prompts` (the prompt
lab's templates). Each example is the prompt, tokenized exactly as generation tokenizes it, then
the completion (the reference summary and an end-of-text token). The labels copy the
completion's tokens and hold -100 on every prompt token, so the loss, and so the learning, is
only on writing the summary.
"""

from __future__ import annotations

import random
import statistics
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from playground.core.evaluation.datasets import Example as Row
from playground.core.evaluation.datasets import load_split, load_table
from playground.core.base.errors import InputError
from playground.core.finetune.config import DataConfig
from playground.core.decoding.generation import prompt_token_ids
from playground.core.prompting.prompts import assemble, completion_text

IGNORE = -100  # the label value cross-entropy skips
SPLITS = ("train", "validation", "test")


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

    def prompt_ids(self, dialogue: str) -> list[int]:
        text = assemble(dialogue, (), self.template, tokenizer=self.tok, use_chat_template=self.chat).text
        return prompt_token_ids(self.tok, text)

    def completion_ids(self, summary: str) -> list[int]:
        if self.encoder_decoder:  # the decoder's target: the summary with the tokenizer's end token
            return self.tok(completion_text(summary, self.template).strip(), add_special_tokens=True)["input_ids"]
        text = completion_text(summary, self.template, chat=self.chat)
        return self.tok(text, add_special_tokens=False)["input_ids"] + self._eos

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
        if self.encoder_decoder:
            return TrainingExample(prompt, comp, len(prompt), used), status
        return TrainingExample(prompt + comp, [IGNORE] * len(prompt) + comp, len(prompt), used), status

    def encode_rows(self, rows: list[Row], stats: SplitStats) -> list[TrainingExample]:
        out = []
        for row in rows:
            ex, status = self.encode(row)
            if ex is None:
                stats.dropped_too_long += 1
                stats.dropped_lines.append(row.line)
                continue
            stats.truncated += status == "truncated"
            out.append(ex)
        stats.examples = len(out)
        completion = [len(e.labels) if self.encoder_decoder else len(e.input_ids) - e.prompt_len for e in out]
        stats.prompt_tokens = length_summary([e.prompt_len for e in out])
        stats.completion_tokens = length_summary(completion)
        stats.total_tokens = length_summary([e.prompt_len + c for e, c in zip(out, completion)])
        return out


@dataclass
class PreparedData:
    train: list[TrainingExample]
    validation: list[TrainingExample]
    test: list[TrainingExample]
    stats: dict[str, SplitStats]

    def test_rows(self, n: int | None = None) -> list[Row]:
        """Test rows for generation and ROUGE, their dialogues cut as the training policy cuts them."""
        return [e.row for e in (self.test if not n else self.test[:n])]


def _load_file(path: str, cfg: DataConfig):
    cols = cfg.columns
    return load_table(path, cols.get("dialogue") or None, cols.get("summary") or None, skip_empty=True)


def load_split_rows(cfg: DataConfig, seed: int) -> dict[str, tuple[list[Row], list[int], str]]:
    """Rows of each split: (rows, lines of the empty rows skipped, where they came from).

    The bundled dialogues come with their three splits. A user's file is split at random (with
    ``seed``) into test, validation and train parts, unless separate validation or test files
    are given.
    """
    if cfg.source == "bundled":
        return {split: (load_split(split).examples, [], f"bundled dialogues ({split})") for split in SPLITS}
    main = _load_file(cfg.source, cfg)
    rows = main.examples
    extra = {"validation": cfg.validation, "test": cfg.test}
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    take = {s: (0 if extra[s] else int(round(len(rows) * f)))
            for s, f in (("test", cfg.test_fraction), ("validation", cfg.validation_fraction))}
    out, pos = {}, 0
    for split in ("test", "validation"):
        if extra[split]:
            other = _load_file(extra[split], cfg)
            out[split] = (other.examples, other.skipped, Path(extra[split]).name)
        else:
            idx = sorted(order[pos: pos + take[split]])
            out[split] = ([rows[i] for i in idx], [], f"{Path(cfg.source).name} ({split} part)")
            pos += take[split]
    out["train"] = ([rows[i] for i in sorted(order[pos:])], main.skipped, Path(cfg.source).name)
    return out


def prepare_data(cfg: DataConfig, tokenizer, encoder_decoder: bool, seed: int = 0,
                 test_limit: int | None = None) -> PreparedData:
    """Read, split, tokenize and count the data of a job.

    Parameters
    ----------
    cfg
        The job's data settings (source, columns, template, max_length, truncation...).
    tokenizer
        The model's tokenizer.
    encoder_decoder
        True for T5/BART-like models (the prompt goes to the encoder, the summary to the decoder).
    seed
        Splits a single file reproducibly.
    test_limit
        Tokenize only the first N test rows (0 or None: all).

    Raises
    ------
    InputError
        Bad files (see ``datasets.load_table``), or no usable training example left.
    """
    splits = load_split_rows(cfg, seed)
    enc = ExampleEncoder(tokenizer, cfg.template, cfg.max_length, cfg.truncation, encoder_decoder,
                         cfg.use_chat_template)
    limits = {"train": cfg.max_train_examples, "validation": cfg.max_validation_examples, "test": test_limit or 0}
    examples, stats = {}, {}
    for split in SPLITS:
        rows, empty, source = splits[split]
        if limits[split]:
            rows = rows[: limits[split]]
        st = SplitStats(source=source, rows=len(rows) + len(empty), skipped_empty=len(empty), empty_lines=list(empty))
        examples[split] = enc.encode_rows(rows, st)
        stats[split] = st
    if not examples["train"]:
        st = stats["train"]
        raise InputError(
            f"No usable training examples in {st.source} ({st.skipped_empty} empty rows skipped, "
            f"{st.dropped_too_long} longer than {cfg.max_length} tokens dropped).",
            "Check the column mapping, raise data.max_length, or use truncation = \"truncate_dialogue\".")
    return PreparedData(examples["train"], examples["validation"], examples["test"], stats)

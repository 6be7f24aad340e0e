"""Turning dialogues into training examples: template, tokens, truncation, completion-only labels.

Each example is the prompt (the template around the dialogue) followed by the completion (the
reference summary and an end-of-text token). The labels copy the completion's tokens and hold
-100 on every prompt token, so the loss, and so the learning, is only on writing the summary.
"""

from __future__ import annotations

import random
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path

from playground.core.errors import InputError
from playground.core.finetune.config import DataConfig
from playground.core.finetune.records import Record, read_records
from playground.core.templates import render_example, split_template

IGNORE = -100  # the label value cross-entropy skips
SPLITS = ("train", "validation", "test")


def bundled_dialogues_dir() -> Path:
    """The folder with the bundled dialogues ({train,validation,test}.jsonl)."""
    try:
        from playground.core.datasets import dialogues_dir  # the datasets feature knows frozen apps too
    except ImportError:
        return Path(__file__).resolve().parents[3] / "resources" / "datasets" / "dialogues"
    return Path(dialogues_dir())


@dataclass
class Example:
    """One tokenized example.

    For a decoder-only model ``input_ids`` is prompt + completion and ``labels`` masks the prompt;
    for an encoder-decoder model ``input_ids`` is the prompt (encoder) and ``labels`` the completion.
    """

    input_ids: list[int]
    labels: list[int]
    prompt_len: int
    line: int
    summary: str = ""

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
    truncated: int = 0
    dropped_too_long: int = 0
    dropped_lines: list = field(default_factory=list)
    prompt_tokens: dict = field(default_factory=dict)
    completion_tokens: dict = field(default_factory=dict)
    total_tokens: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def length_summary(values: list[int]) -> dict:
    """min / mean / median / 95th percentile / max of token counts."""
    if not values:
        return {"min": 0, "mean": 0.0, "median": 0.0, "p95": 0, "max": 0, "sum": 0}
    ordered = sorted(values)
    return {"min": ordered[0], "mean": round(statistics.fmean(ordered), 1),
            "median": float(statistics.median(ordered)),
            "p95": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], "max": ordered[-1],
            "sum": sum(ordered)}


class ExampleEncoder:
    """Tokenizes (dialogue, summary) pairs with one template, truncating by one policy.

    The template's pieces are tokenized once; the dialogue is tokenized on its own and cut when
    the example is too long, so the instruction and the 'Summary:' cue always survive.
    """

    def __init__(self, tokenizer, template: str, max_length: int, truncation: str,
                 encoder_decoder: bool = False) -> None:
        self.tok = tokenizer
        self.template = template
        self.max_length = max_length
        self.truncation = truncation
        self.encoder_decoder = encoder_decoder
        parts = split_template(template)
        self._before = self._ids(parts.before)
        self._after = self._ids(parts.after.rstrip(" "))
        probe = tokenizer("a", add_special_tokens=True)["input_ids"]
        plain = tokenizer("a", add_special_tokens=False)["input_ids"]
        n = len(plain)
        # The specials this tokenizer adds around text (BOS for Llama-likes, EOS for T5).
        self._lead = probe[: probe.index(plain[0])] if plain and plain[0] in probe else []
        self._trail = probe[len(self._lead) + n:] if plain else []
        eos = tokenizer.eos_token_id
        self._eos = [eos] if eos is not None else []

    def _ids(self, text: str) -> list[int]:
        return self.tok(text, add_special_tokens=False)["input_ids"] if text else []

    def prompt_ids(self, dialogue: str, budget: int | None = None) -> tuple[list[int], bool]:
        """The prompt's token ids (dialogue cut to fit ``budget`` tokens) and whether it was cut."""
        d = self._ids(dialogue)
        fixed = len(self._lead) + len(self._before) + len(self._after) + (len(self._trail) if self.encoder_decoder else 0)
        cut = False
        if budget is not None and fixed + len(d) > budget:
            d, cut = d[: max(0, budget - fixed)], True
        ids = self._lead + self._before + d + self._after
        if self.encoder_decoder:
            ids = ids + self._trail
        return ids, cut

    def encode(self, dialogue: str, summary: str, line: int = 0) -> tuple[Example | None, str]:
        """An example, and what happened: 'ok', 'truncated' or 'dropped' (too long for the policy)."""
        _, completion = render_example(self.template, dialogue, summary)
        comp = self._ids(completion) + self._eos
        limit = self.max_length
        if self.encoder_decoder:
            prompt, cut = self.prompt_ids(dialogue, None)
            if len(comp) > limit:
                return None, "dropped"
            if len(prompt) > limit:
                if self.truncation == "drop":
                    return None, "dropped"
                prompt, cut = self.prompt_ids(dialogue, limit)
            return Example(prompt, comp, len(prompt), line, summary), ("truncated" if cut else "ok")
        prompt, _ = self.prompt_ids(dialogue, None)
        status = "ok"
        if len(prompt) + len(comp) > limit:
            budget = limit - len(comp)
            fixed = len(self._lead) + len(self._before) + len(self._after)
            if self.truncation == "drop" or budget - fixed < 1:
                return None, "dropped"
            prompt, _ = self.prompt_ids(dialogue, budget)
            status = "truncated"
        return Example(prompt + comp, [IGNORE] * len(prompt) + comp, len(prompt), line, summary), status

    def encode_records(self, records: list[Record], stats: SplitStats) -> list[Example]:
        out = []
        for rec in records:
            ex, status = self.encode(rec.fields["dialogue"], rec.fields["summary"], rec.line)
            if ex is None:
                stats.dropped_too_long += 1
                stats.dropped_lines.append(rec.line)
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
    train: list[Example]
    validation: list[Example]
    test: list[Example]
    stats: dict[str, SplitStats]


def load_split_records(cfg: DataConfig, seed: int) -> dict[str, tuple[list[Record], int, str]]:
    """Rows of each split: (records, empty rows skipped, source description)."""
    cols = dict(cfg.columns)
    if cfg.source == "bundled":
        folder = bundled_dialogues_dir()
        out = {}
        for split in SPLITS:
            path = folder / f"{split}.jsonl"
            if not path.exists():
                raise InputError(f"The bundled dialogues are missing ({path}).",
                                 "Reinstall the app, or point data.source at your own file.")
            res = read_records(path, {"dialogue": "dialogue", "summary": "summary"}, "jsonl")
            out[split] = (res.records, res.skipped_empty, f"bundled/{split}.jsonl")
        return out
    main = read_records(cfg.source, cols, cfg.format)
    records = list(main.records)
    out = {}
    extra = {"validation": cfg.validation, "test": cfg.test}
    # Split off what no separate file provides, in a fixed order so the same seed gives the same split.
    order = list(range(len(records)))
    random.Random(seed).shuffle(order)
    n = len(records)
    take = {s: (0 if extra[s] else int(round(n * f))) for s, f in
            (("test", cfg.test_fraction), ("validation", cfg.validation_fraction))}
    pos = 0
    for split in ("test", "validation"):
        if extra[split]:
            res = read_records(extra[split], cols, "auto" if cfg.format == "auto" else cfg.format)
            out[split] = (res.records, res.skipped_empty, Path(extra[split]).name)
        else:
            idx = sorted(order[pos: pos + take[split]])
            out[split] = ([records[i] for i in idx], 0, f"{Path(cfg.source).name} ({split} part)")
            pos += take[split]
    train_idx = sorted(order[pos:])
    out["train"] = ([records[i] for i in train_idx], main.skipped_empty, Path(cfg.source).name)
    return out


def prepare_data(cfg: DataConfig, tokenizer, encoder_decoder: bool, seed: int = 0,
                 test_limit: int | None = None) -> PreparedData:
    """Read, split, tokenize and count the data of a job.

    Raises
    ------
    InputError
        Bad files (see ``read_records``), or no usable training example left.
    """
    splits = load_split_records(cfg, seed)
    enc = ExampleEncoder(tokenizer, cfg.template, cfg.max_length, cfg.truncation, encoder_decoder)
    limits = {"train": cfg.max_train_examples, "validation": cfg.max_validation_examples, "test": test_limit or 0}
    examples, stats = {}, {}
    for split in SPLITS:
        records, empty, source = splits[split]
        if limits[split]:
            records = records[: limits[split]]
        st = SplitStats(source=source, rows=len(records) + empty, skipped_empty=empty)
        examples[split] = enc.encode_records(records, st)
        stats[split] = st
    if not examples["train"]:
        st = stats["train"]
        raise InputError(
            f"No usable training examples in {st.source} ({st.skipped_empty} empty rows skipped, "
            f"{st.dropped_too_long} longer than {cfg.max_length} tokens dropped).",
            "Check the column mapping, raise data.max_length, or use truncation = \"truncate_dialogue\".")
    return PreparedData(examples["train"], examples["validation"], examples["test"], stats)

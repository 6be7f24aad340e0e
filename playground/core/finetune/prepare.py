"""Reading a job's data: its splits (bundled, or a file of one's own split at random) and the whole
read-split-tokenize-count step with progress and Stop, on top of ``dataset.ExampleEncoder``."""

from __future__ import annotations

import random
import time
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

from playground.core.base.errors import InputError
from playground.core.base.handle import TaskHandle, ensure_handle
from playground.core.base.progress import report_step
from playground.core.evaluation.datasets import Example as Row
from playground.core.evaluation.datasets import load_split, load_table
from playground.core.finetune.config import DataConfig
from playground.core.finetune.dataset import BATCH, SPLITS, ExampleEncoder, SplitStats, TrainingExample
from playground.core.finetune.events import StageEvent

#: the phase name of reading and tokenizing a job's data (its progress strip counts rows)
TOKENIZING = "Tokenizing the data"


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
                 test_limit: int | None = None, handle: TaskHandle | None = None) -> PreparedData:
    """Read, split, tokenize and count the data of a job (``prepare_data_events`` without the events)."""
    events = prepare_data_events(cfg, tokenizer, encoder_decoder, seed, test_limit, handle)
    while True:
        try:
            next(events)
        except StopIteration as done:
            return done.value


def prepare_data_events(cfg: DataConfig, tokenizer, encoder_decoder: bool, seed: int = 0,
                        test_limit: int | None = None, handle: TaskHandle | None = None,
                        every: float = 0.05) -> Generator[StageEvent, None, PreparedData]:
    """Read, split, tokenize and count the data of a job, yielding progress with counts.

    Use as ``data = yield from prepare_data_events(...)``: it yields ``StageEvent("data", ...)``
    once the rows are read and then each time another ``every`` of them is tokenized (with the
    counts), and returns the PreparedData. A Stop (``handle.cancel()``) takes effect between
    two batches of rows.

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
    handle
        Stop between batches.
    every
        The share of the rows between two progress events.

    Raises
    ------
    InputError
        Bad files (see ``datasets.load_table``), or no usable training example left.
    Cancelled
        Stopped.
    """
    handle = ensure_handle(handle)
    splits = load_split_rows(cfg, seed)
    handle.raise_if_cancelled()
    enc = ExampleEncoder(tokenizer, cfg.template, cfg.max_length, cfg.truncation, encoder_decoder,
                         cfg.use_chat_template)
    limits = {"train": cfg.max_train_examples, "validation": cfg.max_validation_examples, "test": test_limit or 0}
    chosen = {split: splits[split][0][: limits[split]] if limits[split] else splits[split][0] for split in SPLITS}
    total = sum(len(rows) for rows in chosen.values())
    yield StageEvent("data", f"Read {total:,} rows; tokenizing them...", 0.0)
    report_step(handle, TOKENIZING, 0, total)
    examples, stats = {}, {}
    done, said, start = 0, 0, time.perf_counter()
    for split in SPLITS:
        rows = chosen[split]
        _, empty, source = splits[split]
        st = SplitStats(source=source, rows=len(rows) + len(empty), skipped_empty=len(empty), empty_lines=list(empty))
        out: list[TrainingExample] = []
        for first in range(0, len(rows), BATCH):
            handle.raise_if_cancelled()
            batch = rows[first:first + BATCH]
            enc.add_batch(batch, st, out)
            done += len(batch)
            if done - said >= every * total and done < total:
                said = done
                report_step(handle, TOKENIZING, done, total)
                yield StageEvent("data", f"Tokenized {done:,} of {total:,} rows...", done / total)
        examples[split] = enc.finish(out, st)
        stats[split] = st
    handle.raise_if_cancelled()
    yield StageEvent("data", f"Tokenized {total:,} rows in {time.perf_counter() - start:.0f} s", 1.0)
    if not examples["train"]:
        st = stats["train"]
        raise InputError(
            f"No usable training examples in {st.source} ({st.skipped_empty} empty rows skipped, "
            f"{st.dropped_too_long} longer than {cfg.max_length} tokens dropped).",
            "Check the column mapping, raise data.max_length, or use truncation = \"truncate_dialogue\".")
    return PreparedData(examples["train"], examples["validation"], examples["test"], stats)

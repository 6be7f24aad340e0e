"""A look at a job's data before training: split sizes, rendered examples, token lengths.

The wizard's Data step shows this. Lengths are measured without any cut, so the token-length
histogram can mark the chosen maximum and count what it would truncate or drop.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.core.finetune.config import DataConfig
from playground.core.finetune.dataset import BATCH, SPLITS, ExampleEncoder
from playground.core.finetune.prepare import load_split_rows
from playground.core.base.handle import TaskHandle, ensure_handle


@dataclass
class SplitPreview:
    """One split: where it comes from, the empty rows skipped, and each example's token counts."""

    source: str
    empty_lines: list[int] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)        # the file line of each example
    prompt_tokens: list[int] = field(default_factory=list)
    completion_tokens: list[int] = field(default_factory=list)

    @property
    def lengths(self) -> list[int]:
        """Tokens per example, prompt + completion, before any cut."""
        return [p + c for p, c in zip(self.prompt_tokens, self.completion_tokens)]

    def over(self, max_length: int) -> list[int]:
        """Lines of the examples longer than ``max_length`` tokens."""
        return [line for line, n in zip(self.lines, self.lengths) if n > max_length]

    def outcome(self, max_length: int, truncation: str, encoder_decoder: bool = False) -> dict[str, list[int]]:
        """Lines that would be truncated and dropped with this maximum and policy."""
        cut, dropped = [], []
        for line, p, c in zip(self.lines, self.prompt_tokens, self.completion_tokens):
            too_long = (p > max_length or c > max_length) if encoder_decoder else p + c > max_length
            if not too_long:
                continue
            summary_fits = c <= max_length if encoder_decoder else c < max_length
            (cut if truncation == "truncate_dialogue" and summary_fits else dropped).append(line)
        return {"truncated": cut, "dropped": dropped}


@dataclass
class DataPreview:
    splits: dict[str, SplitPreview]
    samples: list[dict]          # [{"line", "prompt", "completion", "prompt_tokens", "completion_tokens"}]
    encoder_decoder: bool = False

    def sizes(self, max_length: int, truncation: str) -> dict[str, int]:
        """Examples each split would keep (rows minus those dropped as too long)."""
        return {name: len(sp.lines) - len(sp.outcome(max_length, truncation, self.encoder_decoder)["dropped"])
                for name, sp in self.splits.items()}


def preview_data(cfg: DataConfig, tokenizer, encoder_decoder: bool = False, seed: int = 0, samples: int = 3,
                 handle: TaskHandle | None = None) -> DataPreview:
    """Read and split the data as a job would, render a few examples and count every example's tokens.

    Parameters
    ----------
    cfg
        The job's data settings; ``max_train_examples`` / ``max_validation_examples`` apply.
    tokenizer
        The model's tokenizer (prompts are tokenized exactly as training tokenizes them).
    encoder_decoder
        T5/BART-like models: the prompt goes to the encoder, the summary to the decoder.
    seed
        The job's seed (it decides how a single file is split).
    samples
        How many training examples to render.
    handle
        Progress with counts after each batch of rows; Stop between batches.

    Raises
    ------
    InputError
        A file that cannot be read, a missing column (see ``datasets.load_table``), a bad template.
    """
    handle = ensure_handle(handle)
    rows_by_split = load_split_rows(cfg, seed)
    handle.raise_if_cancelled()
    enc = ExampleEncoder(tokenizer, cfg.template, cfg.max_length, cfg.truncation, encoder_decoder,
                         cfg.use_chat_template)
    limits = {"train": cfg.max_train_examples, "validation": cfg.max_validation_examples, "test": 0}
    chosen = {s: rows_by_split[s][0][: limits[s]] if limits[s] else rows_by_split[s][0] for s in SPLITS}
    total = sum(len(rows) for rows in chosen.values())
    handle.report(0.0, f"Read {total:,} rows; tokenizing them…")
    splits: dict[str, SplitPreview] = {}
    shown: list[dict] = []
    done = 0
    for split in SPLITS:
        rows = chosen[split]
        _, empty, source = rows_by_split[split]
        sp = SplitPreview(source, list(empty))
        for first in range(0, len(rows), BATCH):  # one tokenizer call per batch; Stop between batches
            handle.raise_if_cancelled()
            batch = rows[first:first + BATCH]
            prompts = enc.prompt_ids_batch([row.input.strip() for row in batch])
            comps = enc.completion_ids_batch([row.reference for row in batch])
            for row, prompt_ids, comp_ids in zip(batch, prompts, comps):
                sp.lines.append(row.line)
                sp.prompt_tokens.append(len(prompt_ids))
                sp.completion_tokens.append(len(comp_ids))
                if split == "train" and len(shown) < samples:
                    shown.append({"line": row.line, "prompt": _prompt_text(enc, row.input.strip()),
                                  "completion": _completion_text(enc, row.reference),
                                  "prompt_tokens": len(prompt_ids), "completion_tokens": len(comp_ids)})
            done += len(batch)
            handle.report(done / max(total, 1), f"Tokenized {done:,} of {total:,} rows…")
        splits[split] = sp
    return DataPreview(splits, shown, encoder_decoder)


def _prompt_text(enc: ExampleEncoder, dialogue: str) -> str:
    from playground.core.prompting.prompts import assemble

    return assemble(dialogue, (), enc.template, tokenizer=enc.tok, use_chat_template=enc.chat).text


def _completion_text(enc: ExampleEncoder, summary: str) -> str:
    from playground.core.prompting.prompts import completion_text

    return completion_text(summary, enc.template, chat=enc.chat)


def read_and_preview(cfg, tokenizer, encoder_decoder: bool, user_file: bool, handle: TaskHandle | None = None):
    """What the wizard's Data step shows for a job: (columns of the user's file, the column mapping
    with unset or unknown columns guessed from their names, the DataPreview or None, and
    (message, hint) when the data cannot be used, else None)."""
    from playground.core.evaluation.datasets import guess_columns, read_rows
    from playground.core.base.errors import InputError

    columns = []
    cols = cfg.data.columns
    handle = ensure_handle(handle)
    handle.report(None, "Reading the data…")
    if user_file:
        columns, _, _ = read_rows(cfg.data.source)
        guess = guess_columns(columns)
        for key, guessed in zip(("dialogue", "summary"), guess):
            if cols.get(key) not in columns and guessed:
                cols[key] = guessed
    try:
        return columns, cols, preview_data(cfg.data, tokenizer, encoder_decoder, cfg.training.seed,
                                           handle=handle), None
    except InputError as exc:
        return columns, cols, None, (exc.message, exc.hint)

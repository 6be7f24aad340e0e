"""What a student is worth beside its teacher: size, decode speed, held-out perplexity and ROUGE-L
on the test dialogues, each row naming the settings that made it."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Iterator

from playground.core.base.units import format_bytes, format_score
from playground.core.distill.student import parameter_count
from playground.core.finetune.events import RougeEvent

#: How each model of a run is named in tables, charts and reports.
LABELS = {"teacher": "Teacher", "soft": "Student, soft targets", "hard": "Student, hard labels only"}
DECODE_TOKENS = 24


@dataclass
class ModelRow:
    """One model of a run, measured."""

    kind: str                 # teacher, soft, hard
    settings: str             # what made it: layers, T, alpha, steps
    parameters: int
    weight_bytes: int
    layers: int
    tokens_per_s: float       # greedy decode speed, with a KV cache, batch 1
    perplexity: float         # exp(mean next-token loss on the test summaries)
    rouge_l: float | None     # mean ROUGE-L F1 of greedy summaries, 0-1 (None: not scored)
    summaries: list | None = None

    @property
    def label(self) -> str:
        return LABELS.get(self.kind, self.kind)

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_dict(d: dict) -> "ModelRow":
        return ModelRow(**d)

    def cells(self) -> list[str]:
        """The row as the table shows it."""
        rouge = format_score(self.rouge_l, "rougeL") if self.rouge_l is not None else "not scored"
        return [self.label, f"{self.parameters / 1e6:.1f} M", format_bytes(self.weight_bytes), str(self.layers),
                f"{self.tokens_per_s:.1f}", f"{self.perplexity:.2f}", rouge]


COLUMNS = ["model", "parameters", "weights", "layers", "decode tok/s", "perplexity", "ROUGE-L"]


def held_out_perplexity(model, examples, pad_id: int, device) -> float:
    """exp(mean next-token loss per summary token) on tokenized test examples."""
    from playground.core.finetune.loss import loss_totals

    total, count = loss_totals(model, examples, pad_id, False, 0, device, batch_size=2)
    return math.exp(total / max(1, count)) if count else float("nan")


def decode_speed(model, tokenizer, prompt_ids: list[int], device) -> float:
    """Greedy tokens per second after the prompt (the Precision section's measurement)."""
    import torch

    from playground.core.lifecycle.model_measures import greedy_tokens

    was = model.training
    model.eval()
    try:
        _, rate = greedy_tokens(model, tokenizer, torch.tensor([prompt_ids[-256:]], device=device), DECODE_TOKENS)
    finally:
        model.train(was)
    return rate


def measure_model(kind: str, settings: str, loaded, examples, rows, cfg, pad_id: int, handle) -> Iterator[Any]:
    """Measure one model (a LoadedModel): yields the scoring's StageEvents, returns a ModelRow.

    ``examples`` are tokenized test examples (perplexity, decode prompt), ``rows`` the test rows
    summarized for ROUGE-L (none: not scored), ``cfg`` the job as the fine-tuning scorer reads it.
    """
    from playground.core.base.progress import report_step
    from playground.core.finetune.scoring import score_test_split
    from playground.core.lifecycle.precision import weight_bytes
    from playground.core.distill.student import layer_count

    model = loaded.model
    device = next(model.parameters()).device
    report_step(handle, f"Measuring: {LABELS.get(kind, kind)}", 0, None)
    ppl = held_out_perplexity(model, examples, pad_id, device)
    speed = decode_speed(model, loaded.tokenizer, examples[0].prompt_ids, device) if examples else 0.0
    rouge, summaries = None, None
    if rows:
        for ev in score_test_split(loaded, rows, cfg, kind, handle):
            if isinstance(ev, RougeEvent):
                rouge, summaries = float(ev.scores.get("rougeL", 0.0)), list(ev.predictions)
            else:
                yield ev
    return ModelRow(kind, settings, parameter_count(model), weight_bytes(model), layer_count(model), speed, ppl,
                    rouge, summaries)


def format_rows(rows: list[ModelRow]) -> str:
    """The results as a text table, with each row's settings under it."""
    widths = [26, 11, 11, 7, 13, 11, 8]
    lines = ["".join(c.ljust(w) for c, w in zip(COLUMNS, widths))]
    for r in rows:
        lines.append("".join(c.ljust(w) for c, w in zip(r.cells(), widths)))
    lines.append("")
    lines += [f"{r.label}: {r.settings}" for r in rows]
    return "\n".join(lines)

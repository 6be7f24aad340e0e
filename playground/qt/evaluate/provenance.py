"""Where each evaluated system's outputs came from: the model, adapter or file, prompt and settings."""

from __future__ import annotations

from playground.core.base.provenance import Provenance
from playground.core.evaluation.run import ADAPTER, FILE, K_SHOT


class FileProvenance(Provenance):
    """Outputs read from a file: no model ran, so no adapter and no precision to name."""

    @property
    def model_text(self) -> str:
        return f"{self.model} (read, no model ran)"

    def as_dict(self) -> dict:
        return {**super().as_dict(), "adapter": ""}


def system_provenance(loaded, specs, value, dataset: str, n: int) -> dict:
    """label -> Provenance of each system's outputs: the base model (adapter off) for zero- and
    k-shot, base + run for an adapter, the file for predictions; with the prompt and settings."""
    from playground.core.evaluation.run import run_name

    template = value.template or "summarization prompt"
    chat = "chat form" if value.template and value.use_chat_template else "plain text"
    prompt = f"template {template}, {chat}" if value.template else template
    settings = f"greedy, {value.max_new_tokens} new tokens at most"
    extra = f"{dataset}, {n} examples"
    name = loaded.info.name if loaded is not None else ""
    dtype = loaded.info.dtype if loaded is not None else ""
    out = {}
    for spec in specs:
        label = spec.display()
        shots = f", {spec.shots} shots" if spec.kind == K_SHOT else ", 0 shots"
        if spec.kind == FILE:
            from pathlib import Path

            out[label] = FileProvenance(model=f"predictions file {Path(spec.predictions_path).name}",
                                        prompt=f"column {spec.predictions_column}", extra=extra)
        elif spec.kind == ADAPTER:
            out[label] = Provenance(model=name, adapter=run_name(spec.adapter_dir), precision=dtype,
                                    prompt=prompt + shots, settings=settings, extra=extra)
        else:
            out[label] = Provenance(model=name, precision=dtype, prompt=prompt + shots, settings=settings,
                                    extra=extra)
    return out

"""Where a result came from: the model, the adapter (or "base"), the precision, the prompt, the
settings and the time, said the same way on every result the app shows, exports or prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Provenance:
    model: str
    adapter: str = ""          # the attached adapter's name, "" when the base model produced it
    precision: str = ""        # "float32", "bfloat16", "int8 weights", …
    prompt: str = ""           # the template or prompt form, e.g. "instruction template, chat form"
    settings: str = ""         # e.g. "greedy, 64 new tokens at most"
    when: datetime = field(default_factory=datetime.now)
    extra: str = ""            # anything else the result depends on (k, the test split, …)

    @property
    def model_text(self) -> str:
        return f"{self.model} + adapter {self.adapter}" if self.adapter else f"{self.model} (base, no adapter)"

    def line(self) -> str:
        """One line: 'SmolLM2-135M (base, no adapter) · float32 · instruction template · greedy… · 04:21'."""
        parts = [self.model_text, self.precision, self.prompt, self.settings, self.extra,
                 self.when.strftime("%H:%M:%S")]
        return " · ".join(p for p in parts if p)

    def as_dict(self) -> dict:
        """For reports and notebooks: the same fields, the time as ISO text."""
        return {"model": self.model, "adapter": self.adapter or "base", "precision": self.precision,
                "prompt": self.prompt, "settings": self.settings, "extra": self.extra,
                "time": self.when.isoformat(timespec="seconds")}


def provenance_of(loaded, *, prompt: str = "", settings: str = "", extra: str = "") -> Provenance:
    """The provenance of a result made with ``loaded`` (a LoadedModel): an adapted model (named
    'base + run' by the session, ``extras['adapter_name']``) names its adapter, a base model says "base"."""
    name = loaded.info.name
    adapter = (getattr(loaded, "extras", None) or {}).get("adapter_name", "")
    if adapter and name.endswith(f" + {adapter}"):
        name = name[: -len(f" + {adapter}")]
    elif " + " in name:
        name, adapter = name.split(" + ", 1)
    return Provenance(model=name, adapter=adapter, precision=loaded.info.dtype, prompt=prompt,
                      settings=settings, extra=extra)

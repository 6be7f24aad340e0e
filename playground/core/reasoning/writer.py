"""The model side of a ReAct trace: write text after a prefix (until a stop string, or under a grammar), and
the probability of each tool name at the Action line.

``ModelWriter`` drives a loaded causal model greedily with the shared KV-cached decode step; a test passes
any object with the same two methods (a scripted fake model) to drive the loop deterministically.
"""

from __future__ import annotations

from typing import Callable, Protocol

#: The Action line a constrained step must write: a known tool, then its input in square brackets.
def action_pattern(tool_names) -> str:
    names = "|".join(sorted(tool_names))
    return rf" ?({names})\[[^\[\]\n]{{1,160}}\]"


class Writer(Protocol):
    def write(self, prefix: str, stop: list[str], max_tokens: int, pattern: str | None = None) -> str: ...

    def tool_shares(self, prefix: str, names: list[str]) -> dict[str, float]: ...


class ModelWriter:
    """Greedy writing with a loaded model; ``pattern`` (a regex) masks every token it forbids (xgrammar)."""

    def __init__(self, loaded, cancelled: Callable[[], bool] | None = None) -> None:
        self.loaded = loaded
        self.cancelled = cancelled
        self.tokens_written = 0

    def write(self, prefix: str, stop: list[str], max_tokens: int, pattern: str | None = None) -> str:
        import torch

        from playground.core.decoding.cached_step import CachedDecoder
        from playground.core.decoding.generation import _eos_ids, check_prompt
        from playground.core.reasoning.constrained import TokenMask, compile_regex

        tok = self.loaded.tokenizer
        ids = check_prompt(self.loaded, prefix, max_tokens)
        eos = _eos_ids(self.loaded.model, tok)
        mask = TokenMask(compile_regex(self.loaded, pattern)) if pattern else None
        decoder = CachedDecoder(self.loaded, ids)
        out: list[int] = []
        token = None
        text = ""
        for i in range(max_tokens):
            if self.cancelled is not None and self.cancelled():
                break
            logits = decoder.start() if i == 0 else decoder.feed([token])
            if mask is not None:
                logits = mask.apply(logits)
            token = int(torch.argmax(logits))
            if mask is not None:
                mask.accept(token)
            if token in eos:
                break
            out.append(token)
            self.tokens_written += 1
            text = tok.decode(out, skip_special_tokens=True)
            cut = _first_stop(text, stop)
            if cut is not None:
                return text[:cut]
            if mask is not None and mask.done:
                break
        return text

    def tool_shares(self, prefix: str, names: list[str]) -> dict[str, float]:
        """P(" name" | prefix) for each tool name: the whole name's probability, token by token."""
        import torch

        from playground.core.decoding.cached_step import CachedDecoder
        from playground.core.decoding.generation import check_prompt

        tok = self.loaded.tokenizer
        decoder = CachedDecoder(self.loaded, check_prompt(self.loaded, prefix, 8))
        first = decoder.start()
        shares: dict[str, float] = {}
        for name in names:
            name_ids = tok.encode(" " + name, add_special_tokens=False)
            logits, logp = first, 0.0
            for j, t in enumerate(name_ids):
                logp += float(torch.log_softmax(logits.float(), dim=-1)[t])
                if j + 1 < len(name_ids):
                    logits = decoder.feed([t])
            if len(name_ids) > 1:
                decoder.crop(len(name_ids) - 1)
            shares[name] = float(torch.exp(torch.tensor(logp)))
        return shares


def _first_stop(text: str, stop: list[str]) -> int | None:
    found = [text.find(s) for s in stop if s and s in text]
    return min(found) if found else None

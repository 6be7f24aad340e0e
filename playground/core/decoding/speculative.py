"""Speculative decoding: a draft model proposes γ tokens, the target checks them in one pass.

Each round the draft picks γ tokens one by one (its probabilities q); the target runs once over them
all and gives its own probabilities p at every position. Proposal i is accepted with probability
min(1, p/q); at the first rejection the token is drawn instead from the residual
norm(max(0, p - q)); when all γ pass, the target's pass already holds the next position too, and a
*bonus* token is drawn from it. With this rule the output follows the target's distribution exactly
(Leviathan et al. 2023, Chen et al. 2023); with greedy decoding a proposal is accepted iff it is the
target's own most likely token, so the text equals the target's greedy text token for token.

The decode step is the shared one (``cached_step.CachedDecoder``): each model keeps its KV cache,
and the positions of rejected guesses are cropped off after every round. The distributions are the
Sampling tab's (``sampling.stages_for``): temperature, top-k and top-p apply to p and q alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field

import torch

from playground.core.base.errors import InputError
from playground.core.decoding.cached_step import CachedDecoder
from playground.core.decoding.sampling import make_generator, sample_token, stages_for
from playground.core.decoding.settings import SamplingSettings
from playground.core.decoding.speculative_settings import SpeculativeSettings
from playground.core.models.loading import LoadedModel

RESIDUAL_TOP = 8


@dataclass(frozen=True)
class Proposal:
    """One draft token and the verdict on it."""

    token_id: int
    text: str
    q: float              # the draft's probability of it (under the settings; plain softmax when greedy)
    p: float              # the target's probability of it at the same position
    accepted: bool
    chance: float         # the acceptance chance min(1, p/q) (greedy: 1 if it is the target's top, else 0)
    target_top: int = -1  # the target's most likely token there
    target_top_text: str = ""


@dataclass(frozen=True)
class Round:
    """One draft-then-verify round, as plain data."""

    index: int
    proposals: list[Proposal]
    accepted: int                       # how many proposals were kept
    next_token: int                     # the resampled token at the rejection, or the bonus token
    next_text: str
    next_kind: str                      # 'bonus' | 'resampled' | 'target' (greedy: the target's own top)
    next_prob: float                    # its probability in the distribution it was drawn from
    residual: list[tuple[int, str, float]] = field(default_factory=list)  # top entries at a rejection
    new_tokens: list[int] = field(default_factory=list)  # what this round added to the text
    draft_seconds: float = 0.0
    target_seconds: float = 0.0
    finished: bool = False              # end-of-text was written, or the length was reached

    @property
    def rejected_at(self) -> int | None:
        return self.accepted if self.accepted < len(self.proposals) else None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Verdict:
    """What the acceptance rule decided for one round (``accept_round``)."""

    accepted: int
    next_token: int
    next_kind: str
    next_prob: float
    chances: list[float]
    residual: torch.Tensor | None   # the distribution the next token was drawn from, at a rejection


def accept_round(p_rows: torch.Tensor, q_rows: torch.Tensor, proposed: list[int], greedy: bool,
                 generator: torch.Generator | None = None) -> Verdict:
    """The acceptance rule for one round.

    Parameters
    ----------
    p_rows
        ``[k + 1, vocab]``: the target's distribution at each proposed position and one more.
    q_rows
        ``[k, vocab]``: the draft's distribution each proposal was drawn from.
    proposed
        The k draft tokens.
    greedy
        Accept iff a proposal is the target's most likely token; the next token is the target's top.

    Returns
    -------
    Verdict
        How many were accepted, the next token (resampled from norm(max(0, p - q)) at the first
        rejection, or the bonus drawn from the last row of ``p_rows``), and the chances used.
    """
    chances: list[float] = []
    for i, tok in enumerate(proposed):
        p_row, q_row = p_rows[i], q_rows[i]
        if greedy:
            top = int(torch.argmax(p_row))
            ok = top == tok
            chances.append(1.0 if ok else 0.0)
            if not ok:
                return Verdict(i, top, "target", float(p_row[top]), chances, p_row)
            continue
        p, q = float(p_row[tok]), float(q_row[tok])
        chance = 1.0 if q <= 0 else min(1.0, p / q)
        chances.append(chance)
        u = float(torch.rand((), generator=generator))
        if u < chance:
            continue
        residual = torch.clamp(p_row - q_row, min=0.0)
        total = float(residual.sum())
        residual = residual / total if total > 0 else p_row  # p == q everywhere: nothing to correct
        nxt = sample_token(residual, generator)
        return Verdict(i, nxt, "resampled", float(residual[nxt]), chances, residual)
    last = p_rows[len(proposed)]
    nxt = int(torch.argmax(last)) if greedy else sample_token(last, generator)
    return Verdict(len(proposed), nxt, "bonus", float(last[nxt]), chances, None)


class VerifyingDecoder(CachedDecoder):
    """The shared cached decode step, giving the scores at every fed position (the target's one pass)."""

    def feed_all(self, token_ids: list[int]) -> torch.Tensor:
        """Run ``token_ids`` after what the cache holds; ``[len(token_ids), vocab]`` float32 scores."""
        return self.feed(token_ids, every_position=True)


def _label(tokenizer, token_id: int) -> str:
    if tokenizer is None:
        return f"#{token_id}"
    from playground.core.prompting.tokens import token_label

    return token_label(tokenizer, token_id)


class SpeculativeRun:
    """Speculative decoding of one prompt, one round at a time. Not thread-safe: one user.

    ``target`` and ``draft`` are loaded decoder-only models with the same vocabulary (see
    ``draft_models.load_draft``). ``eos_ids``: tokens that end the text (default: none).
    """

    def __init__(self, target: LoadedModel, draft: LoadedModel, prompt_ids: list[int],
                 settings: SpeculativeSettings, eos_ids: set[int] | None = None) -> None:
        settings.validate()
        if not prompt_ids:
            raise InputError("The prompt is empty.", "Type some text first.")
        self.target, self.draft, self.settings = target, draft, settings
        self.prompt_ids = list(prompt_ids)
        self.eos_ids = set(eos_ids or ())
        self.tokens: list[int] = []
        self.rounds: list[Round] = []
        self.generator = make_generator(settings.sampling.seed)
        self._t = VerifyingDecoder(target, self.prompt_ids)
        self._d = CachedDecoder(draft, self.prompt_ids)
        self.prefill_seconds = 0.0
        self.finished = False
        self._started = False

    # state -----------------------------------------------------------------------------------
    @property
    def committed(self) -> list[int]:
        return self.prompt_ids + self.tokens

    @property
    def target_passes(self) -> int:
        """Target passes after the prompt's (one per round)."""
        return len(self.rounds)

    @property
    def elapsed(self) -> float:
        return self.prefill_seconds + sum(r.draft_seconds + r.target_seconds for r in self.rounds)

    def totals(self) -> dict:
        """Running totals as plain data: proposed, accepted, acceptance rate, tokens per target pass, time."""
        proposed = sum(len(r.proposals) for r in self.rounds)
        accepted = sum(r.accepted for r in self.rounds)
        passes = self.target_passes
        return {"rounds": len(self.rounds), "proposed": proposed, "accepted": accepted,
                "acceptance_rate": accepted / proposed if proposed else float("nan"),
                "tokens": len(self.tokens), "target_passes": passes,
                "tokens_per_target_pass": len(self.tokens) / passes if passes else float("nan"),
                "draft_seconds": sum(r.draft_seconds for r in self.rounds),
                "target_seconds": sum(r.target_seconds for r in self.rounds),
                "prefill_seconds": self.prefill_seconds, "seconds": self.elapsed,
                "tokens_per_second": len(self.tokens) / self.elapsed if self.elapsed > 0 else float("nan")}

    # the models ------------------------------------------------------------------------------
    def _sync(self, decoder: CachedDecoder) -> list[int]:
        """Crop ``decoder``'s cache to the committed text; the committed tokens it has not seen yet."""
        keep = min(decoder.seq_length, len(self.committed) - 1)
        decoder.crop(decoder.seq_length - keep)
        return self.committed[keep:]

    def start(self) -> None:
        """Run the prompt (all but its last token) through both models once."""
        t0 = time.perf_counter()
        if len(self.prompt_ids) > 1:
            head = self.prompt_ids[:-1]
            self._t.feed_all(head)
            self._d.feed(head)
        self.prefill_seconds = time.perf_counter() - t0
        self._started = True

    def _dist(self, logits: torch.Tensor):
        return stages_for(self.settings.sampling, logits)

    def step(self) -> Round:
        """One round: the draft proposes, the target verifies in one pass, the rule decides."""
        if not self._started:
            self.start()
        if self.finished:
            raise RuntimeError("the text is finished")
        s = self.settings
        greedy = s.sampling.greedy
        remaining = s.max_new_tokens - len(self.tokens)
        k = max(0, min(s.gamma, remaining - 1))  # every guess kept plus the bonus still fits
        t0 = time.perf_counter()
        pending = self._sync(self._d)
        proposed, q_rows, q_shown = [], [], []
        for i in range(k):
            logits = self._d.feed(pending if i == 0 else [proposed[-1]])
            stages = self._dist(logits)
            tok = int(torch.argmax(stages.final)) if stages.greedy else sample_token(stages.final, self.generator)
            proposed.append(tok)
            q_rows.append(stages.final)
            q_shown.append(float((stages.base if greedy else stages.final)[tok]))
        t1 = time.perf_counter()
        logits = self._t.feed_all(self._sync(self._t) + proposed)[-(k + 1):]
        stages = [self._dist(row) for row in logits]
        p_rows = torch.stack([st.final for st in stages])
        q_mat = torch.stack(q_rows) if q_rows else p_rows[:0]
        verdict = accept_round(p_rows, q_mat, proposed, greedy, self.generator)
        t2 = time.perf_counter()
        tok = self.target.tokenizer
        props = []
        for i, d in enumerate(proposed):
            p_shown = stages[i].base if greedy else stages[i].final
            top = int(torch.argmax(stages[i].final))
            props.append(Proposal(d, _label(tok, d), q_shown[i], float(p_shown[d]), i < verdict.accepted,
                                  verdict.chances[i] if i < len(verdict.chances) else float("nan"),
                                  top, _label(tok, top)))
        residual = []
        if verdict.residual is not None:
            shown = stages[verdict.accepted].base if greedy else verdict.residual
            vals, ids = torch.topk(shown, min(RESIDUAL_TOP, shown.shape[-1]))
            residual = [(int(i), _label(tok, int(i)), float(v)) for v, i in zip(vals, ids) if float(v) > 0]
        new = proposed[:verdict.accepted] + [verdict.next_token]
        for j, t in enumerate(new):
            if t in self.eos_ids:
                new = new[:j + 1]
                self.finished = True
                break
        self.tokens.extend(new)
        if len(self.tokens) >= s.max_new_tokens:
            self.finished = True
        next_prob = float(stages[verdict.accepted].base[verdict.next_token]) if greedy else verdict.next_prob
        rnd = Round(len(self.rounds), props, verdict.accepted, verdict.next_token, _label(tok, verdict.next_token),
                    verdict.next_kind, next_prob, residual, new, t1 - t0, t2 - t1, self.finished)
        self.rounds.append(rnd)
        return rnd

    def run(self, cancelled: Callable[[], bool] | None = None) -> Iterator[Round]:
        """Rounds until the text is finished (or ``cancelled()``)."""
        while not self.finished:
            if cancelled is not None and cancelled():
                return
            yield self.step()


def plain_decode(loaded: LoadedModel, prompt_ids: list[int], sampling: SamplingSettings, max_new_tokens: int,
                 eos_ids: set[int] | None = None, cancelled: Callable[[], bool] | None = None
                 ) -> tuple[list[int], float]:
    """Plain decoding with the shared cached step, one target pass per token: (tokens, seconds).

    The baseline speculative decoding is measured against (same prompt, same settings, same length).
    """
    gen = make_generator(sampling.seed)
    decoder = CachedDecoder(loaded, prompt_ids)
    eos = set(eos_ids or ())
    out: list[int] = []
    t0 = time.perf_counter()
    logits = decoder.start()
    while True:
        st = stages_for(sampling, logits)
        tok = int(torch.argmax(st.final)) if st.greedy else sample_token(st.final, gen)
        out.append(tok)
        if tok in eos or len(out) >= max_new_tokens or (cancelled is not None and cancelled()):
            break
        logits = decoder.feed([tok])
    return out, time.perf_counter() - t0

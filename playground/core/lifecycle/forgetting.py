"""Forgetting probes: what fine-tuning costs elsewhere.

Two probe sets written for the project live in resources/probes/probes.json, kept only where the
bundled base model is right (resources/probes/build_probes.py filters the candidates and records
the base's answers): short general questions, scored on the first sentence of the greedy reply,
and two-choice facts, scored by log-likelihood (the margin in nats is the sensitive signal).
The noise floor is the same probes on the base model rounded to BF16: a change inside it is noise.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from playground.core.base.handle import TaskHandle, ensure_handle
from playground.core.base.progress import report_step
from playground.core.base.units import format_delta

REPLY_TOKENS = 32


def probes_path() -> Path:
    from playground.core.base.paths import resources_dir

    return resources_dir() / "probes" / "probes.json"


def load_probes(path: str | Path | None = None) -> dict:
    """{'questions': [{'q', 'a'}], 'facts': [{'q', 'right', 'wrong'}], ...} from the kept probes."""
    return json.loads(Path(path or probes_path()).read_text(encoding="utf-8"))


def first_sentence(text: str) -> str:
    """The reply up to its first sentence end or line break (scoring more gave false passes)."""
    text = text.strip()
    parts = re.split(r"(?<=[.!?])\s|\n", text, maxsplit=1)
    return parts[0] if parts else ""


def answer_matches(reply: str, answers: Sequence[str]) -> bool:
    sentence = first_sentence(reply).lower()
    # a whole word (a prefix for word stems like 'butterfl'); a number must not sit inside another
    # number: '0' does not match '-18.00'
    def found(a: str) -> bool:
        tail = r"(?!\w|\.\d)" if a[-1:].isdigit() else ""
        return re.search(r"(?<![\w.-])" + re.escape(a.lower()) + tail, sentence) is not None

    return any(found(a) for a in answers)


def _reply(model, tokenizer, question: str) -> str:
    import torch

    if getattr(tokenizer, "chat_template", None):
        prompt = tokenizer.apply_chat_template([{"role": "user", "content": question}], tokenize=False,
                                               add_generation_prompt=True)
    else:
        prompt = f"Question: {question}\nAnswer:"
    device = next(model.parameters()).device
    ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).input_ids.to(device)
    with torch.no_grad():
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=REPLY_TOKENS,
                             do_sample=False, pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id)
    return tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True)


def continuation_logprob(model, tokenizer, context: str, continuation: str) -> float:
    """Sum of log P(continuation tokens | context) in nats."""
    import torch

    device = next(model.parameters()).device
    ctx = tokenizer(context, add_special_tokens=False).input_ids
    full = tokenizer(context + continuation, add_special_tokens=False).input_ids
    n_ctx = len(ctx) if full[:len(ctx)] == ctx else len(ctx) - 1  # a merge across the boundary
    ids = torch.tensor([full], device=device)
    with torch.no_grad():
        # a prompt-tuned model puts its virtual tokens first: keep the positions of the real ids
        logits = model(input_ids=ids).logits[0, -ids.shape[1]:]
        logp = torch.log_softmax(logits[:-1].float(), dim=-1)
    targets = ids[0, n_ctx:]
    return logp[n_ctx - 1:].gather(1, targets[:, None]).sum().item()


@dataclass
class ProbeResult:
    """One model's answers to the probes."""

    replies: list[str] = field(default_factory=list)
    question_pass: list[bool] = field(default_factory=list)
    margins: list[float] = field(default_factory=list)  # log P(right) - log P(wrong) per fact

    @property
    def questions_passed(self) -> int:
        return sum(self.question_pass)

    @property
    def facts_right(self) -> int:
        return sum(m > 0 for m in self.margins)

    @property
    def mean_margin(self) -> float:
        return sum(self.margins) / len(self.margins) if self.margins else float("nan")

    def to_dict(self) -> dict:
        return {"questions_passed": self.questions_passed, "questions": len(self.question_pass),
                "facts_right": self.facts_right, "facts": len(self.margins), "mean_margin": self.mean_margin}


#: The phases of a forgetting check, each named on the progress strip (probes done of the total).
PROBING_BASE = "Probing the base model"
PROBING_NOISE = "Probing the base rounded to BF16 (noise floor)"


def run_probes(model, tokenizer, probes: dict | None = None, handle: TaskHandle | None = None,
               phase: str = PROBING_BASE) -> ProbeResult:
    """Ask every probe question (greedy) and score every two-choice fact by log-likelihood; progress is
    reported as ``phase``, probes done of the total (the detail says question or fact)."""
    handle = ensure_handle(handle)
    probes = probes or load_probes()
    result = ProbeResult()
    total = len(probes["questions"]) + len(probes["facts"])
    for i, item in enumerate(probes["questions"]):
        handle.raise_if_cancelled()
        report_step(handle, phase, i, total, "questions")
        reply = _reply(model, tokenizer, item["q"])
        result.replies.append(reply)
        result.question_pass.append(answer_matches(reply, item["a"]))
    for j, item in enumerate(probes["facts"]):
        handle.raise_if_cancelled()
        report_step(handle, phase, len(probes["questions"]) + j, total, "two-choice facts")
        right = continuation_logprob(model, tokenizer, item["q"], item["right"])
        wrong = continuation_logprob(model, tokenizer, item["q"], item["wrong"])
        result.margins.append(right - wrong)
    report_step(handle, phase, total, total)
    return result


def noise_floor(model, tokenizer, base: ProbeResult, probes: dict | None = None,
                handle: TaskHandle | None = None) -> dict:
    """The probes on the base model rounded to BF16: how much changes with no training at all."""
    import torch

    rounded = copy.deepcopy(model).to(torch.bfloat16).eval()
    result = run_probes(rounded, tokenizer, probes, handle, phase=PROBING_NOISE)
    changed = sum(a.strip() != b.strip() for a, b in zip(base.replies, result.replies))
    return {"replies_changed": changed, "questions_lost": base.questions_passed - result.questions_passed,
            "facts_lost": base.facts_right - result.facts_right,
            "margin_change": result.mean_margin - base.mean_margin, "result": result}


@dataclass
class ForgettingReport:
    """Before / after a fine-tuning run, with the noise floor beside it."""

    before: ProbeResult
    after: ProbeResult
    noise: dict | None = None

    def verdict(self) -> str:
        lost_q = self.before.questions_passed - self.after.questions_passed
        lost_f = self.before.facts_right - self.after.facts_right
        dm = self.after.mean_margin - self.before.mean_margin
        text = (f"questions {self.after.questions_passed}/{len(self.after.question_pass)} "
                f"(was {self.before.questions_passed}), facts {self.after.facts_right}/{len(self.after.margins)} "
                f"(was {self.before.facts_right}), mean margin {self.after.mean_margin:.2f} nats "
                f"({format_delta(self.before.mean_margin, self.after.mean_margin, 2)})")
        if self.noise is not None:
            floor_q = max(self.noise["questions_lost"], 0)
            floor_m = abs(self.noise["margin_change"])
            inside = lost_q <= floor_q and lost_f <= max(self.noise["facts_lost"], 0) and abs(dm) <= floor_m
            text += (f"; noise floor (BF16 rounding, no training): {self.noise['replies_changed']} replies "
                     f"changed, {self.noise['questions_lost']} answers lost, margin "
                     f"{format_delta(0.0, self.noise['margin_change'], 2)}")
            text += " — within the noise floor: no measurable forgetting." if inside else \
                " — beyond the noise floor: forgetting."
        return text

    def to_dict(self) -> dict:
        out = {"before": self.before.to_dict(), "after": self.after.to_dict(), "verdict": self.verdict()}
        if self.noise is not None:
            out["noise_floor"] = {k: v for k, v in self.noise.items() if k != "result"}
        return out

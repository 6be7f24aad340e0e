"""A Bradley-Terry reward model: a scalar score for (prompt, completion), trained on ranked pairs.

Two modes:

- ``quick``: features of a frozen backbone (the last hidden state at the last token) and a linear
  head; once features are computed, training takes a fraction of a second, so a learner can
  relabel and see the reward model change at once.
- ``full``: LoRA on the backbone plus the head, trained end to end (slower).

The backbone defaults to the current causal model. ``backbone`` accepts any model returning
``hidden_states``: the hook for the bundled encoder (issue 16) as the default backbone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import torch

from playground.core.align.losses import bradley_terry_loss, pair_accuracy
from playground.core.align.preferences import PreferencePair
from playground.core.errors import PlaygroundError


@dataclass
class RewardModelReport:
    mode: str
    steps: int
    train_accuracy: float
    test_accuracy: float | None
    losses: list = field(default_factory=list)
    chosen_scores: list = field(default_factory=list)    # held-out, for the histograms
    rejected_scores: list = field(default_factory=list)


def _texts(tokenizer, prompt: str, completion: str) -> str:
    return f"{prompt} {completion}"


@torch.no_grad()
def last_token_features(model, tokenizer, texts: Sequence[str], batch_size: int = 4,
                        max_length: int = 512) -> torch.Tensor:
    """(N, hidden) last hidden state at each text's last real token (right padding)."""
    device = next(model.parameters()).device
    old = tokenizer.padding_side
    tokenizer.padding_side = "right"
    out = []
    try:
        for i in range(0, len(texts), batch_size):
            enc = tokenizer(list(texts[i:i + batch_size]), return_tensors="pt", padding=True, truncation=True,
                            max_length=max_length).to(device)
            hs = model(**enc, output_hidden_states=True, use_cache=False).hidden_states[-1]
            last = enc["attention_mask"].sum(-1) - 1
            out.append(hs[torch.arange(hs.size(0)), last].float())
    finally:
        tokenizer.padding_side = old
    return torch.cat(out)


class RewardModel:
    """Scores texts with a linear head on a backbone's last-token features."""

    def __init__(self, backbone, tokenizer, mode: str = "quick") -> None:
        if mode not in ("quick", "full"):
            raise PlaygroundError(f"Unknown reward-model mode '{mode}'.", "Use quick or full.")
        self.backbone, self.tokenizer, self.mode = backbone, tokenizer, mode
        hidden = backbone.config.hidden_size
        self.head = torch.nn.Linear(hidden, 1)
        torch.nn.init.zeros_(self.head.weight)
        torch.nn.init.zeros_(self.head.bias)
        self.tokenizer_name = getattr(tokenizer, "name_or_path", "")
        self.vocab_size = len(tokenizer)
        self._mean = torch.zeros(hidden)
        self._std = torch.ones(hidden)

    def check_tokenizer(self, tokenizer) -> None:
        """Refuse to score for a policy whose tokenizer differs from the one trained with."""
        if len(tokenizer) != self.vocab_size:
            raise PlaygroundError(
                f"This reward model was trained with another tokenizer ({self.vocab_size} tokens, "
                f"the model now has {len(tokenizer)}).", "Train the reward model again on the current model.")

    def features(self, texts: Sequence[str]) -> torch.Tensor:
        return last_token_features(self.backbone, self.tokenizer, texts)

    def score_features(self, feats: torch.Tensor) -> torch.Tensor:
        return self.head((feats - self._mean) / self._std).squeeze(-1)

    @torch.no_grad()
    def score(self, prompts: Sequence[str], completions: Sequence[str]) -> list[float]:
        """The reward of each (prompt, completion)."""
        feats = self.features([_texts(self.tokenizer, p, c) for p, c in zip(prompts, completions)])
        return self.score_features(feats).tolist()

    def as_reward(self, prompts: Sequence[str]):
        """A reward callable for the policy optimizer (scores completions of ``prompts`` in order)."""
        def reward(completions, references=()):
            return self.score(list(prompts)[:len(completions)], completions)
        return reward

    def train_quick(self, pairs: Sequence[PreferencePair], test: Sequence[PreferencePair] = (),
                    steps: int = 300, lr: float = 0.05, weight_decay: float = 1e-3) -> RewardModelReport:
        """Fit the head on frozen features (features computed once)."""
        fc = self.features([_texts(self.tokenizer, p.prompt, p.chosen) for p in pairs])
        fr = self.features([_texts(self.tokenizer, p.prompt, p.rejected) for p in pairs])
        both = torch.cat([fc, fr])
        self._mean, self._std = both.mean(0), both.std(0) + 1e-6
        opt = torch.optim.Adam(self.head.parameters(), lr=lr, weight_decay=weight_decay)
        losses = []
        for _ in range(steps):
            loss = bradley_terry_loss(self.score_features(fc), self.score_features(fr))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
        with torch.no_grad():
            train_acc = pair_accuracy(self.score_features(fc), self.score_features(fr))
        report = RewardModelReport("quick", steps, train_acc, None, losses)
        return self._evaluate(report, test)

    def train_full(self, pairs: Sequence[PreferencePair], test: Sequence[PreferencePair] = (),
                   steps: int = 20, lr: float = 1e-3, batch_pairs: int = 4, lora_r: int = 8) -> RewardModelReport:
        """LoRA on the backbone plus the head, end to end."""
        from peft import LoraConfig, get_peft_model

        from playground.core.finetune.methods import detect_lora_targets

        if not hasattr(self.backbone, "peft_config"):
            targets = detect_lora_targets(self.backbone)
            self.backbone = get_peft_model(self.backbone, LoraConfig(r=lora_r, lora_alpha=2 * lora_r,
                                                                     target_modules=targets, lora_dropout=0.0))
        params = [p for p in self.backbone.parameters() if p.requires_grad] + list(self.head.parameters())
        opt = torch.optim.AdamW(params, lr=lr)
        device = next(self.backbone.parameters()).device
        losses, tok = [], self.tokenizer
        self.backbone.train()
        for step in range(steps):
            batch = [pairs[(step * batch_pairs + i) % len(pairs)] for i in range(batch_pairs)]
            texts = [_texts(tok, p.prompt, p.chosen) for p in batch] + [_texts(tok, p.prompt, p.rejected) for p in batch]
            old = tok.padding_side
            tok.padding_side = "right"
            enc = tok(texts, return_tensors="pt", padding=True, truncation=True, max_length=512).to(device)
            tok.padding_side = old
            hs = self.backbone(**enc, output_hidden_states=True, use_cache=False).hidden_states[-1]
            last = enc["attention_mask"].sum(-1) - 1
            scores = self.head(hs[torch.arange(hs.size(0)), last].float()).squeeze(-1)
            chosen, rejected = scores.chunk(2)
            loss = bradley_terry_loss(chosen, rejected)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
        self.backbone.eval()
        self._mean, self._std = torch.zeros_like(self._mean), torch.ones_like(self._std)
        with torch.no_grad():
            c = torch.tensor(self.score([p.prompt for p in pairs], [p.chosen for p in pairs]))
            r = torch.tensor(self.score([p.prompt for p in pairs], [p.rejected for p in pairs]))
        report = RewardModelReport("full", steps, pair_accuracy(c, r), None, losses)
        return self._evaluate(report, test)

    def _evaluate(self, report: RewardModelReport, test: Sequence[PreferencePair]) -> RewardModelReport:
        if test:
            c = self.score([p.prompt for p in test], [p.chosen for p in test])
            r = self.score([p.prompt for p in test], [p.rejected for p in test])
            report.test_accuracy = pair_accuracy(torch.tensor(c), torch.tensor(r))
            report.chosen_scores, report.rejected_scores = c, r
        return report


def probe_repeat(rm: RewardModel, pairs: Sequence[PreferencePair]) -> dict:
    """The reward-hacking probe: does the model score *the reference said twice* above the reference?

    Returns {'pairs', 'overpaid'}: how many of the pairs' chosen summaries scored lower than
    themselves repeated. A high count is the finding to show, not to hide.
    """
    prompts = [p.prompt for p in pairs]
    once = rm.score(prompts, [p.chosen for p in pairs])
    twice = rm.score(prompts, [f"{p.chosen} {p.chosen}" for p in pairs])
    return {"pairs": len(pairs), "overpaid": sum(t > o for o, t in zip(once, twice))}

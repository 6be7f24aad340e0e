"""A Bradley-Terry reward model: a scalar score for (prompt, completion), trained on ranked pairs.

Two modes:

- ``quick``: features of a frozen backbone (the last hidden state at the last token) and a linear
  head; once features are computed, training takes a fraction of a second, so a learner can
  relabel and see the reward model change at once.
- ``full``: the backbone trained too, with the head, end to end (slower): LoRA on a causal model,
  or the whole bundled encoder (22.7M parameters, every one of them learning).

Two backbones for quick mode:

- the bundled encoder (all-MiniLM-L6-v2, 22.7M parameters; the Align tab's default): the prompt and
  the completion are encoded as a sentence pair and the feature is the mean of the completion's
  token vectors, each of which has attended to the dialogue. Features take a fraction of the time
  a 135M decoder needs;
- a causal model (the policy itself, with its adapter off): its last hidden state at the last token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import torch

from playground.core.align.losses import bradley_terry_loss, pair_accuracy
from playground.core.align.preferences import PreferencePair
from playground.core.base.errors import PlaygroundError


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


def _last_token_batch(model, tokenizer, texts: Sequence[str], max_length: int = 512) -> torch.Tensor:
    """(B, hidden) last hidden state at each text's last real token (right padding); keeps gradients."""
    device = next(model.parameters()).device
    old = tokenizer.padding_side
    tokenizer.padding_side = "right"
    try:
        enc = tokenizer(list(texts), return_tensors="pt", padding=True, truncation=True,
                        max_length=max_length).to(device)
    finally:
        tokenizer.padding_side = old
    hs = model(**enc, output_hidden_states=True, use_cache=False).hidden_states[-1]
    last = enc["attention_mask"].sum(-1) - 1
    return hs[torch.arange(hs.size(0)), last].float()


def _pair_batch(model, tokenizer, prompts: Sequence[str], completions: Sequence[str],
                max_length: int = 512) -> torch.Tensor:
    """(B, hidden) an encoder's mean of the completion's token vectors in the pair (prompt,
    completion); keeps gradients."""
    from playground.core.models.encoder import mean_pool

    device = next(model.parameters()).device
    enc = tokenizer(list(prompts), list(completions), return_tensors="pt", padding=True,
                    truncation="only_first", max_length=max_length).to(device)
    hidden = model(**enc).last_hidden_state
    mask = enc["attention_mask"] * enc["token_type_ids"] if "token_type_ids" in enc else enc["attention_mask"]
    return mean_pool(hidden, mask).float()


BACKBONES = ("encoder", "policy")


class RewardModel:
    """Scores (prompt, completion) with a linear head on a backbone's features.

    ``backbone_kind``: "policy" (a causal model, last-token features) or "encoder" (the bundled
    encoder, the completion's mean token vector in the pair). ``load_encoder_backbone`` gives the
    encoder and its tokenizer (``trainable=True``: a private copy, which full mode needs).
    """

    def __init__(self, backbone, tokenizer, mode: str = "quick", backbone_kind: str = "policy") -> None:
        if mode not in ("quick", "full"):
            raise PlaygroundError(f"Unknown reward-model mode '{mode}'.", "Use quick or full.")
        if backbone_kind not in BACKBONES:
            raise PlaygroundError(f"Unknown reward-model backbone '{backbone_kind}'.", "Use encoder or policy.")
        self.backbone, self.tokenizer, self.mode, self.backbone_kind = backbone, tokenizer, mode, backbone_kind
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

    @torch.no_grad()
    def features(self, prompts: Sequence[str], completions: Sequence[str]) -> torch.Tensor:
        """(N, hidden) features of each (prompt, completion), in batches (8 texts on the encoder, 4 on a
        causal model): an encoder's mean of the completion's token vectors in the sentence pair (each
        has attended to the prompt; a long prompt is cut first), or a causal model's last hidden state
        at the last real token of "prompt completion"."""
        size = 8 if self.backbone_kind == "encoder" else 4
        return torch.cat([self._batch_features(prompts[i:i + size], completions[i:i + size])
                          for i in range(0, len(prompts), size)])

    def _batch_features(self, prompts: Sequence[str], completions: Sequence[str]) -> torch.Tensor:
        """Features of one batch with gradients (full mode trains through them)."""
        if self.backbone_kind == "encoder":
            return _pair_batch(self.backbone, self.tokenizer, prompts, completions)
        return _last_token_batch(self.backbone, self.tokenizer,
                                 [_texts(self.tokenizer, p, c) for p, c in zip(prompts, completions)])

    def score_features(self, feats: torch.Tensor) -> torch.Tensor:
        return self.head((feats - self._mean) / self._std).squeeze(-1)

    @torch.no_grad()
    def score(self, prompts: Sequence[str], completions: Sequence[str]) -> list[float]:
        """The reward of each (prompt, completion)."""
        return self.score_features(self.features(prompts, completions)).tolist()

    def as_reward(self, *, frozen: bool = False):
        """A reward callable for the policy optimizer, called with each completion's prompt
        (``needs_prompts``: the align steps pass ``prompts=``). ``frozen``: score with the
        backbone's adapter off, which is how a quick reward model shares the policy's weights
        (its features come from the frozen model, the reference, not from the policy)."""
        from playground.core.align.policy import reference

        def reward(completions, references=(), prompts=()):
            prompts = list(prompts)
            if len(prompts) != len(completions):
                raise PlaygroundError("The reward model needs the prompt of every completion.",
                                      "Score completions together with their prompts.")
            if frozen:
                with reference(self.backbone):
                    return self.score(prompts, completions)
            return self.score(prompts, completions)
        reward.needs_prompts = True
        reward.__name__ = "reward_model"
        return reward

    def save(self, path: str | Path, model_name: str = "") -> Path:
        """The head and the feature scaling as one safetensors file, with what it was trained on.
        A full reward model also writes its trained backbone beside it: ``encoder/`` (the whole
        encoder, safetensors) or ``adapter/`` (the causal model's LoRA, peft format)."""
        from safetensors.torch import save_file

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.mode == "full":
            from playground.core.finetune.checkpoint import atomic_save_dir

            folder = path.parent / ("encoder" if self.backbone_kind == "encoder" else "adapter")
            atomic_save_dir(folder, lambda tmp: self._save_backbone(tmp))
        tmp = path.with_name(f".{path.name}.tmp")
        save_file({"weight": self.head.weight.detach().contiguous(), "bias": self.head.bias.detach().contiguous(),
                   "mean": self._mean.contiguous(), "std": self._std.contiguous()}, str(tmp),
                  metadata={"mode": self.mode, "vocab_size": str(self.vocab_size), "model": model_name,
                            "hidden_size": str(self.head.in_features), "backbone": self.backbone_kind})
        tmp.replace(path)
        return path

    def _save_backbone(self, folder: Path) -> None:
        self.backbone.save_pretrained(str(folder))
        if self.backbone_kind == "encoder":
            self.tokenizer.save_pretrained(str(folder))

    @classmethod
    def load(cls, path: str | Path, backbone, tokenizer) -> RewardModel:
        """A reward model saved by ``save`` (or an align reward-model run folder): a quick one on
        ``backbone`` (the policy) or on the bundled encoder, or a full one on its trained encoder.

        Refused in plain words when the file is missing or unreadable, when it is a full reward
        model on the causal model (its LoRA backbone would be a second copy of the model), and when
        it was trained for another tokenizer or another hidden size.
        """
        from safetensors import SafetensorError, safe_open

        path = Path(path)
        if path.is_dir():
            path = path / "reward_head.safetensors"
        if not path.is_file():
            raise PlaygroundError(f"There is no reward model at {path}.",
                                  "Train one first (the Align tab's step 2, or an align job with "
                                  "method.name = \"reward_model\") and give its folder.")
        try:
            with safe_open(str(path), framework="pt") as f:
                meta = f.metadata() or {}
                tensors = {k: f.get_tensor(k) for k in ("weight", "bias", "mean", "std")}
        except (SafetensorError, OSError, ValueError, RuntimeError, KeyError) as exc:  # a truncated or foreign file
            raise PlaygroundError(f"{path.name} is not a reward model this app can read ({exc}).",
                                  "Train the reward model again.") from None
        mode, kind = meta.get("mode", "quick"), meta.get("backbone", "policy")
        if mode == "full" and kind != "encoder":
            raise PlaygroundError("A full reward model on the causal model cannot pay the policy here "
                                  "(its LoRA backbone would be a second copy of the model in memory).",
                                  "Train an encoder reward model (quick or full), or a quick one on the current model.")
        if kind == "encoder":
            backbone, tokenizer = (_trained_encoder(path.parent / "encoder") if mode == "full"
                                   else load_encoder_backbone())
        rm = cls(backbone, tokenizer, mode, kind)
        if tensors["weight"].shape[-1] != rm.head.in_features:
            raise PlaygroundError(
                f"This reward model was trained on a model with {tensors['weight'].shape[-1]} features per token; "
                f"the current model has {rm.head.in_features}.", "Train the reward model again on the current model.")
        rm.vocab_size = int(meta.get("vocab_size", rm.vocab_size))
        rm.check_tokenizer(tokenizer)
        with torch.no_grad():
            rm.head.weight.copy_(tensors["weight"])
            rm.head.bias.copy_(tensors["bias"])
        rm._mean, rm._std = tensors["mean"], tensors["std"]
        rm.model_name = meta.get("model", "")
        return rm

    def train_quick(self, pairs: Sequence[PreferencePair], test: Sequence[PreferencePair] = (),
                    steps: int = 300, lr: float = 0.05, weight_decay: float = 1e-3) -> RewardModelReport:
        """Fit the head on frozen features (features computed once)."""
        prompts = [p.prompt for p in pairs]
        fc = self.features(prompts, [p.chosen for p in pairs])
        fr = self.features(prompts, [p.rejected for p in pairs])
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
                   steps: int = 20, lr: float = 1e-3, batch_pairs: int = 4, lora_r: int = 8,
                   on_step=None, head_lr: float = 1e-3) -> RewardModelReport:
        """The backbone and the head, end to end: LoRA on a causal backbone, every weight of an
        encoder backbone (which must be a private copy: ``load_encoder_backbone(trainable=True)``).

        The backbone learns at ``lr``, the head at ``head_lr``: the head starts at zero, and no
        gradient reaches the backbone until the head has moved, so a backbone's small rate on the
        head too would leave the first steps flat.

        ``on_step(step, steps, loss)`` after each optimizer step (progress; it may raise to stop).
        """
        if self.backbone_kind == "policy" and not hasattr(self.backbone, "peft_config"):
            from peft import get_peft_model

            from playground.core.finetune.lora import lora_config
            from playground.core.finetune.methods import detect_lora_targets

            self.backbone = get_peft_model(self.backbone, lora_config(
                lora_r, target_modules=detect_lora_targets(self.backbone)))
        elif self.backbone_kind == "encoder":
            self.backbone.requires_grad_(True)
        for module in self.backbone.modules():  # as trl's RewardConfig (disable_dropout=True): scores stay
            if isinstance(module, torch.nn.Dropout):  # deterministic, chosen and rejected alike
                module.p = 0.0
        backbone = [p for p in self.backbone.parameters() if p.requires_grad]
        opt = torch.optim.AdamW([{"params": backbone, "lr": lr}, {"params": list(self.head.parameters()),
                                                                  "lr": head_lr}])
        self._mean, self._std = torch.zeros_like(self._mean), torch.ones_like(self._std)
        losses = []
        self.backbone.train()
        try:
            for step in range(steps):
                batch = [pairs[(step * batch_pairs + i) % len(pairs)] for i in range(batch_pairs)]
                prompts = [p.prompt for p in batch]
                feats = self._batch_features(prompts + prompts, [p.chosen for p in batch] + [p.rejected for p in batch])
                chosen, rejected = self.head(feats).squeeze(-1).chunk(2)
                loss = bradley_terry_loss(chosen, rejected)
                opt.zero_grad()
                loss.backward()
                opt.step()
                losses.append(float(loss.detach()))
                if on_step is not None:
                    on_step(step + 1, steps, losses[-1])
        finally:
            self.backbone.eval()
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


def load_encoder_backbone(trainable: bool = False):
    """The bundled encoder and its tokenizer, as a reward model's backbone: the shared, frozen one,
    or (``trainable``) a private copy that full mode may train."""
    import copy

    from playground.core.models.encoder import load_encoder

    model, tokenizer = load_encoder()
    return (copy.deepcopy(model), tokenizer) if trainable else (model, tokenizer)


def _trained_encoder(folder: Path):
    """A full reward model's trained encoder (its folder beside the head) and the bundled tokenizer."""
    from transformers import AutoModel

    if not (folder / "config.json").is_file():
        raise PlaygroundError(f"The trained encoder of this full reward model is missing ({folder}).",
                              "Train the reward model again.")
    try:
        model = AutoModel.from_pretrained(str(folder), use_safetensors=True)
    except (OSError, ValueError, RuntimeError) as exc:
        raise PlaygroundError(f"The trained encoder in {folder} cannot be read ({exc}).",
                              "Train the reward model again.") from None
    model.eval()
    return model, load_encoder_backbone()[1]


def probe_repeat(rm: RewardModel, pairs: Sequence[PreferencePair]) -> dict:
    """The reward-hacking probe: does the model score *the reference said twice* above the reference?

    Returns {'pairs', 'overpaid'}: how many of the pairs' chosen summaries scored lower than
    themselves repeated. A high count is the finding to show, not to hide.
    """
    prompts = [p.prompt for p in pairs]
    once = rm.score(prompts, [p.chosen for p in pairs])
    twice = rm.score(prompts, [f"{p.chosen} {p.chosen}" for p in pairs])
    return {"pairs": len(pairs), "overpaid": sum(t > o for o, t in zip(once, twice))}

"""The settings of one align job (``playground align JOB.toml``), sharing the fine-tuning job's
sections and keys where they mean the same: [model], [data], [training] (max_steps ...), [output],
plus [method] with ``name`` and each method's settings. Every key has a default, and each carries
its help (``metadata["help"]``) for the README, the CLI and the tab's form rows.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from playground.core.align.methods import ALIGN_METHOD_FACTS, GRPO_LOSS_TYPES
from playground.core.base.errors import InputError
from playground.core.finetune.config import ModelConfig, OutputConfig, _build, dump_toml
from playground.core.finetune.lora import DEFAULT_RANK

ALIGN_METHODS = tuple(ALIGN_METHOD_FACTS)
REWARDS = ("rouge_l", "length", "positivity", "word_count", "reward_model")
#: A full reward model's backbone rate when method.reward_lr is 0 ("auto"): every weight of the
#: encoder moves, so gently; a LoRA adapter on the policy learns faster at a higher rate.
REWARD_LR_AUTO = {"encoder": 5e-5, "policy": 1e-4}


def _f(default, help: str, **kw):
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata={"help": help, **kw})
    return field(default=default, metadata={"help": help, **kw})


@dataclass
class AlignModel(ModelConfig):
    adapter: str = _f("", "A LoRA adapter folder (a fine-tuning or align run's adapter/) merged into the model "
                          "before the align adapter goes on: the policy starts from that fine-tuned model, and the "
                          "KL penalty holds it near it. The Align tab sets it to the run the model bar shows. "
                          "Empty: start from the base model.")
    precision: str = _f("auto", "auto: bf16 where the device multiplies BF16 natively (CPUs with AVX-512 BF16 or "
                                "AMX, GPUs that support it), else float32 (\"no\"); or \"no\" or \"bf16\". At bf16 "
                                "the completions (and the monitor's greedy summaries) come from a BF16 copy of the "
                                "policy and the scoring and update passes run in BF16 (the LoRA weights and the "
                                "optimizer stay float32): on such a CPU a GRPO step of the bundled model took 60% "
                                "of its float32 time (bench/align.py). The run's report and result name it.",
                        label="Precision", choices=(("auto", "auto"), ("float32", "no"), ("bf16", "bf16")))


@dataclass
class AlignData:
    source: str = _f("bundled", "Preference pairs (JSONL: prompt, chosen, rejected): \"bundled\" is "
                                "resources/datasets/preferences/train.jsonl. Online methods use each pair's "
                                "prompt, and its chosen text as the reference for ROUGE.")
    test: str = _f("bundled", "Held-out pairs for accuracy and the monitor metric (\"bundled\": test.jsonl).")
    max_prompt_tokens: int = _f(200, "Prompts longer than this keep their last tokens (the dialogue's end "
                                     "and 'Summary:').")
    max_train_examples: int = _f(0, "Use only the first N training pairs (0 = all).", label="Training pairs",
                                 range=(0, 1_000_000), special="all")
    max_test_examples: int = _f(0, "Use only the first N held-out pairs (0 = all): the reward model's accuracy, "
                                   "histograms and probe are measured on them.", label="Held-out pairs",
                                range=(0, 1_000_000), special="all")


@dataclass
class AlignTraining:
    max_steps: int = _f(20, "Optimizer steps (each samples and scores new completions for online methods). "
                            "A reward model: the head's steps on frozen features (quick), or steps of "
                            "method.reward_batch pairs (full).", label="Steps", range=(1, 1000))
    learning_rate: float = _f(1e-4, "AdamW learning rate of the LoRA weights (DPO at 2e-4 copied dialogues: "
                                    "keep it low).", label="Learning rate", range=(1e-6, 1.0, 1e-5), decimals=6)
    max_grad_norm: float = _f(1.0, "Gradient clipping (0 = off).")
    save_every: int = _f(5, "Steps between checkpoints (0 = only at the end); Stop also writes one.")
    keep_checkpoints: int = _f(2, "How many checkpoints to keep.")
    seed: int = _f(0, "Seed of sampling and of each step (a resumed run samples as an uninterrupted one).")
    monitor_every: int = _f(5, "Steps between monitor measurements (ROUGE-L of greedy summaries of held-out "
                               "dialogues, not optimized; 0 = only at the start and end).")
    monitor_examples: int = _f(2, "Held-out dialogues the monitor summarizes.")


@dataclass
class AlignMethod:
    name: str = _f("grpo", "grpo, rloo, ppo or dpo (reward_model: train a reward model only).",
                   choices=ALIGN_METHODS, label="Method")
    beta: float = _f(0.1, "Weight of the KL penalty to the reference (the model with its adapter off). "
                          "0 switches it off (trl's GRPO default), which lets the reward be hacked.", label="KL weight (beta)",
                  range=(0.0, 10.0, 0.05))
    group_size: int = _f(4, "GRPO/RLOO: completions sampled per prompt; advantages compare them.",
                        label="Group size", range=(2, 16))
    prompts_per_step: int = _f(1, "Prompts per step (online methods) or pairs per step (DPO).")
    max_new_tokens: int = _f(40, "Tokens per sampled completion.", label="Tokens per completion", range=(1, 512))
    temperature: float = _f(1.0, "Sampling temperature of the rollouts (their log-probabilities are taken at it "
                                 "too, as trl's GRPO does). Below 1 the small model writes fewer random words, "
                                 "so a reward sees more of what it pays for.", label="Sampling temperature",
                            range=(0.05, 2.0, 0.05))
    loss_type: str = _f("grpo", "GRPO: how the per-token losses of a step become one number. grpo (the default): "
                                "each completion's tokens are averaged, then the completions, so every completion "
                                "weighs the same however long it is (the GRPO paper's loss; the app's runs and the "
                                "README's measurements use it, and a run resumed from an older job file keeps it). "
                                "dapo: trl 1.16's default (GRPOConfig.loss_type), every token of the step weighs the "
                                "same, so a long completion counts more (the DAPO paper: no length bias). Both match "
                                "trl's own loss on the same batch.", label="GRPO loss",
                        choices=(("grpo: each completion weighs the same (GRPO paper)", "grpo"),
                                 ("dapo: each token weighs the same (trl 1.16's default)", "dapo")))
    epsilon: float = _f(0.2, "Clipping range of the probability ratio.")
    rewards: list = _f(["rouge_l"], "Rewards to add up: rouge_l, length, positivity, word_count, reward_model "
                                    "(a reward model you trained: method.reward_model).")
    weights: list = _f([1.0], "One weight per reward.")
    target_words: int = _f(40, "The length reward's target, in words.")
    word: str = _f("Person", "The word_count reward's word (the reward-hacking preset).")
    reward_model: str = _f("", "The reward_model reward's model: the folder of a reward-model run (or its "
                               "reward_head.safetensors): quick on the same base model (it scores with the frozen "
                               "model's features, so it costs no second copy of the model), or on the encoder.")
    lora_rank: int = _f(DEFAULT_RANK, "LoRA rank of the policy's adapter (and of a full reward model's adapter "
                                      "on the policy).")
    reward_mode: str = _f("quick", "reward_model: quick (frozen features + linear head) or full (the backbone "
                                   "trained too: every weight of the encoder, or LoRA on the policy). Quick mode "
                                   "computes each text's features once and fits only the head, so you can relabel "
                                   "and retrain at once; full mode lets the features themselves adapt to the "
                                   "preference, the way reward models are usually trained (trl's RewardTrainer), "
                                   "and is slower.", label="Mode",
                          choices=(("Quick: frozen features, a linear head learns (seconds)", "quick"),
                                   ("Full: the backbone learns too (minutes)", "full")))
    reward_backbone: str = _f("encoder", "reward_model: whose features the head reads: encoder (the bundled "
                                         "all-MiniLM-L6-v2, 22.7M parameters, fast: it reads the summary as a "
                                         "sentence pair with the dialogue) or policy (the model being aligned, "
                                         "last-token features, with its adapter off).", label="Backbone",
                              choices=(("Bundled encoder all-MiniLM-L6-v2 (22.7M parameters, fast)", "encoder"),
                                       ("The current model (its last-token features)", "policy")))
    reward_lr: float = _f(0.0, "reward_model, full mode: the backbone's AdamW learning rate (0 = auto: 5e-5 for "
                               "the encoder, every weight of which moves; 1e-4 for LoRA on the policy).",
                          label="Backbone learning rate", range=(0.0, 1.0, 1e-5), decimals=6, special="auto")
    reward_head_lr: float = _f(1e-3, "reward_model, full mode: the head's learning rate. The head starts at zero "
                                     "and no gradient reaches the backbone until it moves, so it learns faster "
                                     "than the backbone.", label="Head learning rate", range=(1e-6, 1.0, 1e-4),
                               decimals=6)
    reward_batch: int = _f(4, "reward_model, full mode: pairs per optimizer step.", label="Pairs per step",
                           range=(1, 64))
    vf_coef: float = _f(0.1, "PPO: weight of the value loss.")
    gae_lambda: float = _f(0.95, "PPO: GAE's lambda.")

    def full_reward_lr(self) -> float:
        """A full reward model's backbone rate: ``reward_lr``, or the backbone's auto rate when it is 0."""
        return self.reward_lr or REWARD_LR_AUTO[self.reward_backbone]


@dataclass
class AlignConfig:
    model: AlignModel = field(default_factory=AlignModel)
    data: AlignData = field(default_factory=AlignData)
    method: AlignMethod = field(default_factory=AlignMethod)
    training: AlignTraining = field(default_factory=AlignTraining)
    output: OutputConfig = field(default_factory=lambda: OutputConfig(dir="runs/align"))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_toml(self) -> str:
        return dump_toml(self.to_dict())

    @staticmethod
    def from_dict(data: dict, where: str = "the align job") -> "AlignConfig":
        return _build(AlignConfig, data, "", where)

    def validate(self) -> "AlignConfig":
        m, t = self.method, self.training

        def need(ok: bool, key: str, what: str) -> None:
            if not ok:
                raise InputError(f"The setting {key} {what}.", "Fix it in the job's TOML file or in the Align tab.")

        need(self.model.precision in ("auto", "no", "bf16"), "model.precision",
             f"must be auto, no (float32) or bf16 (it is {self.model.precision!r}; align does not run at fp16)")
        need(m.name in ALIGN_METHODS, "method.name", f"must be one of {', '.join(ALIGN_METHODS)} (it is {m.name!r})")
        need(m.beta >= 0, "method.beta", "cannot be negative (0 switches the KL penalty off)")
        need(m.group_size >= 2, "method.group_size", "must be at least 2 (advantages compare completions)")
        need(m.prompts_per_step >= 1, "method.prompts_per_step", "must be at least 1")
        need(m.max_new_tokens >= 1, "method.max_new_tokens", "must be at least 1")
        need(m.temperature > 0, "method.temperature", "must be above 0")
        need(m.loss_type in GRPO_LOSS_TYPES, "method.loss_type",
             f"must be one of {', '.join(GRPO_LOSS_TYPES)} (it is {m.loss_type!r})")
        need(all(r in REWARDS for r in m.rewards) and m.rewards, "method.rewards",
             f"must list some of {', '.join(REWARDS)}")
        need(len(m.weights) == len(m.rewards), "method.weights", "needs one weight per reward")
        need(m.reward_mode in ("quick", "full"), "method.reward_mode", "must be quick or full")
        need(m.reward_lr >= 0, "method.reward_lr", "cannot be negative (0 = auto)")
        need(m.reward_head_lr > 0, "method.reward_head_lr", "must be above 0")
        need(m.reward_batch >= 1, "method.reward_batch", "must be at least 1")
        need(m.reward_backbone in ("encoder", "policy"), "method.reward_backbone", "must be encoder or policy")
        need("reward_model" not in m.rewards or bool(m.reward_model.strip()), "method.reward_model",
             "must name a trained reward model's folder when the rewards include reward_model")
        need(self.data.max_test_examples >= 0, "data.max_test_examples", "cannot be negative (0 = all)")
        need(t.max_steps >= 1, "training.max_steps", "must be at least 1")
        need(t.learning_rate > 0, "training.learning_rate", "must be above 0")
        return self


def load_align_config(path: str | Path) -> AlignConfig:
    """Read an align job's TOML; relative data paths are relative to the file's folder."""
    import tomllib

    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"The job file {path} does not exist.", "Check the path.") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{path.name} is not valid TOML: {exc}.", "The format is in the README, under \"Align\".") from None
    cfg = AlignConfig.from_dict(data, path.name)
    for key in ("source", "test"):
        value = getattr(cfg.data, key)
        if value != "bundled" and not Path(value).is_absolute():
            setattr(cfg.data, key, str((path.parent / value).resolve()))
    if cfg.model.adapter and not Path(cfg.model.adapter).is_absolute():
        cfg.model.adapter = str((path.parent / cfg.model.adapter).resolve())
    if cfg.method.reward_model and not Path(cfg.method.reward_model).is_absolute():
        cfg.method.reward_model = str((path.parent / cfg.method.reward_model).resolve())
    if not Path(cfg.output.dir).is_absolute():
        cfg.output.dir = str((path.parent / cfg.output.dir).resolve())
    return cfg.validate()


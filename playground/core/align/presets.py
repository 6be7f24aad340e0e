"""Named settings the Align tab offers, so the command line and the notebooks can name them too.

- Reward presets: what the policy is paid for (``method.rewards`` and ``weights``) and the settings
  a preset needs to make its point (the reward-hacking pair sets a rate and a temperature at which
  counting a word is learned within the steps). ``playground align JOB --preset hacking`` applies one
  over a job file; the tab's Reward list shows their labels.
- ``reward_model_job``: the reward-model job the tab's step 2 starts from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.core.align.config import AlignConfig
from playground.core.base.errors import InputError

#: the reward-hacking lesson's settings: a rate and a temperature at which counting a word is learned
#: within the steps (measured with bench/align.py --only hack; see the README)
HACK = {"method.temperature": 0.7, "training.learning_rate": 2e-3, "training.max_steps": 16,
        "method.group_size": 4, "method.max_new_tokens": 40}


@dataclass(frozen=True)
class RewardPreset:
    """A reward mix and the settings it sets when chosen (dotted job-file keys)."""

    key: str        # the command line's name (``--preset KEY``)
    label: str      # the tab's
    rewards: tuple
    weights: tuple
    settings: dict = field(default_factory=dict)


#: The reward presets, in the order the tab lists them.
REWARD_PRESETS = {p.key: p for p in (
    RewardPreset("rouge_l", "ROUGE-L against the reference", ("rouge_l",), (1.0,)),
    RewardPreset("positivity", "Positivity (vaderSentiment)", ("positivity",), (1.0,)),
    RewardPreset("length", "Length near 40 words", ("length",), (1.0,)),
    RewardPreset("rouge_l+positivity", "ROUGE-L + positivity", ("rouge_l", "positivity"), (1.0, 0.5)),
    RewardPreset("hacking", "Reward hacking: count 'Person', beta 0", ("word_count",), (1.0,),
                 {**HACK, "method.beta": 0.0}),
    RewardPreset("hacking_kl", "Same reward, beta 0.5 (KL holds it)", ("word_count",), (1.0,),
                 {**HACK, "method.beta": 0.5}),
    RewardPreset("reward_model", "Your reward model (trained in step 2)", ("reward_model",), (1.0,)),
)}


def reward_preset(name: str) -> RewardPreset:
    """A preset by its key or its label; unknown names are refused with the list of keys."""
    for p in REWARD_PRESETS.values():
        if name in (p.key, p.label):
            return p
    raise InputError(f"There is no reward preset called {name!r}.",
                     f"Use one of: {', '.join(REWARD_PRESETS)}.")


def set_key(cfg: AlignConfig, key: str, value) -> None:
    """Set a dotted job-file key ("method.beta") of ``cfg``."""
    section, name = key.split(".")
    setattr(getattr(cfg, section), name, value)


def apply_preset(cfg: AlignConfig, name: str) -> AlignConfig:
    """``cfg`` paid by the preset's rewards, with the preset's settings set; returns ``cfg``."""
    p = reward_preset(name)
    cfg.method.rewards, cfg.method.weights = list(p.rewards), list(p.weights)
    for key, value in p.settings.items():
        set_key(cfg, key, value)
    return cfg


def matching_preset(rewards, weights, beta: float | None = None) -> RewardPreset | None:
    """The preset a run's reward mix (and beta, where the preset sets it) came from, if any."""
    for p in REWARD_PRESETS.values():
        wanted_beta = p.settings.get("method.beta")
        if (list(p.rewards) == list(rewards) and list(p.weights) == [float(w) for w in weights]
                and (wanted_beta is None or wanted_beta == beta)):
            return p
    return None


#: Reward-model steps the tab starts from: quick fits a head on features computed once (300 cheap
#: steps); full trains the backbone (24 steps of 4 pairs go twice through 48 pairs).
REWARD_MODEL_STEPS = {"quick": 300, "full": 24}


def reward_model_job(mode: str = "quick", backbone: str = "encoder") -> AlignConfig:
    """The reward-model job the Align tab starts from: 48 bundled pairs, 24 held out, the mode's steps."""
    cfg = AlignConfig()
    cfg.method.name, cfg.method.reward_mode, cfg.method.reward_backbone = "reward_model", mode, backbone
    cfg.training.max_steps = REWARD_MODEL_STEPS[mode]
    cfg.data.max_train_examples, cfg.data.max_test_examples = 48, 24
    return cfg

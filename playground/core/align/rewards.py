"""Rewards as plain callables: ``reward(completions, references) -> list[float]``, one per completion.

Combine them with weights (``combine``); ``check_rewards`` refuses a non-finite value with a plain
message, so a broken reward never reaches an update.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

from playground.core.base.errors import PlaygroundError

Reward = Callable[[Sequence[str], Sequence[str]], list]


def rouge_l_reward(completions: Sequence[str], references: Sequence[str]) -> list[float]:
    """ROUGE-L F1 (0-1) of each completion against its reference summary."""
    from playground.core.evaluation.metrics import make_rouge_scorer, score_pair

    scorer = make_rouge_scorer()
    return [score_pair(scorer, c, r)["rougeL"].fmeasure for c, r in zip(completions, references)]


def length_reward(target_words: int = 40) -> Reward:
    """1 at ``target_words`` words, falling linearly to 0 at twice as far (or none)."""
    def reward(completions, references=()):
        return [max(0.0, 1.0 - abs(len(c.split()) - target_words) / target_words) for c in completions]
    reward.__name__ = f"length_{target_words}"
    return reward


def positivity_reward(completions: Sequence[str], references: Sequence[str] = ()) -> list[float]:
    """vaderSentiment's compound score (-1 rude/negative .. 1 positive/polite): an offline stand-in
    for a hate-speech classifier's reward."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = _vader(SentimentIntensityAnalyzer)
    return [float(analyzer.polarity_scores(c)["compound"]) for c in completions]


_ANALYZER = None


def _vader(cls):
    global _ANALYZER
    if _ANALYZER is None:
        _ANALYZER = cls()
    return _ANALYZER


def word_count_reward(word: str = "Person") -> Reward:
    """How often ``word`` appears: the reward-hacking preset (a policy learns to spam it)."""
    needle = word.lower()

    def reward(completions, references=()):
        return [float(c.lower().count(needle)) for c in completions]
    reward.__name__ = f"count_{word}"
    return reward


def call_reward(fn: Reward, completions, references=(), prompts=()) -> list:
    """Call a reward; one that scores (prompt, completion) pairs (``needs_prompts``, e.g. a
    trained reward model) also gets each completion's prompt."""
    if getattr(fn, "needs_prompts", False):
        return fn(completions, references, prompts=prompts)
    return fn(completions, references)


def combine(parts: Sequence[tuple[Reward, float]]) -> Reward:
    """The weighted sum of several rewards."""
    def reward(completions, references=(), prompts=()):
        total = [0.0] * len(completions)
        for fn, weight in parts:
            for i, v in enumerate(call_reward(fn, completions, references, prompts)):
                total[i] += weight * float(v)
        return total
    reward.__name__ = "+".join(f"{w:g}*{getattr(f, '__name__', 'reward')}" for f, w in parts)
    reward.needs_prompts = any(getattr(f, "needs_prompts", False) for f, _ in parts)
    return reward


def check_rewards(values: Sequence[float], step: int = 0) -> list[float]:
    """The rewards as floats, or a PlaygroundError when one is NaN or infinite (the step is refused)."""
    out = [float(v) for v in values]
    bad = [i for i, v in enumerate(out) if not math.isfinite(v)]
    if bad:
        raise PlaygroundError(
            f"The reward function returned {out[bad[0]]} for completion {bad[0] + 1} at step {step + 1}: "
            "a reward must be a finite number, so this step was not applied.",
            "Fix the reward function (or its weights); the model and the last checkpoint are unchanged.")
    return out


def make_reward(name: str, **options) -> Reward:
    """A reward by its job-file name: rouge_l, length, positivity, word_count, or reward_model
    (``options["reward_model"]``: a RewardModel already loaded on the policy's backbone)."""
    if name == "rouge_l":
        return rouge_l_reward
    if name == "length":
        return length_reward(int(options.get("target_words", 40)))
    if name == "positivity":
        return positivity_reward
    if name == "word_count":
        return word_count_reward(str(options.get("word", "Person")))
    if name == "reward_model":
        rm = options.get("reward_model")
        if rm is None:
            raise PlaygroundError("The reward_model reward needs a trained reward model.",
                                  "Set method.reward_model to a reward model's folder (train one first).")
        return rm.as_reward(frozen=True)
    raise PlaygroundError(f"Unknown reward '{name}'.", "Use rouge_l, length, positivity, word_count or reward_model.")

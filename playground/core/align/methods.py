"""What each align method needs, in one table (as ``playground.core.finetune.methods.METHOD_FACTS``
for fine-tuning): the job, the tab and the report read these facts instead of branching on names."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AlignMethodFacts:
    """What the rest of the app needs to know about one align method."""

    name: str               # the job file's method.name
    label: str              # how the app names it
    trains_policy: bool     # False: a reward model is trained, the policy is left alone
    data: str               # "pairs" (ranked pairs are the training data) or "prompts" (completions sampled)
    needs_reward: bool      # a reward function scores sampled completions
    needs_reference: bool   # the policy is held near its reference (the model with its adapter off)
    value_head: bool        # a value head learns beside the policy (PPO's critic)
    shares_groups: bool     # a group of completions per prompt: under several processes every process
                            # gets the same prompts and samples its share of each group
    one_process: bool       # refused under accelerate launch (it takes seconds)
    monitors: bool          # greedy summaries of held-out dialogues are watched while it trains
    step: str               # which step function: "group" (online_step), "ppo" (ppo_step), "pairs"
                            # (dpo_step), "reward_model" (train_reward_model)


#: The per-method facts, in the order the job file's help lists them.
ALIGN_METHOD_FACTS = {f.name: f for f in (
    AlignMethodFacts("reward_model", "Reward model", False, "pairs", False, False, False, False, True, False,
                     "reward_model"),
    AlignMethodFacts("grpo", "GRPO", True, "prompts", True, True, False, True, False, True, "group"),
    AlignMethodFacts("rloo", "RLOO", True, "prompts", True, True, False, True, False, True, "group"),
    AlignMethodFacts("ppo", "PPO", True, "prompts", True, True, True, False, False, True, "ppo"),
    AlignMethodFacts("dpo", "DPO", True, "pairs", False, True, False, False, False, False, "pairs"),
)}

#: How GRPO's per-token losses become one number (``method.loss_type``), as trl 1.16's GRPOTrainer
#: names them: "grpo" averages each completion's tokens, then the completions (each completion weighs
#: the same, however long); "dapo" (trl 1.16's default) averages every token of the step (a long
#: completion weighs more: no length bias).
GRPO_LOSS_TYPES = ("grpo", "dapo")
#: Each loss type in a few words, for the result header and report.md.
GRPO_LOSS_WORDS = {"grpo": "each completion weighs the same", "dapo": "each token weighs the same, trl's default"}

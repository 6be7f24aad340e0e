"""What an align run shows beside its steps: the monitor (greedy summaries of held-out dialogues,
ROUGE-L, not optimized) and its filmstrip frames, DPO's before / after samples, samples.csv."""

from __future__ import annotations

import csv
import io

from playground.core.align.events import MonitorEvent


def greedy(model, tok, prompts, max_new_tokens):
    import torch

    from playground.core.align.policy import encode_prompts

    from playground.core.decoding.decode_speed import decode_threads, intra_op_threads

    device = next(model.parameters()).device
    ids, mask = encode_prompts(tok, prompts, device)
    with torch.no_grad(), intra_op_threads(decode_threads(str(device))):  # the decode step's thread rule
        out = model.generate(input_ids=ids, attention_mask=mask, do_sample=False, max_new_tokens=max_new_tokens,
                             pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id)
    return [tok.decode(o[ids.size(1):], skip_special_tokens=True).strip() for o in out]



def monitor(model, tok, test, cfg, step, history, reward_fn=None, sampler=None) -> MonitorEvent:
    """The monitor metric, and the filmstrip: the same held-out dialogues' greedy summaries at
    this step, each with the reward it would earn, beside the latest step's KL. ``sampler``: the model
    that writes them, where the run writes its completions with a BF16 copy of the policy (every
    monitor step of the run the same way)."""
    from playground.core.align.rewards import call_reward, rouge_l_reward

    pairs = test[:cfg.training.monitor_examples]
    prompts, refs = [p.prompt for p in pairs], [p.chosen for p in pairs]
    outs = greedy(sampler or model, tok, prompts, cfg.method.max_new_tokens)
    scores = rouge_l_reward(outs, refs)
    value = sum(scores) / max(1, len(scores))
    rewards = [None] * len(outs)
    if reward_fn is not None and outs:
        rewards = [float(r) for r in call_reward(reward_fn, outs, refs, prompts)]
    kl = history["steps"][-1].get("kl") if history["steps"] else 0.0
    samples = [{"prompt_id": p.id, "completion": o, "reference": p.chosen, "reward": r, "rouge_l": sc}
               for p, o, r, sc in zip(pairs, outs, rewards, scores)]
    history["monitor"].append({"step": step, "rouge_l": value, "kl": kl, "samples": samples})
    return MonitorEvent(step, value, samples, kl)



def dpo_samples(model, tok, test, cfg) -> list:
    from playground.core.align.policy import reference

    pairs = test[:cfg.training.monitor_examples]
    prompts = [p.prompt for p in pairs]
    after = greedy(model, tok, prompts, cfg.method.max_new_tokens)
    with reference(model):
        before = greedy(model, tok, prompts, cfg.method.max_new_tokens)
    return [{"prompt_id": p.id, "before": b, "after": a} for p, b, a in zip(pairs, before, after)]



def samples_csv(history) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["step", "completion", "reward"])
    for row in history["steps"]:
        for s in row.get("samples", []):
            w.writerow([row["step"], s["completion"], f"{s['reward']:.6g}"])
    return buf.getvalue()

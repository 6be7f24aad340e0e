"""The notebook section of a Benchmarks run: the same items scored again in plain torch, by the harness's rules,
so a learner can check the app's log-likelihoods, acc and acc_norm cell by cell."""

from __future__ import annotations

from playground.core.base.errors import InputError


def _lit(value) -> str:
    return repr(value)


def benchmark_cells(p: dict) -> list[tuple[str, str]]:
    """``contexts``, ``choices``, ``gold`` and the app's ``logliks`` for one system on one benchmark, with its
    ``provenance``. The setup cell before it defines ``model`` and ``tokenizer``."""
    contexts, choices, gold = list(p.get("contexts", [])), list(p.get("choices", [])), list(p.get("gold", []))
    if not contexts or not (len(contexts) == len(choices) == len(gold)):
        raise InputError("There is no finished benchmark run to export.",
                         "Score a benchmark in Evaluate → Benchmarks first.")
    prov = p.get("provenance") or {}
    who = " · ".join(str(prov[k]) for k in ("model", "adapter", "precision", "prompt") if prov.get(k))
    return [("markdown", f"## Benchmark: {p.get('benchmark', '')} ({p.get('system', '')})\n\nEach choice is scored "
             "as lm-evaluation-harness scores it: the context, one space, the choice; the tokens of the whole text "
             "after the context's tokens are the choice's; their log-probabilities add up to its log-likelihood. "
             "`acc` picks the highest total, `acc_norm` the highest per byte of the choice."
             + (f"\n\nThe app's scores came from: {who}." if who else "")),
            ("code", f'''contexts = {_lit(contexts)}
choices = {_lit(choices)}
gold = {_lit(gold)}
app_logliks = {_lit(p.get("logliks", []))}


def loglikelihood(context, continuation):
    spaces = len(context) - len(context.rstrip())
    if spaces:
        context, continuation = context[:-spaces], context[-spaces:] + continuation
    whole = tokenizer.encode(context + continuation)
    n = len(tokenizer.encode(context))
    with torch.no_grad():
        logp = torch.log_softmax(model(torch.tensor([whole])).logits[0].float(), dim=-1)
    return sum(float(logp[i - 1, whole[i]]) for i in range(n, len(whole)))


logliks = [[loglikelihood(c, " " + choice) for choice in options] for c, options in zip(contexts, choices)]
acc = sum(max(range(len(l)), key=l.__getitem__) == g for l, g in zip(logliks, gold)) / len(gold)
per_byte = [[v / len(o.encode("utf-8")) for v, o in zip(l, options)] for l, options in zip(logliks, choices)]
acc_norm = sum(max(range(len(l)), key=l.__getitem__) == g for l, g in zip(per_byte, gold)) / len(gold)
diff = max((abs(a - b) for la, lb in zip(logliks, app_logliks) for a, b in zip(la, lb)), default=0.0)
results["benchmark"] = {{"acc": acc, "acc_norm": acc_norm, "largest_difference_from_app": diff}}
print(f"acc {{100 * acc:.1f}}%, acc_norm {{100 * acc_norm:.1f}}% on {{len(gold)}} items; "
      f"largest difference from the app's log-likelihoods: {{diff:.2e}}")''')]

"""The Pruning section as notebook cells that rerun offline with plain torch / transformers: unstructured
pruning with ``torch.nn.utils.prune`` itself, heads and layers as the app removed them, then the same
figures as the app (perplexity, KL from the dense model, top-1 agreement, greedy text, decode speed)."""

from __future__ import annotations

import json

from playground.core.base.errors import InputError


def _lit(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def pruning_experiment(row, texts, prompt: str, new_tokens: int) -> dict | None:
    """The experiment of one finished pruning run (a ``PruningRow``), or None when there is none."""
    if row is None or row.method == "dense":
        return None
    plan = {str(k): list(v) for k, v in row.plan.items()} if isinstance(row.plan, dict) else list(row.plan)
    return {"kind": "pruning", "method": row.method, "sparsity": row.sparsity, "plan": plan,
            "texts": list(texts), "prompt": prompt, "new_tokens": int(new_tokens),
            "app": {"perplexity": row.perplexity, "kl": row.kl, "top1": row.top1, "params": row.params}}


def pruning_cells(p: dict) -> list[tuple[str, str]]:
    """``method`` (global | layer | heads | layers), ``sparsity`` (0-0.99), ``plan`` (the heads or layers the
    app removed), ``texts``, ``prompt``, ``new_tokens``, ``app`` (the app's figures, for comparison)."""
    method = p.get("method")
    if method not in ("global", "layer", "heads", "layers") or not p.get("texts"):
        raise InputError("There is no pruning run to export yet.", "Run a pruning in the Lifecycle tab first.")
    app = p.get("app") or {}
    shown = (f" The app measured perplexity {app['perplexity']:.2f}, KL {app['kl']:.4f} nats and top-1 agreement "
             f"{app['top1']:.1%}." if app.get("perplexity") is not None else "")
    how = {"global": "`torch.nn.utils.prune.global_unstructured` with `L1Unstructured`: one magnitude cut over every "
                     "linear layer of the decoder (the tied embedding / LM head stays whole)",
           "layer": "`torch.nn.utils.prune.l1_unstructured` on each linear layer of the decoder: the same share of "
                    "each matrix (the tied embedding / LM head stays whole)",
           "heads": "the heads the app removed (ranked by the loss change when masked), masked here by zeroing "
                    "their columns of the output projection: the same logits as removing them, without the "
                    "reshaping (so no speed-up here)",
           "layers": "the layers the app dropped (ranked by the loss change when skipped), removed from the model"
           }[method]
    return [("markdown", f"## Pruning: {method}, {p.get('sparsity', 0):.0%}\n\nThe model pruned with {how}, then "
             "measured against the dense model on the same texts: perplexity, the mean KL divergence of the "
             "next-token distributions, the share of equal top-1 tokens, and the greedy text." + shown),
            ("code", f"""import copy, math, time
from torch.nn.utils import prune as torch_prune

method, sparsity, plan = {_lit(method)}, {float(p.get("sparsity", 0))!r}, {_lit(p.get("plan") or [])}
texts = {_lit(list(p["texts"]))}
prune_prompt, new_tokens = {_lit(p.get("prompt", ""))}, {int(p.get("new_tokens", 24))}
dense = model.eval()
pruned = copy.deepcopy(dense).eval()
head = pruned.get_output_embeddings()
linears = [m for n, m in pruned.named_modules() if isinstance(m, torch.nn.Linear) and m is not head]
if method == "global":
    torch_prune.global_unstructured([(m, "weight") for m in linears], pruning_method=torch_prune.L1Unstructured,
                                    amount=sparsity)
elif method == "layer":
    for m in linears:
        torch_prune.l1_unstructured(m, "weight", amount=sparsity)
if method in ("global", "layer"):
    for m in linears:
        torch_prune.remove(m, "weight")  # the zeros stay in the dense weight: same size, same speed
elif method == "heads":
    with torch.no_grad():
        for layer, heads in plan.items():
            attn = pruned.model.layers[int(layer)].self_attn
            for h in heads:
                attn.o_proj.weight[:, h * attn.head_dim:(h + 1) * attn.head_dim] = 0
else:
    keep = [block for i, block in enumerate(pruned.model.layers) if i not in set(plan)]
    for i, block in enumerate(keep):
        block.self_attn.layer_idx = i  # the KV cache is indexed by layer
    pruned.model.layers = torch.nn.ModuleList(keep)
    pruned.config.num_hidden_layers = len(keep)


def logits_of(m):
    out = []
    with torch.no_grad():
        for text in texts:
            ids = tokenizer(text, return_tensors="pt").input_ids
            if ids.shape[1] >= 2:
                out.append((ids, m(input_ids=ids).logits[0].float()))
    return out


def greedy(m):
    ids = tokenizer(prune_prompt, return_tensors="pt").input_ids
    start = time.perf_counter()
    with torch.no_grad():
        out = m.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=new_tokens, do_sample=False,
                         temperature=None, top_k=None, top_p=None)[0, ids.shape[1]:]
    return out.tolist(), len(out) / (time.perf_counter() - start)


reference, other = logits_of(dense), logits_of(pruned)
nll = sum(-torch.log_softmax(lg[:-1], -1).gather(1, ids[0, 1:, None]).sum().item() for ids, lg in other)
count = sum(ids.shape[1] - 1 for ids, _ in other)
kl = agree = positions = 0
for (_, p_logits), (_, q_logits) in zip(reference, other):
    lp, lq = torch.log_softmax(p_logits, -1), torch.log_softmax(q_logits, -1)
    kl += (lp.exp() * (lp - lq)).sum(-1).clamp_min(0).sum().item()
    agree += (p_logits.argmax(-1) == q_logits.argmax(-1)).sum().item()
    positions += p_logits.shape[0]
dense_tokens, dense_speed = greedy(dense)
tokens, speed = greedy(pruned)
zeros = sum(int((m.weight == 0).sum()) for m in linears) / sum(m.weight.numel() for m in linears)
results.setdefault("pruning", []).append({{
    "method": method, "perplexity": math.exp(nll / count), "kl": kl / positions, "top1": agree / positions,
    "tokens": tokens, "dense_tokens": dense_tokens, "params": sum(q.numel() for q in pruned.parameters()),
    "zeros": zeros}})
print(f"perplexity {{math.exp(nll / count):.2f}}, KL {{kl / positions:.4f}} nats, top-1 agreement "
      f"{{agree / positions:.1%}}, {{zeros:.1%}} of the linear weights are zero")
print(f"decode: dense {{dense_speed:.1f}} tok/s, pruned {{speed:.1f}} tok/s")
print("dense: ", repr(tokenizer.decode(dense_tokens)))
print("pruned:", repr(tokenizer.decode(tokens)))""")]

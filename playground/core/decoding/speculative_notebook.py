"""The Speculative decoding section as a notebook experiment: the same prompt decoded by transformers'
own assisted generation (``generate(..., assistant_model=...)``, or ``assistant_early_exit=N`` for the
target's first N layers) and by plain greedy decoding, timed; the texts compared with the app's."""

from __future__ import annotations

import json

from playground.core.decoding.speculative_settings import layers_of


def speculative_experiment(run, settings, totals: dict, speed=None) -> dict:
    """A finished (or partial) speculative run as plain data for the notebook."""
    tok = run.target.tokenizer
    prompt = tok.decode(run.prompt_ids) if tok is not None else ""
    return {"kind": "speculative", "prompt": prompt, "draft": settings.draft, "gamma": settings.gamma,
            "max_new_tokens": settings.max_new_tokens, "do_sample": settings.sampling.do_sample,
            "greedy": settings.sampling.greedy, "tokens": list(run.tokens),
            "acceptance_rate": totals.get("acceptance_rate"), "tokens_per_target_pass": totals.get("tokens_per_target_pass"),
            "speed_up": speed.factor if speed is not None else None}


def speculative_cells(p: dict) -> list[tuple[str, str]]:
    """``prompt`` (as the model read it), ``draft`` ('layers:N' or a folder), ``gamma``, ``max_new_tokens``,
    ``tokens`` (the app's), ``greedy``."""
    lit = lambda v: json.dumps(v, ensure_ascii=False)  # noqa: E731
    n = layers_of(p.get("draft", ""))
    if n is not None:
        draft_code = f"assist = {{\"assistant_early_exit\": {n}}}  # the target's first {n} layers, its norm and head"
    else:
        draft_code = (f"from transformers import AutoModelForCausalLM\n\nassist = {{\"assistant_model\": "
                      f"AutoModelForCausalLM.from_pretrained({lit(p.get('draft', ''))}).eval()}}")
    note = ("" if p.get("greedy", True) else
            "\n\nThe app sampled; this notebook decodes greedily, where the output must equal plain greedy "
            "token for token (sampled outputs agree only in distribution).")
    return [("markdown", "## Speculative decoding\n\nA draft proposes tokens and the model verifies them in one "
             "pass; with greedy decoding the text must equal the model's own greedy text. transformers' assisted "
             f"generation runs the same idea, here with γ = {int(p.get('gamma', 4))} proposed tokens per round."
             + note),
            ("code", f"""import time

{draft_code}
prompt = {lit(p.get("prompt", ""))}
ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)["input_ids"]
n_new = {int(p.get("max_new_tokens", 48))}


def timed(**kw):
    t0 = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=n_new, do_sample=False,
                             temperature=None, top_k=None, top_p=None, **kw)
    return out[0, ids.shape[1]:].tolist(), time.perf_counter() - t0


model.generation_config.num_assistant_tokens = {int(p.get("gamma", 4))}
model.generation_config.num_assistant_tokens_schedule = "constant"
plain, t_plain = timed()
spec, t_spec = timed(**assist)
app = {lit(list(p.get("tokens", [])))}
print("assisted == plain greedy:", spec == plain, "· the app's tokens match:", plain[:len(app)] == app)
print(f"plain {{len(plain) / t_plain:.1f}} tokens/s, assisted {{len(spec) / t_spec:.1f}} tokens/s: "
      f"speed-up x{{t_plain / t_spec * len(spec) / max(len(plain), 1):.2f}}")
results["speculative"] = {{"same_as_plain": spec == plain, "app_matches": plain[:len(app)] == app,
                          "speed_up": t_plain / t_spec * len(spec) / max(len(plain), 1)}}""")]

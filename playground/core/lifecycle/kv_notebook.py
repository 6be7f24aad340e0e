"""The KV cache section as a notebook experiment: the bytes-per-token arithmetic from the config, checked
against the cache tensors of a greedy generate (transformers 5: ``out.cache``, ``cache.layers[i].keys``),
and time per token with vs without the cache at the lengths the app timed."""

from __future__ import annotations

import json


def kv_cache_experiment(stepper, points=()) -> dict:
    """The stepped generation (prompt, greedy tokens) and the app's figures, as plain data."""
    shape = stepper.shape
    return {"kind": "kv_cache", "prompt": stepper.prompt, "new_tokens": len(stepper.generated_ids),
            "tokens": list(stepper.generated_ids), "bytes_per_token": shape.bytes_per_token,
            "mha_bytes_per_token": shape.mha_bytes_per_token,
            "lengths": [p.length for p in points] or [64, 256],
            "app_with_ms": [round(p.with_cache_s * 1000, 2) for p in points],
            "app_without_ms": [round(p.without_cache_s * 1000, 2) for p in points]}


def kv_cache_cells(p: dict) -> list[tuple[str, str]]:
    """``prompt``, ``new_tokens``, ``tokens`` (the app's greedy ids), ``bytes_per_token``, ``lengths``."""
    lit = lambda v: json.dumps(v, ensure_ascii=False)  # noqa: E731
    return [("markdown", "## The KV cache\n\nEvery layer keeps a key and a value vector per KV head for every "
             "token read, so one token costs 2 × layers × KV heads × head size × bytes per value. Below: that sum "
             "from the config, the same number measured on the cache a greedy generation leaves behind, and the "
             "time of one new token fed on the cache against recomputing the whole prefix without it."),
            ("code", f"""import time

cfg = model.config.get_text_config()
kv_heads = getattr(cfg, "num_key_value_heads", None) or cfg.num_attention_heads
head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
value_bytes = next(model.parameters()).element_size()
bytes_per_token = 2 * cfg.num_hidden_layers * kv_heads * head_dim * value_bytes
mha_bytes_per_token = 2 * cfg.num_hidden_layers * cfg.num_attention_heads * head_dim * value_bytes
print(f"2 x {{cfg.num_hidden_layers}} layers x {{kv_heads}} KV heads x {{head_dim}} x {{value_bytes}} bytes = "
      f"{{bytes_per_token:,}} bytes per token (full multi-head: {{mha_bytes_per_token:,}})")

prompt = {lit(p.get("prompt", ""))}
ids = prompt_ids(prompt)
with torch.inference_mode():
    out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens={int(p.get("new_tokens", 8))},
                         do_sample=False, temperature=None, top_k=None, top_p=None, return_dict_in_generate=True)
cache = out.cache
measured = sum(t.numel() * t.element_size() for layer in cache.layers for t in (layer.keys, layer.values))
positions = cache.get_seq_length()
new_ids = out.sequences[0, ids.shape[1]:].tolist()
app_ids = {lit(list(p.get("tokens", [])))}
print(f"{{positions}} cached positions: {{measured:,}} bytes measured, {{positions * bytes_per_token:,}} computed")
print("same greedy tokens as the app:", new_ids[:len(app_ids)] == app_ids)
results["kv_cache"] = {{"bytes_per_token": bytes_per_token, "measured_bytes": measured, "positions": positions,
                       "same_tokens": new_ids[:len(app_ids)] == app_ids}}"""),
            ("code", f"""def median_time(fn, repeats=3):
    times = []
    for _ in range(repeats + 1):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return sorted(times[1:])[len(times[1:]) // 2]


filler = prompt_ids(prompt)[0].tolist()
timing = []
for length in {lit(list(p.get("lengths", [64, 256])))}:
    seq = (filler * (length // len(filler) + 2))[:length + 1]
    with torch.inference_mode():
        prefix = model(input_ids=torch.tensor([seq[:length]]), use_cache=True)
        new = torch.tensor([seq[length:length + 1]])

        def with_cache():
            model(input_ids=new, cache=prefix.cache, use_cache=True)
            prefix.cache.crop(-1)  # forget the timed token again (transformers 5: a negative count)

        def without_cache():
            model(input_ids=torch.tensor([seq]), use_cache=False, logits_to_keep=1)

        w, wo = median_time(with_cache), median_time(without_cache)
    timing.append({{"length": length, "with_ms": w * 1000, "without_ms": wo * 1000}})
    print(f"{{length:>6}} tokens: {{w * 1000:7.1f}} ms with the cache, {{wo * 1000:7.1f}} ms without")
results["kv_cache"]["timing"] = timing""")]

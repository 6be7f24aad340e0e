"""What the tabs hold now, as notebook experiments (core.notebook builds the notebook)."""

from __future__ import annotations


def model_ref(loaded) -> dict:
    """How the notebook finds the model: the bundled one as the app does, any other by its folder."""
    kind = "bundled" if loaded.source.kind == "bundled" else "local"
    return {"kind": kind, "ref": "" if kind == "bundled" else (loaded.info.folder or loaded.source.ref),
            "name": loaded.info.name, "encoder_decoder": bool(loaded.is_encoder_decoder)}


def _prompt(p) -> dict | None:
    cols = [c for c in p.compare_view.columns if c.result is not None and c.result.done]
    if not cols:
        return None
    run = p.last_run()
    return {"kind": "prompt_comparison", "reference": run.get("reference", ""),
            "settings": run.get("settings") or p.settings().to_dict(),
            "variants": [{"label": c.title.text().replace("<b>", "").replace("</b>", ""), "prompt": c.result.prompt}
                         for c in cols]}


def _generation(p) -> dict | None:
    if not getattr(p, "output_text", ""):
        return None
    return {"kind": "generation", "prompt": p.full_prompt(), "settings": p.settings_from_controls().to_dict()}


def _next_token(p) -> dict | None:
    stepper = getattr(p, "stepper", None)
    if stepper is None or not getattr(p, "steps", ()):
        return None
    s = p.controls.settings()
    return {"kind": "next_token", "prompt": stepper.prompt, "temperature": s.temperature, "top_k": s.top_k,
            "top_p": s.top_p, "do_sample": s.do_sample, "top_n": 10}


def _attention(p) -> dict | None:
    result = getattr(p, "result", None)
    if result is None or "self" not in result.maps:
        return None
    name, layer, head = p.selection()
    return {"kind": "attention", "text": result.text, "layer": int(layer),
            "head": int(head) if isinstance(head, int) else 0, "row": -1}


def _finetune(p) -> dict | None:
    """The last finished run's settings (method, learning rate, rank, targets, steps) when its report
    is there; else the method alone with a few steps."""
    import json
    from pathlib import Path

    page = p.train_page
    if not page.method:
        return None
    texts = [f"{ex.input}\n{ex.reference}" for ex in _train_examples()[:16]]
    exp = {"kind": "finetune", "method": page.method, "texts": texts, "steps": 4}
    try:
        report = json.loads((Path(page.run_dir) / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return exp
    from playground.core.finetune.methods import METHOD_FACTS

    cfg, m = report.get("config", {}), report.get("method", {})
    lr = cfg.get("training", {}).get("learning_rate", "auto")
    lora, pt = cfg.get("method", {}).get("lora", {}), cfg.get("method", {}).get("prompt_tuning", {})
    exp.update({"run": Path(page.run_dir).name, "app_trainable": m.get("trainable_parameters"),
                "steps": int(report.get("training", {}).get("steps") or 4),
                "learning_rate": float(METHOD_FACTS[page.method].learning_rate if lr == "auto" else lr),
                "lora_r": int(lora.get("rank", 8)), "lora_alpha": int(lora.get("alpha", 16)),
                "target_modules": list(m.get("target_modules") or []),
                "virtual_tokens": int(pt.get("virtual_tokens", 20))})
    return exp


def _train_examples():
    from playground.core.evaluation.datasets import load_split

    try:
        return load_split("train").examples
    except Exception:
        return []


def _evaluation(p) -> dict | None:
    results = list(p.results_view.results)
    if not results or not p.labels:
        return None
    label = p.labels[-1]
    return {"kind": "evaluation", "system": label, "predictions": [r.outputs[label] for r in results],
            "references": [r.example.reference for r in results]}


def _alignment(p) -> dict | None:
    from playground.core.align.job import AlignStepEvent

    rw, op = p.reward, p.optimize
    rm = None
    if getattr(rw, "rm", None) is not None and getattr(rw, "trained_on", None):
        train, test = rw.trained_on
        rm = {"backbone": rw.rm.backbone_kind, "mode": rw.rm.mode,
              "train": [[q.prompt, q.chosen, q.rejected] for q in train],
              "test": [[q.prompt, q.chosen, q.rejected] for q in test], "steps": rw.report.steps,
              "test_accuracy": rw.report.test_accuracy}
    steps = [e for e in op.events if isinstance(e, AlignStepEvent)]
    optimize = None
    if steps:
        cfg, last = op.last_config, steps[-1]
        samples = last.extra.get("samples", [])
        optimize = {"method": cfg.method.name, "beta": cfg.method.beta, "rewards": list(cfg.method.rewards),
                    "weights": list(cfg.method.weights), "target_words": cfg.method.target_words,
                    "word": cfg.method.word, "group_size": cfg.method.group_size,
                    "max_new_tokens": cfg.method.max_new_tokens, "learning_rate": cfg.training.learning_rate,
                    "steps": cfg.training.max_steps, "temperature": cfg.method.temperature,
                    "group": {"completions": [s["completion"] for s in samples],
                              "references": [s.get("reference", "") for s in samples],
                              "rewards": [s["reward"] for s in samples],
                              "advantages": list(last.extra.get("advantages", []))}}
    if rm is None and optimize is None:
        return None
    return {"kind": "alignment", "reward_model": rm, "optimize": optimize}


COLLECTORS = {"prompt_comparison": ("Prompt", _prompt), "generation": ("Generate", _generation),
              "next_token": ("Sampling", _next_token), "attention": ("Inside", _attention),
              "finetune": ("Fine-tune", _finetune), "evaluation": ("Evaluate", _evaluation),
              "alignment": ("Align", _alignment)}


def collect_experiments(panels, kinds=None) -> tuple[list[dict], list[str]]:
    """The experiments the tabs can reproduce now, and a plain line for each wanted one not done yet."""
    by_title = {getattr(p, "title", ""): p for p in panels}
    found, missing = [], []
    for kind in kinds or list(COLLECTORS):
        if kind not in COLLECTORS:
            missing.append(f"{kind}: no tab in this build exports it.")
            continue
        tab, fn = COLLECTORS[kind]
        panel = by_title.get(tab)
        exp = fn(panel) if panel is not None else None
        if exp is None:
            missing.append(f"{kind.replace('_', ' ')}: nothing to export yet (run it in the {tab} tab).")
        else:
            found.append(exp)
    return found, missing

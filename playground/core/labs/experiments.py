"""Notebook experiments made from what a tab holds (core objects in, plain dicts out).

A tab's ``notebook_state()`` gives its experiment; the longer ones are built here, without Qt, so they
can be tested on their own: a fine-tuning run from its folder's report, an alignment from the reward
model and the last policy step.
"""

from __future__ import annotations

import json
from pathlib import Path


def train_texts(count: int = 16) -> list[str]:
    """The first training dialogues with their summaries, as the notebook fine-tunes on them."""
    from playground.core.evaluation.datasets import load_split

    try:
        examples = load_split("train").examples
    except Exception:
        examples = []
    return [f"{ex.input}\n{ex.reference}" for ex in examples[:count]]


def finetune_experiment(method: str, run_dir: str) -> dict | None:
    """The last run's settings (method, learning rate, rank, targets, steps) when its report is in
    ``run_dir``; else the method alone with a few steps; None before any run (no method)."""
    if not method:
        return None
    exp = {"kind": "finetune", "method": method, "texts": train_texts(), "steps": 4}
    try:
        report = json.loads((Path(run_dir) / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return exp
    from playground.core.finetune.methods import METHOD_FACTS

    cfg, m = report.get("config", {}), report.get("method", {})
    lr = cfg.get("training", {}).get("learning_rate", "auto")
    lora, pt = cfg.get("method", {}).get("lora", {}), cfg.get("method", {}).get("prompt_tuning", {})
    exp.update({"run": Path(run_dir).name, "app_trainable": m.get("trainable_parameters"),
                "steps": int(report.get("training", {}).get("steps") or 4),
                "learning_rate": float(METHOD_FACTS[method].learning_rate if lr == "auto" else lr),
                "lora_r": int(lora.get("rank", 8)), "lora_alpha": int(lora.get("alpha", 16)),
                "target_modules": list(m.get("target_modules") or []),
                "virtual_tokens": int(pt.get("virtual_tokens", 20))})
    return exp


def _align_precision(events, config) -> str:
    """The precision the run used: its report's, or (a run stopped before its report) the job's, resolved."""
    for e in events:
        report = getattr(e, "report", None)
        if isinstance(report, dict) and "precision" in report:
            return report["precision"]
    from playground.core.align.run_precision import align_precision

    return align_precision(getattr(config.model, "precision", "no"), "cpu")


def alignment_experiment(rm, rm_report, trained_on, events, config) -> dict | None:
    """The reward model (when trained: its pairs and held-out accuracy) and the last policy step's group
    (when a run has stepped: its settings, completions, rewards and advantages); None when neither."""
    from playground.core.align.events import AlignStepEvent

    reward_model = None
    if rm is not None and trained_on:
        train, test = trained_on
        reward_model = {"backbone": rm.backbone_kind, "mode": rm.mode,
                        "train": [[q.prompt, q.chosen, q.rejected] for q in train],
                        "test": [[q.prompt, q.chosen, q.rejected] for q in test], "steps": rm_report.steps,
                        "test_accuracy": rm_report.test_accuracy}
    steps = [e for e in events if isinstance(e, AlignStepEvent)]
    optimize = None
    if steps:
        method, last = config.method, steps[-1]
        samples = last.extra.get("samples", [])
        optimize = {"method": method.name, "beta": method.beta, "rewards": list(method.rewards),
                    "weights": list(method.weights), "target_words": method.target_words,
                    "word": method.word, "group_size": method.group_size,
                    "max_new_tokens": method.max_new_tokens, "learning_rate": config.training.learning_rate,
                    "steps": config.training.max_steps, "temperature": method.temperature,
                    "loss_type": getattr(method, "loss_type", "grpo"),
                    "precision": _align_precision(events, config),
                    "group": {"completions": [s["completion"] for s in samples],
                              "references": [s.get("reference", "") for s in samples],
                              "rewards": [s["reward"] for s in samples],
                              "advantages": list(last.extra.get("advantages", []))}}
    if reward_model is None and optimize is None:
        return None
    return {"kind": "alignment", "reward_model": reward_model, "optimize": optimize}

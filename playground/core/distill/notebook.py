"""The Distillation section as notebook cells that rerun offline with plain torch / transformers: the
student cut from the model (the layers the app kept), a few steps of the distillation loss on bundled
dialogues beside a hard-label student, and the perplexity of all three on held-out summaries."""

from __future__ import annotations

import json

from playground.core.base.errors import InputError


def _lit(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def distillation_experiment(job, rows, train_texts: list[str], test_texts: list[str]) -> dict:
    """The experiment of a finished run: its settings, the app's figures and the texts to rerun on."""
    return {"kind": "distillation", "distill": job.to_dict()["distill"], "steps": job.training.max_steps,
            "learning_rate": job.learning_rate, "train_texts": list(train_texts), "test_texts": list(test_texts),
            "app": {r.kind: {"perplexity": r.perplexity, "parameters": r.parameters} for r in rows}}


def distillation_cells(p: dict) -> list[tuple[str, str]]:
    """``distill`` (student_layers, temperature, alpha, direction), ``steps``, ``learning_rate``,
    ``train_texts``, ``test_texts`` and ``app`` (the app's perplexities, for comparison)."""
    d = p.get("distill") or {}
    if not p.get("train_texts") or not p.get("test_texts"):
        raise InputError("There is no distillation run to export yet.",
                         "Train the students in Lifecycle → Distillation first.")
    app = p.get("app") or {}
    shown = "; ".join(f"{k} {v['perplexity']:.2f}" for k, v in app.items() if v.get("perplexity") is not None)
    t, alpha = float(d.get("temperature", 2.0)), float(d.get("alpha", 0.5))
    return [("markdown", f"## Distillation: T = {t:g}, α = {alpha:g} (the hard labels' weight)\n\nThe student is "
             "the model with fewer layers (the same tokenizer, embeddings and head). One student learns from "
             "loss = α · CE(labels) + (1 − α) · T² · KL(teacher_T ‖ student_T), another from the labels "
             "alone "
             "(α = 1), for the same steps on the same texts; then the perplexity of all three on held-out "
             "summaries. The app trained on the dialogue-summary prompts and measured on the summaries only, so "
             "the figures differ; the comparison is the point." + (f" The app measured: {shown}." if shown else "")),
            ("code", f"""import copy
import torch.nn.functional as F

keep_layers, T, alpha = {int(d.get("student_layers", 0))}, {t!r}, {alpha!r}
reverse_kl = {d.get("direction") == "reverse"!r}
steps, lr = {int(p.get("steps", 40))}, {float(p.get("learning_rate", 1e-4))!r}
train_texts = {_lit(list(p["train_texts"]))}
test_texts = {_lit(list(p["test_texts"]))}
teacher = model.eval()
n = teacher.config.num_hidden_layers
if keep_layers <= 0:
    kept = list(range(0, n, 2))
else:
    kept = sorted({{round(i * (n - 1) / max(1, keep_layers - 1)) for i in range(keep_layers)}})


def cut_student():
    student = copy.deepcopy(teacher)
    student.model.layers = torch.nn.ModuleList([student.model.layers[i] for i in kept])
    for i, layer in enumerate(student.model.layers):
        layer.self_attn.layer_idx = i
    student.config.num_hidden_layers = len(kept)
    if isinstance(getattr(student.config, "layer_types", None), list):
        student.config.layer_types = [student.config.layer_types[i] for i in kept]
    return student.train()


def train(student, a):
    opt = torch.optim.AdamW(student.parameters(), lr=lr)
    for step in range(steps):
        ids = tokenizer(train_texts[step % len(train_texts)], return_tensors="pt").input_ids[:, :256]
        s = student(input_ids=ids).logits[0, :-1]
        loss = a * F.cross_entropy(s, ids[0, 1:])
        if a < 1:
            with torch.no_grad():
                t = teacher(input_ids=ids).logits[0, :-1]
            ls, lt = F.log_softmax(s / T, -1), F.log_softmax(t / T, -1)
            if reverse_kl:
                ls, lt = lt, ls
            loss = loss + (1 - a) * T * T * (lt.exp() * (lt - ls)).sum(-1).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        opt.step()
        opt.zero_grad()
    return student.eval()


@torch.no_grad()
def perplexity(m):
    nll = count = 0
    for text in test_texts:
        ids = tokenizer(text, return_tensors="pt").input_ids
        nll += F.cross_entropy(m(input_ids=ids).logits[0, :-1], ids[0, 1:], reduction="sum").item()
        count += ids.shape[1] - 1
    return math.exp(nll / count)


import math
torch.manual_seed(0)
soft, hard = train(cut_student(), alpha), train(cut_student(), 1.0)
results["distillation"] = {{name: perplexity(m) for name, m in (("teacher", teacher), ("soft", soft), ("hard", hard))}}
for name, value in results["distillation"].items():
    print(f"{{name:8}} perplexity {{value:.2f}}")""")]

"""Exported notebooks are valid nbformat, and their code, run as one script in a subprocess on the tiny
model, reproduces the app's own numbers (greedy text, ROUGE, next-token probabilities, attention row)."""

import json
import os
import subprocess
import sys

import nbformat
import pytest

from playground.core.base.errors import InputError
from playground.core.decoding.generation import GenerationSettings
from playground.core.labs.notebook import RESULTS_MARK, build_notebook, notebook_script, write_notebook

DIALOGUE = "#Person1#: Lunch at noon?\n#Person2#: Sure, see you at the cafe."
REFERENCE = "#Person1# and #Person2# meet for lunch at noon."
SHOT = ("#Person1#: Tennis tomorrow?\n#Person2#: Yes, at five.", "They will play tennis at five.")


def run_script(nb, tmp_path, stdout: list | None = None):
    script = tmp_path / "notebook.py"
    script.write_text(notebook_script(nb), encoding="utf-8")
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")
    env.pop("PYTHONPATH", None)  # the notebook needs transformers / peft / rouge-score, not the app
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=600,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    if stdout is not None:
        stdout.append(out.stdout)
    line = next(x for x in out.stdout.splitlines() if x.startswith(RESULTS_MARK))
    return json.loads(line[len(RESULTS_MARK):])


def model_ref(loaded, folder):
    return {"kind": "local", "ref": str(folder), "name": loaded.info.name}


def test_prompt_comparison_generation_next_token_and_attention_reproduce_the_app(tiny_llama, tiny_llama_dir, tmp_path):
    from playground.core.attention.extract import extract_attention
    from playground.core.evaluation.datasets import Example
    from playground.core.prompting.lab import Variant, build_variant_prompt, run_variants
    from playground.core.decoding.sampling import next_token_distribution

    shot = Example("s1", SHOT[0], SHOT[1])
    variants = [Variant("0-shot", "tldr"), Variant("1-shot", "tldr", [shot])]
    settings = GenerationSettings.make(max_new_tokens=12, do_sample=False, top_n=0)
    app = [e for e in run_variants(tiny_llama, DIALOGUE, REFERENCE, variants, settings) if e.done]
    prompt = build_variant_prompt(tiny_llama, DIALOGUE, variants[0]).text

    import torch

    from playground.core.decoding.generation import prompt_token_ids
    ids = prompt_token_ids(tiny_llama.tokenizer, prompt)
    with torch.inference_mode():
        logits = tiny_llama.model(input_ids=torch.tensor([ids])).logits[0, -1]
    probs = next_token_distribution(logits, temperature=0.7, top_k=20, top_p=0.9)
    top = probs.topk(10)
    att = extract_attention(tiny_llama, DIALOGUE)
    row = att.matrix("self", 1, 2)[-1]

    experiments = [
        {"kind": "prompt_comparison", "reference": REFERENCE, "settings": settings.to_dict(),
         "variants": [{"label": e.index and "1-shot" or "0-shot", "prompt": e.prompt} for e in app]},
        {"kind": "generation", "prompt": prompt, "settings": settings.to_dict()},
        {"kind": "next_token", "prompt": prompt, "temperature": 0.7, "top_k": 20, "top_p": 0.9, "top_n": 10},
        {"kind": "attention", "text": DIALOGUE, "layer": 1, "head": 2, "row": -1},
    ]
    nb = build_notebook(model_ref(tiny_llama, tiny_llama_dir), experiments, "Lab 1", "In the lab's words.")
    path = tmp_path / "lab1.ipynb"
    write_notebook(nb, path)
    again = nbformat.read(str(path), as_version=4)
    nbformat.validate(again)
    assert [c.cell_type for c in again.cells].count("markdown") >= 5

    got = run_script(again, tmp_path)
    for mine, theirs in zip(app, got["prompt_comparison"]):
        assert theirs["summary"] == mine.summary
        assert theirs["prompt_tokens"] == mine.prompt_tokens
        assert theirs["scores"] == pytest.approx(mine.scores, abs=1e-9)
    assert got["generation"]["text"].strip().split("\n\n")[0].strip() == app[0].summary
    assert got["next_token"]["ids"] == top.indices.tolist()
    assert got["next_token"]["probs"] == pytest.approx(top.values.tolist(), abs=1e-5)
    assert got["attention"]["row"] == pytest.approx(row.tolist(), abs=1e-5)


def test_finetune_and_evaluation_sections_run_and_match_rouge(tiny_llama, tiny_llama_dir, tmp_path):
    from playground.core.evaluation.metrics import rouge

    preds = ["they meet for lunch", "a talk about tennis"]
    refs = ["#Person1# and #Person2# meet for lunch.", "They will play tennis at five."]
    experiments = [{"kind": "finetune", "method": "lora", "texts": [DIALOGUE + "\n" + REFERENCE], "steps": 2},
                   {"kind": "evaluation", "predictions": preds, "references": refs,
                    "provenance": {"model": "tiny", "adapter": "base", "precision": "float32",
                                   "prompt": "template instruction, chat form", "time": "2026-01-01T10:00:00"}}]
    nb = build_notebook(model_ref(tiny_llama, tiny_llama_dir), experiments)
    nbformat.validate(nb)
    printed = []
    got = run_script(nb, tmp_path, printed)
    app = rouge(preds, refs)
    for k in ("rouge1", "rouge2", "rougeL"):
        assert got["evaluation"][k] == pytest.approx(app[k], abs=1e-12)
    # What the notebook prints reads as the app does: one 0-100 scale (issue 28), and where the outputs came from.
    from playground.core.base.units import format_score

    shown = " · ".join(f"{name} {format_score(app[k], k)}" for k, name in
                       (("rouge1", "ROUGE-1"), ("rouge2", "ROUGE-2"), ("rougeL", "ROUGE-L")))
    assert f"{shown} (0-100, as the app shows them)" in printed[0]
    assert "The app's outputs came from: tiny (base, no adapter) · float32 · template instruction, chat form" in \
        "".join(c.source for c in nb.cells if c.cell_type == "markdown")
    ft = got["finetune"]
    assert 0 < ft["trainable"] < ft["total"] and len(ft["losses"]) == 2


def test_nothing_to_export_is_said_plainly():
    with pytest.raises(InputError, match="nothing to export"):
        build_notebook({"kind": "local", "ref": "x"}, [])
    with pytest.raises(InputError, match="no prompt comparison"):
        build_notebook({"kind": "local", "ref": "x"}, [{"kind": "prompt_comparison", "variants": []}])
    with pytest.raises(InputError, match="no notebook section"):
        build_notebook({"kind": "local", "ref": "x"}, [{"kind": "karaoke"}])


def test_a_full_reward_model_is_described_not_replayed_as_a_quick_one():
    from playground.core.align.notebook import alignment_cells

    pair = ["Summarize: lunch.", "They have lunch.", "Rude words."]
    cells = alignment_cells({"reward_model": {"mode": "full", "backbone": "encoder", "steps": 24,
                                              "train": [pair] * 3, "test": [pair] * 2, "test_accuracy": 0.917}})
    kinds = [kind for kind, _ in cells]
    assert kinds == ["markdown", "markdown"]  # no quick head retrained under a full model's name
    text = cells[1][1]
    assert "**full** reward model" in text and "every weight of the bundled encoder" in text
    assert "24 steps, on 3 pairs; held-out accuracy 0.917 on 2 pairs" in text and "does not replay" in text

"""An exported notebook loads what the app used: the base model with the attached run's adapter (peft), or a
fully fine-tuned run's own folder. Run as a script on the tiny Llama with a tiny LoRA run attached, its ROUGE
and next-token figures equal the app's on the adapted model (and differ from the base model's)."""

from __future__ import annotations


import pytest
import torch

from playground.core.decoding.generation import GenerationSettings
from playground.core.finetune.attach import load_attachable, named_for_run
from playground.core.labs.notebook import build_notebook, model_ref
from tests.core.test_notebook import DIALOGUE, run_script


@pytest.fixture
def lora_run(lora_run_and_model):
    """A LoRA run folder on disk (see tests/conftest.py)."""
    return lora_run_and_model[0]


def _app_figures(loaded, reference):
    """What the Prompt and Sampling tabs show for ``loaded``: the greedy summary with its ROUGE, and the
    next-token distribution's top ten."""
    from playground.core.decoding.generation import prompt_token_ids
    from playground.core.decoding.sampling import next_token_distribution
    from playground.core.prompting.lab import Variant, run_variants

    settings = GenerationSettings.make(max_new_tokens=12, do_sample=False, top_n=0)
    done = [e for e in run_variants(loaded, DIALOGUE, reference, [Variant("0-shot", "tldr")], settings) if e.done][0]
    ids = prompt_token_ids(loaded.tokenizer, done.prompt)
    with torch.inference_mode():
        logits = loaded.model(input_ids=torch.tensor([ids])).logits[0, -1]
    top = next_token_distribution(logits, temperature=1.0, top_k=0, top_p=1.0).topk(10)
    return done, settings, top


def test_a_notebook_exported_with_an_adapter_attached_reproduces_the_adapted_models_figures(
        tiny_llama, tmp_path, lora_run):
    adapted = named_for_run(tiny_llama, load_attachable(tiny_llama, lora_run / "adapter", "lora"),
                            lora_run / "adapter", lora_run, "lora")
    assert adapted.info.name.endswith("+ lora-run-3")

    first, _, _ = _app_figures(adapted, "")
    reference = first.summary  # the adapted model's own words: its ROUGE is high, the base's is not
    app, settings, app_top = _app_figures(adapted, reference)
    base, _, base_top = _app_figures(tiny_llama, reference)
    assert base.summary != app.summary and base.scores["rouge1"] < app.scores["rouge1"]
    assert base_top.indices.tolist() != app_top.indices.tolist() or \
        not torch.allclose(base_top.values, app_top.values, atol=1e-3)

    ref = model_ref(adapted)
    assert ref["adapter"] == str(lora_run / "adapter") and ref["ref"] == tiny_llama.info.folder
    experiments = [{"kind": "prompt_comparison", "reference": reference, "settings": settings.to_dict(),
                    "variants": [{"label": "0-shot", "prompt": app.prompt}]},
                   {"kind": "next_token", "prompt": app.prompt, "temperature": 1.0, "top_k": 0, "top_p": 1.0,
                    "top_n": 10},
                   # the app fine-tunes the base, so the notebook takes the adapter off first
                   {"kind": "finetune", "method": "lora", "texts": [DIALOGUE], "steps": 1, "lora_r": 2,
                    "target_modules": ["q_proj"]}]
    nb = build_notebook(ref, experiments, "With an adapter")
    header = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "lora-run-3" in header and "adapter" in header

    got = run_script(nb, tmp_path)
    column = got["prompt_comparison"][0]
    assert column["summary"] == app.summary
    assert column["scores"] == pytest.approx(app.scores, abs=1e-9)
    assert got["next_token"]["ids"] == app_top.indices.tolist()
    assert got["next_token"]["probs"] == pytest.approx(app_top.values.tolist(), abs=1e-5)
    hidden = tiny_llama.model.config.hidden_size
    lora_on_q = 2 * (hidden + hidden) * tiny_llama.model.config.num_hidden_layers  # r=2 on each layer's q_proj
    assert got["finetune"]["trainable"] == lora_on_q  # the run's q/v adapter is not stacked under it


def test_a_fully_fine_tuned_run_is_loaded_from_its_own_folder(tiny_llama, tmp_path):
    from playground.core.models.loading import load_model
    from playground.core.models.sources import ModelSource

    saved = tmp_path / "runs" / "full-run-1" / "model"
    tiny_llama.model.save_pretrained(str(saved))
    tiny_llama.tokenizer.save_pretrained(str(saved))
    trained = load_model(ModelSource("local", str(saved)), device="cpu")
    full = named_for_run(tiny_llama, trained, saved, saved.parent, "full")
    ref = model_ref(full)
    assert ref["kind"] == "local" and ref["ref"] == str(saved) and not ref.get("adapter")
    assert "full-run-1" in ref["name"]


def test_copy_as_python_with_an_adapter_attached_reproduces_the_adapted_model(tiny_llama, tmp_path, lora_run):
    """The Prompt tab's 'Copy as Python' loads what the app used, as the notebook does (it gave the base's)."""
    import subprocess
    import sys

    from playground.core.decoding.generation import generate_text
    from playground.core.prompting.lab import python_snippet

    adapted = named_for_run(tiny_llama, load_attachable(tiny_llama, lora_run / "adapter", "lora"),
                            lora_run / "adapter", lora_run, "lora")
    prompt = "Summarize: " + DIALOGUE
    settings = GenerationSettings.make(max_new_tokens=8, stop_at_eos=False, top_n=0)
    assert generate_text(adapted, prompt, settings) != generate_text(tiny_llama, prompt, settings)
    script = tmp_path / "snippet.py"
    script.write_text(python_snippet(model_ref(adapted), prompt, settings))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.rstrip("\n") == generate_text(adapted, prompt, settings)

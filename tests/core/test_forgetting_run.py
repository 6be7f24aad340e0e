"""The forgetting check of a finished run: the tuned model's margins equal a direct peft computation,
learning is read from the run's validation curve, and a prompt-tuned model is scored on its real
tokens (its virtual tokens come first in the logits)."""

from __future__ import annotations

import copy
import json

import pytest
import torch

from playground.core.base.errors import InputError
from playground.core.lifecycle import forgetting as F
from playground.core.lifecycle import forgetting_run as FR

SMALL = {"questions": [{"q": "What is the capital of France?", "a": ["paris"]}],
         "facts": [{"q": "The capital of France is", "right": " Paris", "wrong": " Madrid"},
                   {"q": "Bees make", "right": " honey", "wrong": " milk"}]}


def _direct_margin(model, tok, fact) -> float:
    def lp(cont):
        ctx = tok(fact["q"], add_special_tokens=False).input_ids
        ids = tok(fact["q"] + cont, add_special_tokens=False).input_ids
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([ids])).logits[0, -len(ids):]
        logp = torch.log_softmax(logits.float(), -1)
        return sum(logp[i - 1, ids[i]].item() for i in range(len(ctx), len(ids)))

    return lp(fact["right"]) - lp(fact["wrong"])


def _tiny_run(tiny_llama_dir, out, method):
    from playground.core.finetune import run_finetune

    cfg = FR.preset(method, out, steps=2, validation_examples=2)
    cfg.model.source, cfg.model.device = str(tiny_llama_dir), "cpu"
    cfg.data.max_train_examples, cfg.data.max_length = 4, 96
    cfg.training.gradient_accumulation_steps = 1
    cfg.method.prompt_tuning.virtual_tokens = 4
    list(run_finetune(cfg.validate()))
    return out


def test_check_run_matches_peft_and_reads_learning(tiny_llama, tiny_llama_dir, tmp_path):
    from peft import PeftModel

    run = _tiny_run(tiny_llama_dir, tmp_path / "lora-run", "lora")
    assert FR.finished_runs(tmp_path) == [run]
    result = FR.check_run(run, base=tiny_llama, probes=SMALL)
    tuned = PeftModel.from_pretrained(copy.deepcopy(tiny_llama.model), str(run / "adapter")).eval()
    direct = [_direct_margin(tuned, tiny_llama.tokenizer, f) for f in SMALL["facts"]]
    assert result.report.after.margins == pytest.approx(direct, abs=1e-4)
    report = json.loads((run / "report.json").read_text())
    val = report["curves"]["validation_loss"]
    assert result.learning == pytest.approx(val[0][1] - val[-1][1])
    assert result.method == "lora" and result.learning_rate == pytest.approx(3e-4) and result.steps == 2
    saved = json.loads((run / FR.RESULT_FILE).read_text())
    assert saved["after"]["facts"] == 2 and "noise floor" in saved["verdict"]
    assert "lora" in FR.format_table([result]) and "noise floor" in FR.format_table([result])
    FR.save_plot([result], tmp_path / "plot.png")
    assert (tmp_path / "plot.png").stat().st_size > 1000


def test_prompt_tuned_margins_skip_the_virtual_tokens(tiny_llama, tiny_llama_dir, tmp_path):
    run = _tiny_run(tiny_llama_dir, tmp_path / "pt-run", "prompt_tuning")
    tuned = FR.load_tuned(run, tiny_llama)
    fact = SMALL["facts"][0]
    # oracle: the base model fed the learned soft prompt's embeddings in front of the tokens
    prompt = tuned.model.get_prompt(batch_size=1).detach()
    tok = tiny_llama.tokenizer

    def lp(cont):
        ctx = tok(fact["q"], add_special_tokens=False).input_ids
        ids = tok(fact["q"] + cont, add_special_tokens=False).input_ids
        emb = tiny_llama.model.get_input_embeddings()(torch.tensor([ids]))
        with torch.no_grad():
            logits = tiny_llama.model(inputs_embeds=torch.cat([prompt, emb], 1)).logits[0, prompt.shape[1]:]
        logp = torch.log_softmax(logits.float(), -1)
        return sum(logp[i - 1, ids[i]].item() for i in range(len(ctx), len(ids)))

    got = F.continuation_logprob(tuned.model, tok, fact["q"], fact["right"])
    assert got == pytest.approx(lp(fact["right"]), abs=1e-4)


def test_not_a_run_and_unknown_method_are_refused(tmp_path):
    with pytest.raises(InputError, match="not a finished fine-tuning run"):
        FR.check_run(tmp_path, probes=SMALL)
    with pytest.raises(InputError, match="Unknown method"):
        FR.preset("qlora", tmp_path)
    stressed = FR.preset("full", tmp_path, stress=True)
    assert stressed.learning_rate == pytest.approx(10 * FR.preset("full", tmp_path).learning_rate)

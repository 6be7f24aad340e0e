import copy
import csv
import io
import json

import pytest
import torch

from playground.core.evaluation.datasets import Example
from playground.core.base.errors import InputError, PlaygroundError
from playground.core.evaluation.report import render_html, results_csv
from playground.core.evaluation.run import (
    ADAPTER,
    FILE,
    K_SHOT,
    ZERO_SHOT,
    SystemSpec,
    run_evaluation,
    score_results,
)
from playground.core.decoding.generation import GenerationSettings, generate_text
from playground.core.base.handle import TaskHandle
from playground.core.evaluation.metrics import rouge
from playground.core.prompting.summarize import build_prompt, clean_summary

EXAMPLES = [Example(f"e{i}", f"#Person1#: Can we meet at {i} pm?\n#Person2#: Yes, see you then.",
                    f"They agree to meet at {i} pm.") for i in range(4)]
TRAIN = [Example(f"t{i}", f"#Person1#: Is the shop open on day {i}?\n#Person2#: No, it is closed.",
                 f"The shop is closed on day {i}.") for i in range(5)]
SETTINGS = GenerationSettings.make(max_new_tokens=8, do_sample=False, top_n=0)


def test_zero_and_k_shot_outputs_match_direct_generation(tiny_llama, tmp_path):
    preds = tmp_path / "preds.jsonl"
    preds.write_text("".join(json.dumps({"id": e.id, "guess": f"meet at {i} pm"}) + "\n"
                             for i, e in enumerate(EXAMPLES)), encoding="utf-8")
    systems = [SystemSpec(ZERO_SHOT), SystemSpec(K_SHOT, shots=2),
               SystemSpec(FILE, predictions_path=str(preds), predictions_column="guess")]
    progress = []
    handle = TaskHandle(lambda p, m: progress.append(p))
    results = list(run_evaluation(tiny_llama, EXAMPLES[:3], systems, train=TRAIN, settings=SETTINGS, handle=handle))
    assert [r.index for r in results] == [0, 1, 2]
    labels = ["zero-shot", "2-shot", "preds.jsonl:guess"]
    ex = EXAMPLES[1]
    assert set(results[1].outputs) == set(labels)
    direct = clean_summary(generate_text(tiny_llama, build_prompt(tiny_llama, ex.input), SETTINGS))
    assert results[1].outputs["zero-shot"] == direct
    assert results[1].outputs["preds.jsonl:guess"] == "meet at 1 pm"
    # Per-pair scores are rouge-score's for that pair.
    expected = rouge([direct], [ex.reference]).per_pair[0]
    assert results[1].scores["zero-shot"] == expected
    assert progress[-1] == 1.0
    reports = score_results(results, labels)
    assert reports["preds.jsonl:guess"].rouge["rouge1"] > reports["zero-shot"].rouge["rouge1"]
    assert reports["zero-shot"].n == 3


def test_stop_keeps_finished_examples_only(tiny_llama):
    handle = TaskHandle()
    gen = run_evaluation(tiny_llama, EXAMPLES, [SystemSpec(ZERO_SHOT)], settings=SETTINGS, handle=handle)
    kept = [next(gen)]
    handle.cancel()
    kept += list(gen)
    assert len(kept) == 1
    reports = score_results(kept, ["zero-shot"])
    assert reports["zero-shot"].n == 1


def _save_lora(base_model, folder, seed=0):
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    peft_model = get_peft_model(copy.deepcopy(base_model),
                                LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    peft_model.save_pretrained(str(folder))
    return folder


def test_adapter_runs_on_a_copy_and_leaves_the_shared_model_alone(tiny_llama, tmp_path):
    from peft import PeftModel

    folder = _save_lora(tiny_llama.model, tmp_path / "lora")
    before = {k: v.clone() for k, v in tiny_llama.model.state_dict().items()}
    results = list(run_evaluation(tiny_llama, EXAMPLES[:2], [SystemSpec(ZERO_SHOT), SystemSpec(ADAPTER, adapter_dir=str(folder))],
                                  settings=SETTINGS))
    label = "adapter lora"
    # The shared model has no LoRA layers and the same weights.
    assert not any("lora" in name for name, _ in tiny_llama.model.named_modules())
    after = tiny_llama.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    # The adapter's output is what peft's model generates.
    ref_model = PeftModel.from_pretrained(copy.deepcopy(tiny_llama.model), str(folder)).eval()
    ref_loaded = copy.copy(tiny_llama)
    ref_loaded.model = ref_model
    prompt = build_prompt(tiny_llama, EXAMPLES[0].input)
    assert results[0].outputs[label] == clean_summary(generate_text(ref_loaded, prompt, SETTINGS))
    assert results[0].outputs[label] != results[0].outputs["zero-shot"]


def test_prompt_tuning_adapter(tiny_llama, tmp_path):
    from peft import PromptTuningConfig, TaskType, get_peft_model

    torch.manual_seed(0)
    pt = get_peft_model(copy.deepcopy(tiny_llama.model),
                        PromptTuningConfig(task_type=TaskType.CAUSAL_LM, num_virtual_tokens=4))
    pt.save_pretrained(str(tmp_path / "pt"))
    results = list(run_evaluation(tiny_llama, EXAMPLES[:1], [SystemSpec(ADAPTER, adapter_dir=str(tmp_path / "pt"))],
                                  settings=SETTINGS))
    assert isinstance(results[0].outputs["adapter pt"], str)
    # The oracle: the peft model's own forward pass, greedy, one token at a time (no cache), with the
    # soft prompt peft puts before the input.
    from playground.core.decoding.generation import check_prompt

    ids = torch.tensor([check_prompt(tiny_llama, build_prompt(tiny_llama, EXAMPLES[0].input), SETTINGS.max_new_tokens)])
    pt.eval()
    new = []
    with torch.no_grad():
        for _ in range(SETTINGS.max_new_tokens):
            token = int(pt(input_ids=ids, attention_mask=torch.ones_like(ids)).logits[0, -1].argmax())
            if token == tiny_llama.tokenizer.eos_token_id:
                break
            new.append(token)
            ids = torch.cat([ids, torch.tensor([[token]])], dim=1)
    expected = clean_summary(tiny_llama.tokenizer.decode(new, skip_special_tokens=True))
    assert results[0].outputs["adapter pt"] == expected


def test_bad_adapters(tiny_llama, tiny_t5, tmp_path):
    with pytest.raises(InputError, match="not an adapter folder"):
        list(run_evaluation(tiny_llama, EXAMPLES[:1], [SystemSpec(ADAPTER, adapter_dir=str(tmp_path))]))
    from peft import LoraConfig, get_peft_model

    t5_lora = get_peft_model(copy.deepcopy(tiny_t5.model), LoraConfig(r=2, target_modules=["q", "v"]))
    t5_lora.save_pretrained(str(tmp_path / "t5lora"))
    with pytest.raises(PlaygroundError, match="does not fit"):
        list(run_evaluation(tiny_llama, EXAMPLES[:1], [SystemSpec(ADAPTER, adapter_dir=str(tmp_path / "t5lora"))]))


def test_bad_plans(tiny_llama):
    with pytest.raises(InputError, match="no rows"):
        list(run_evaluation(tiny_llama, [], [SystemSpec(ZERO_SHOT)]))
    with pytest.raises(InputError, match="at least one system"):
        list(run_evaluation(tiny_llama, EXAMPLES, []))
    with pytest.raises(InputError, match="At most 4"):
        list(run_evaluation(tiny_llama, EXAMPLES, [SystemSpec(K_SHOT, shots=i) for i in range(1, 6)], train=TRAIN))
    with pytest.raises(InputError, match="same name"):
        list(run_evaluation(tiny_llama, EXAMPLES, [SystemSpec(ZERO_SHOT), SystemSpec(ZERO_SHOT)]))
    with pytest.raises(InputError, match="nothing to score"):
        score_results([], ["zero-shot"])
    with pytest.raises(PlaygroundError, match="No model"):
        list(run_evaluation(None, EXAMPLES, [SystemSpec(ZERO_SHOT)]))


def test_encoder_decoder_runs(tiny_t5):
    results = list(run_evaluation(tiny_t5, EXAMPLES[:1], [SystemSpec(ZERO_SHOT)], settings=SETTINGS))
    assert len(results) == 1


def test_csv_and_html_exports(tiny_llama, tmp_path):
    preds = tmp_path / "p.csv"
    preds.write_text("guess\n<b>meet</b> at 0 pm\nmeet at 1 pm\n", encoding="utf-8")
    results = list(run_evaluation(None, EXAMPLES[:2], [SystemSpec(FILE, predictions_path=str(preds),
                                                                    predictions_column="guess")]))
    label = "p.csv:guess"
    rows = list(csv.reader(io.StringIO(results_csv(results, [label]))))
    assert rows[0][:5] == ["id", "topic", "dialogue", "reference", f"{label} output"]
    assert rows[2][0] == "e1" and rows[2][4] == "meet at 1 pm"
    assert rows[0][5] == f"{label} ROUGE-1 F1 (0-100)"  # the app's one scale, as every screen shows it
    assert rows[2][5] == f"{100 * results[1].scores[label]['rouge1'].fmeasure:.1f}"
    reports = score_results(results, [label], n_resamples=100)
    page = render_html(results, reports, dataset="demo", model="none", stopped=True)
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "stopped early" in page
    assert "&lt;b&gt;" in page and "<b>meet</b>" not in page  # texts are escaped
    assert ('<span style="background-color:#ffe08a">meet</span> <span style="background-color:#ffe08a">at</span>'
            in page)  # the output's LCS words are highlighted
    assert "http" not in page.replace("http://www.w3.org/2000/svg", "")  # self-contained


def test_prompt_and_evaluate_ask_the_same_prompt_at_0_shots_and_score_it_the_same(tiny_llama, monkeypatch):
    """Issue 28: the same dialogue at 0 shots scored ROUGE-1 0.312 in Prompt and 29.4 in Evaluate (other
    defaults: no chat template in Evaluate). One default now; the same prompt text, summary and ROUGE-1."""
    from playground.core.evaluation import run as run_module
    from playground.core.evaluation.evaluate_settings import EvaluateSettings
    from playground.core.prompting.lab import Variant, run_variants
    from playground.core.prompting.prompt_settings import PromptSettings
    from playground.core.prompting.prompts import USE_CHAT_TEMPLATE

    evaluate, prompt = EvaluateSettings(), PromptSettings()
    assert evaluate.template == prompt.template and evaluate.use_chat_template == prompt.use_chat_template
    assert evaluate.use_chat_template == USE_CHAT_TEMPLATE
    assert evaluate.generation() == prompt.generation  # greedy, the same token limit
    assert tiny_llama.tokenizer.chat_template  # so the chat-template default really matters here
    ex = EXAMPLES[1]
    [done] = [e for e in run_variants(tiny_llama, ex.input, ex.reference,
                                      [Variant("0-shot", prompt.template_text(), (), prompt.use_chat_template)],
                                      prompt.generation) if e.done]
    asked = []
    real = run_module._generate
    monkeypatch.setattr(run_module, "_generate", lambda m, p, s, c: asked.append(p) or real(m, p, s, c))
    spec = SystemSpec(ZERO_SHOT, template=evaluate.template, use_chat_template=evaluate.use_chat_template)
    [result] = run_evaluation(tiny_llama, [ex], [spec], settings=evaluate.generation(), similarity=False)
    assert asked == [done.prompt] and "<|im_start|>" in done.prompt  # the same prompt text, chat form
    assert result.outputs["zero-shot"] == done.summary
    assert result.scores["zero-shot"]["rouge1"].fmeasure == done.scores["rouge1"]

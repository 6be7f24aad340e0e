"""A foreign adapter is refused or flagged, never half-applied and scored as valid (issue 20, items 2, 7
and the one-sentence shape mismatch of 12)."""

from __future__ import annotations

import json

import pytest

from playground.core.evaluation.datasets import Example
from playground.core.base.errors import InputError, PlaygroundError
from playground.core.evaluation.run import ADAPTER, SystemSpec, load_adapter_copy, run_evaluation
from playground.core.decoding.generation import GenerationSettings

EXAMPLES = [Example("e1", "#Person1#: Tea?\n#Person2#: Yes.", "They have tea.")]
SETTINGS = GenerationSettings.make(max_new_tokens=2, do_sample=False, top_n=0)


def llama(layers: int, hidden: int = 32, seed: int = 1):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    return LlamaForCausalLM(LlamaConfig(vocab_size=49152, hidden_size=hidden, intermediate_size=64,
                                        num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
                                        max_position_embeddings=256, tie_word_embeddings=True))


def save_lora(model, folder, name_or_path="other/model", targets=("q_proj", "v_proj")):
    from peft import LoraConfig, get_peft_model

    peft_model = get_peft_model(model, LoraConfig(r=2, target_modules=list(targets), init_lora_weights=False))
    peft_model.save_pretrained(str(folder))
    cfg_path = folder / "adapter_config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg["base_model_name_or_path"] = name_or_path  # what peft records of the model it trained on
    cfg_path.write_text(json.dumps(cfg), encoding="utf-8")
    return folder


@pytest.mark.bad_input("evaluate --adapter: an adapter from a 3-layer model whose sizes fit the 2-layer one")
def test_an_adapter_with_layers_the_model_lacks_is_refused(tiny_llama, tmp_path, bad_input):
    folder = save_lora(llama(3), tmp_path / "foreign")
    with pytest.raises(PlaygroundError) as err:
        load_adapter_copy(tiny_llama, folder)
    bad_input(err.value)
    assert "does not belong to" in err.value.message and "saved weights have no matching layer" in err.value.message
    assert "layers.2." in err.value.message and "other/model" in err.value.hint
    assert err.value.message.count("\n") == 0


@pytest.mark.bad_input("evaluate --adapter: an adapter from a 1-layer model (the second layer left unadapted)")
def test_an_adapter_that_covers_only_part_of_the_model_is_refused(tiny_llama, tmp_path, bad_input):
    folder = save_lora(llama(1), tmp_path / "half")
    with pytest.raises(PlaygroundError) as err:
        list(run_evaluation(tiny_llama, EXAMPLES, [SystemSpec(ADAPTER, adapter_dir=str(folder))], settings=SETTINGS))
    bad_input(err.value)
    assert "adapted layers of this model have no saved weights" in err.value.message


@pytest.mark.bad_input("evaluate --adapter: layer shapes differ (one sentence, not one line per tensor)")
def test_a_shape_mismatch_is_said_in_one_sentence(tiny_llama, tmp_path, bad_input):
    folder = save_lora(llama(2, hidden=48), tmp_path / "wide")
    with pytest.raises(PlaygroundError) as err:
        load_adapter_copy(tiny_llama, folder)
    text = bad_input(err.value)
    assert "does not fit" in err.value.message and "weights have other shapes" in text
    assert "\n" not in text and text.count("size mismatch") <= 1


@pytest.mark.bad_input("evaluate --adapter: a fitting adapter trained on a differently named base model")
def test_a_fitting_adapter_of_another_name_carries_a_warning_into_the_result(tiny_llama, tmp_path, bad_input):
    folder = save_lora(llama(2), tmp_path / "renamed", name_or_path="someone/else-135M")
    results = list(run_evaluation(tiny_llama, EXAMPLES, [SystemSpec(ADAPTER, adapter_dir=str(folder))],
                                  settings=SETTINGS))
    (warning,) = results[0].warnings.values()
    bad_input(warning)
    assert "trained on someone/else-135M" in warning


def test_an_adapter_of_this_model_loads_without_a_warning(tiny_llama, tmp_path):
    import copy

    folder = save_lora(copy.deepcopy(tiny_llama.model), tmp_path / "own", name_or_path=tiny_llama.info.folder)
    adapted = load_adapter_copy(tiny_llama, folder)
    assert adapted.extras["adapter_warning"] == ""


@pytest.mark.bad_input("evaluate --adapter: adapter_config.json but no weights file")
def test_a_config_without_weights_says_so(tiny_llama, tmp_path, bad_input):
    folder = tmp_path / "empty-adapter"
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA"}), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_adapter_copy(tiny_llama, folder)
    bad_input(err.value)
    assert "no weights" in err.value.message and "Repo id" not in str(err.value)

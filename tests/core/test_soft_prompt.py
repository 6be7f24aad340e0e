"""A prompt-tuned model in the app's own loops gives what peft's model gives."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def prompt_tuned(tiny_llama):
    import copy

    import torch
    from peft import PromptTuningConfig, get_peft_model

    torch.manual_seed(0)
    peft_model = get_peft_model(copy.deepcopy(tiny_llama.model),
                                PromptTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=5))
    with torch.no_grad():  # a soft prompt far from its start, so it visibly changes the output
        peft_model.prompt_encoder["default"].embedding.weight.normal_(0, 2.0)
    peft_model.eval()
    return peft_model


def test_logits_match_peft_on_the_callers_tokens(tiny_llama, prompt_tuned):
    import torch

    from playground.core.models.soft_prompt import with_soft_prompt

    adapted = with_soft_prompt(tiny_llama, prompt_tuned, " + soft prompt")
    ids = torch.tensor([tiny_llama.tokenizer("Summarize this conversation please")["input_ids"]])
    with torch.no_grad():
        ours = adapted.model(input_ids=ids).logits
        theirs = prompt_tuned(input_ids=ids).logits[:, 5:]
        base = tiny_llama.model(input_ids=ids).logits
    assert ours.shape == base.shape
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-5)
    assert not torch.allclose(ours, base, atol=1e-3)


def test_streaming_generation_matches_peft_generate(tiny_llama, prompt_tuned):
    import torch

    from playground.core.decoding.generation import GenerationSettings, stream_generate
    from playground.core.models.soft_prompt import with_soft_prompt

    adapted = with_soft_prompt(tiny_llama, prompt_tuned)
    prompt = "Summarize this conversation please"
    steps = list(stream_generate(adapted, prompt, GenerationSettings.make(max_new_tokens=8, stop_at_eos=False, top_n=0)))
    ids = torch.tensor([tiny_llama.tokenizer(prompt)["input_ids"]])
    with torch.no_grad():
        out = prompt_tuned.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=8,
                                    do_sample=False, eos_token_id=None, min_new_tokens=8)
    new = out[0, -8:].tolist()
    assert [s.token_id for s in steps] == new
    again = adapted.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=8,
                                   do_sample=False, eos_token_id=None, min_new_tokens=8)
    assert again[0, ids.shape[1]:].tolist() == new
    # the shared base model is untouched
    assert adapted.model.base is tiny_llama.model


def test_encoder_decoder_prompt_tuning_is_refused_plainly(tiny_t5):
    from playground.core.base.errors import PlaygroundError
    from playground.core.models.soft_prompt import with_soft_prompt

    with pytest.raises(PlaygroundError, match="Evaluate tab"):
        with_soft_prompt(tiny_t5, None)


def test_inside_views_refuse_a_soft_prompt_plainly(tiny_llama, prompt_tuned):
    from playground.core.attention import extract_attention
    from playground.core.base.errors import PlaygroundError
    from playground.core.models.soft_prompt import with_soft_prompt

    with pytest.raises(PlaygroundError, match="Adapter switch off"):
        extract_attention(with_soft_prompt(tiny_llama, prompt_tuned), "hello there")

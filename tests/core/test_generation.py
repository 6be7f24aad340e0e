import pytest
import torch

from playground.core.base.errors import InputError, PlaygroundError
from playground.core.decoding.generation import (
    GenerationSettings,
    check_prompt,
    count_tokens,
    format_prompt,
    generate_text,
    stream_generate,
)


def test_greedy_matches_transformers_generate(tiny_llama):
    prompt = "The quick brown fox"
    steps = list(stream_generate(tiny_llama, prompt, GenerationSettings.make(max_new_tokens=15, stop_at_eos=False)))
    ids = tiny_llama.tokenizer(prompt, return_tensors="pt")
    ref = tiny_llama.model.generate(**ids, max_new_tokens=15, min_new_tokens=15, do_sample=False)
    assert [s.token_id for s in steps] == ref[0, ids["input_ids"].shape[1]:].tolist()


def test_t5_greedy_matches_transformers_generate(tiny_t5):
    prompt = "Summarize: a b c"
    steps = list(stream_generate(tiny_t5, prompt, GenerationSettings.make(max_new_tokens=8, stop_at_eos=False)))
    ids = tiny_t5.tokenizer(prompt, return_tensors="pt")
    ref = tiny_t5.model.generate(**ids, max_new_tokens=8, min_new_tokens=8, do_sample=False)
    assert [s.token_id for s in steps] == ref[0, 1:].tolist()


def test_each_step_carries_top_20(tiny_llama):
    steps = list(stream_generate(tiny_llama, "Hello", GenerationSettings.make(max_new_tokens=3)))
    for s in steps:
        assert len(s.top_ids) == 20 and len(s.top_tokens) == 20
        assert s.top_probs == sorted(s.top_probs, reverse=True)
        assert 0 < sum(s.top_probs) <= 1.0 + 1e-6
        assert s.top_ids[0] == s.token_id  # greedy takes the most likely token
        assert s.prob == pytest.approx(s.top_probs[0])
    assert [s.index for s in steps] == [0, 1, 2]


def test_text_pieces_join_to_decoded_completion(tiny_llama):
    steps = list(stream_generate(tiny_llama, "Once", GenerationSettings.make(max_new_tokens=10, stop_at_eos=False)))
    text = "".join(s.text for s in steps)
    assert text == tiny_llama.tokenizer.decode([s.token_id for s in steps], skip_special_tokens=True)


def test_seed_makes_sampling_reproducible(tiny_llama):
    s = GenerationSettings.make(max_new_tokens=12, do_sample=True, temperature=1.5, seed=7, stop_at_eos=False)
    a = [x.token_id for x in stream_generate(tiny_llama, "Hi", s)]
    b = [x.token_id for x in stream_generate(tiny_llama, "Hi", s)]
    s = s.with_sampling(seed=8)
    c = [x.token_id for x in stream_generate(tiny_llama, "Hi", s)]
    assert a == b
    assert a != c


def test_cancel_between_tokens(tiny_llama):
    seen = []
    gen = stream_generate(tiny_llama, "Hi", GenerationSettings.make(max_new_tokens=50, stop_at_eos=False),
                          cancelled=lambda: len(seen) >= 3)
    for step in gen:
        seen.append(step)
    assert len(seen) == 3


def test_empty_prompt_refused(tiny_llama):
    with pytest.raises(InputError, match="empty"):
        list(stream_generate(tiny_llama, "   ", GenerationSettings()))
    with pytest.raises(InputError, match="empty"):
        format_prompt(tiny_llama, "", True)


def test_too_long_prompt_names_count_and_limit(tiny_llama):
    prompt = "hello " * 300
    n = count_tokens(tiny_llama, prompt)
    with pytest.raises(InputError) as err:
        check_prompt(tiny_llama, prompt, 10)
    assert f"{n} tokens" in err.value.message and "256 tokens" in err.value.message


def test_prompt_plus_new_tokens_past_window(tiny_llama):
    prompt = "hello " * 200
    assert count_tokens(tiny_llama, prompt) <= 256
    with pytest.raises(InputError, match="context window"):
        check_prompt(tiny_llama, prompt, 100)


def test_bad_settings_refused(tiny_llama):
    with pytest.raises(InputError):
        GenerationSettings.make(max_new_tokens=0).validate()
    with pytest.raises(InputError):
        GenerationSettings.make(do_sample=True, temperature=0).validate()


def test_chat_template_wraps_prompt(tiny_llama):
    text = format_prompt(tiny_llama, "Hi there", True)
    assert "Hi there" in text and text != "Hi there" and "<|im_start|>" in text
    assert format_prompt(tiny_llama, "Hi there", False) == "Hi there"


def test_nan_logits_give_a_message(tiny_llama, monkeypatch):
    model = tiny_llama.model
    orig = model.forward

    def broken(*a, **k):
        out = orig(*a, **k)
        out.logits = torch.full_like(out.logits, float("nan"))
        return out

    monkeypatch.setattr(model, "forward", broken)
    with pytest.raises(PlaygroundError, match="invalid numbers"):
        generate_text(tiny_llama, "Hi", GenerationSettings.make(max_new_tokens=2))


@pytest.mark.bundled
def test_bundled_model_greedy_is_repeatable(bundled_model):
    info = bundled_model.info
    assert (info.num_layers, info.num_heads, info.vocab_size) == (30, 9, 49152)
    assert info.has_chat_template
    prompt = format_prompt(bundled_model, "What is the capital of France?", True)
    s = GenerationSettings.make(max_new_tokens=12)
    first = generate_text(bundled_model, prompt, s)
    assert first == generate_text(bundled_model, prompt, s)
    assert "Paris" in first


def test_token_labels_are_visible(tiny_llama):
    from playground.core.prompting.tokens import token_label

    tok = tiny_llama.tokenizer
    space_id = tok(" or", add_special_tokens=False)["input_ids"][0]
    assert token_label(tok, space_id) == "␣or"
    newline = tok("\n", add_special_tokens=False)["input_ids"][0]
    assert token_label(tok, newline) == "↵"
    assert token_label(tok, tok.eos_token_id) == tok.eos_token


def test_generation_follows_the_sampling_tabs_rules(tiny_llama):
    from playground.core.decoding.sampling import MIN_TEMPERATURE, SamplingSettings, pick_token

    s = GenerationSettings.make(max_new_tokens=5, do_sample=True, top_p=0.0, stop_at_eos=False)
    s.validate()  # top-p 0 is allowed here as in the Sampling tab: it keeps the most likely token
    assert s.sampling == SamplingSettings(do_sample=True, top_p=0.0, seed=0)
    greedy = [x.token_id for x in stream_generate(tiny_llama, "Hi", GenerationSettings.make(max_new_tokens=5,
                                                                                        stop_at_eos=False))]
    assert [x.token_id for x in stream_generate(tiny_llama, "Hi", s)] == greedy
    coldest = GenerationSettings.make(max_new_tokens=5, do_sample=True, temperature=MIN_TEMPERATURE, stop_at_eos=False)
    assert [x.token_id for x in stream_generate(tiny_llama, "Hi", coldest)] == greedy  # minimum temperature = greedy
    with pytest.raises(InputError, match="must be a number"):
        GenerationSettings.make(do_sample=True, temperature=float("nan")).validate()
    # the same token as the Sampling tab's pick for the same logits, seed and settings
    warm = GenerationSettings.make(max_new_tokens=1, do_sample=True, temperature=1.3, top_k=40, top_p=0.9, seed=3)
    first = next(stream_generate(tiny_llama, "Hi", warm))
    ids = torch.tensor([check_prompt(tiny_llama, "Hi")])
    with torch.no_grad():
        logits = tiny_llama.model(input_ids=ids).logits[0, -1].float()
    gen = torch.Generator().manual_seed(3)
    assert first.token_id == pick_token(warm.sampling, logits, gen)[0]


def test_settings_keep_their_flat_file_layout():
    s = GenerationSettings.make(max_new_tokens=9, do_sample=True, temperature=0.7, top_k=5, top_p=0.8, seed=4, top_n=3)
    d = s.to_dict()
    assert d == {"max_new_tokens": 9, "do_sample": True, "temperature": 0.7, "top_k": 5, "top_p": 0.8, "seed": 4,
                 "top_n": 3, "stop_at_eos": True}
    assert GenerationSettings.from_dict({**d, "unknown": 1}) == s
    s = s.with_sampling(seed=8)
    assert s.sampling.seed == 8 and s.to_dict()["seed"] == 8


def test_no_past_key_values_deprecation_warning(tiny_llama, recwarn):
    list(stream_generate(tiny_llama, "Hi", GenerationSettings.make(max_new_tokens=3, stop_at_eos=False)))
    assert not [w for w in recwarn if "past_key_values" in str(w.message)]

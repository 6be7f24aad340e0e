"""Speculative decoding on tiny models: greedy output equals the target's own (transformers' assisted
generation and plain greedy as oracles), each round's record, the totals, and the bad inputs."""

from __future__ import annotations

import pytest

from playground.core.base.errors import InputError
from playground.core.decoding.settings import SamplingSettings
from playground.core.decoding.speculative_settings import SpeculativeSettings
from tests.core.spec_helpers import save_causal

PROMPTS = ["The cat sat on the mat and", "Once upon a time, in a small village,"]
ORACLE_PROMPTS = PROMPTS[:1]


@pytest.fixture(scope="module")
def draft_dir(tmp_path_factory, bundled_tokenizer):
    """A 1-layer random Llama with the bundled tokenizer: another model, same vocabulary."""
    return save_causal(tmp_path_factory.mktemp("spec-draft"), 49152, 1, 3, bundled_tokenizer)


def _spec(loaded, prompt, **kw):
    from playground.core.decoding.speculative_session import open_run

    run, draft = open_run(loaded, prompt, SpeculativeSettings(**kw))
    rounds = list(run.run())
    return run, draft, rounds


def _hf_generate(loaded, prompt, n, assistant=None):
    import torch

    from playground.core.decoding.generation import prompt_token_ids

    ids = torch.tensor([prompt_token_ids(loaded.tokenizer, prompt)])
    kw = {"assistant_model": assistant} if assistant is not None else {}
    with torch.inference_mode():
        out = loaded.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False,
                                    max_new_tokens=n, min_new_tokens=n, **kw)
    return out[0, ids.shape[1]:].tolist()


@pytest.mark.parametrize("prompt", ORACLE_PROMPTS)
def test_greedy_with_a_folder_draft_equals_transformers_assisted_and_plain_greedy(tiny_llama, draft_dir, prompt):
    run, draft, rounds = _spec(tiny_llama, prompt, draft=str(draft_dir), gamma=4, max_new_tokens=12)
    assisted = _hf_generate(tiny_llama, prompt, 12, assistant=draft.loaded.model)
    plain = _hf_generate(tiny_llama, prompt, 12)
    assert assisted == plain  # the oracle agrees with itself
    assert run.tokens == plain
    assert len(run.tokens) == 12
    assert run.target_passes == len(rounds) < 12 or all(r.accepted == 0 for r in rounds)


@pytest.mark.parametrize("layers,gamma", [(1, 3), (2, 4)])
def test_greedy_self_speculative_equals_plain_greedy(tiny_llama, layers, gamma):
    prompt = PROMPTS[0]
    run, draft, rounds = _spec(tiny_llama, prompt, draft=f"layers:{layers}", gamma=gamma, max_new_tokens=14)
    assert run.tokens == _hf_generate(tiny_llama, prompt, 14)
    assert draft.layers == layers
    # a view of the target's own weights: the same tensors, not copies
    assert draft.loaded.model.lm_head.weight is tiny_llama.model.lm_head.weight
    assert draft.loaded.model.model.layers[0] is tiny_llama.model.model.layers[0]
    assert len(draft.loaded.model.model.layers) == layers and len(tiny_llama.model.model.layers) == 2
    if layers == 2:  # the draft is the target: every guess passes and each round ends with a bonus token
        assert all(r.accepted == len(r.proposals) and r.next_kind == "bonus" for r in rounds)
        assert run.totals()["tokens_per_target_pass"] > 1
        assert any("pointless" in n for n in draft.notes)


def test_each_round_is_recorded_as_plain_data(tiny_llama):
    run, _, rounds = _spec(tiny_llama, PROMPTS[1], draft="layers:1", gamma=4, max_new_tokens=20)
    assert sum(len(r.new_tokens) for r in rounds) == len(run.tokens) == 20
    for r in rounds:
        assert r.new_tokens == [p.token_id for p in r.proposals[:r.accepted]] + [r.next_token]
        assert all(p.accepted == (i < r.accepted) for i, p in enumerate(r.proposals))
        if r.rejected_at is not None:
            bad = r.proposals[r.rejected_at]
            assert r.next_kind == "target" and r.next_token == bad.target_top != bad.token_id
            assert r.residual and r.residual[0][0] == r.next_token  # greedy: the target's top is what it takes
        else:
            assert r.next_kind == "bonus" and not r.residual
        d = r.as_dict()
        assert isinstance(d["proposals"][0]["q"], float) if r.proposals else True
    totals = run.totals()
    assert totals["accepted"] == sum(r.accepted for r in rounds)
    assert totals["tokens_per_target_pass"] == pytest.approx(20 / len(rounds))


def test_sampled_rounds_record_residual_and_chances(tiny_llama):
    run, _, rounds = _spec(tiny_llama, PROMPTS[0], draft="layers:1", gamma=3, max_new_tokens=16,
                           sampling=SamplingSettings(do_sample=True, top_k=3, seed=5))
    # top-k 3: the random models' near-flat distributions become three tokens each, often not the same three
    rejected = [r for r in rounds if r.rejected_at is not None]
    assert rejected, "a 1-layer draft of a random 2-layer model is rejected somewhere"
    for r in rejected:
        bad = r.proposals[r.rejected_at]
        assert bad.chance == pytest.approx(min(1.0, bad.p / bad.q), rel=1e-5)
        assert r.next_kind == "resampled"
        assert abs(sum(v for _, _, v in r.residual) - 1.0) < 1.0  # top entries of a normalized residual
        assert r.residual[0][2] >= r.residual[-1][2]
    # same seed, same text
    again, _, _ = _spec(tiny_llama, PROMPTS[0], draft="layers:1", gamma=3, max_new_tokens=16,
                        sampling=SamplingSettings(do_sample=True, top_k=3, seed=5))
    assert again.tokens == run.tokens


def test_measured_speedup_compares_with_plain_decoding_on_the_same_prompt(tiny_llama):
    from playground.core.decoding.speculative_session import measure_speedup

    run, _, _ = _spec(tiny_llama, PROMPTS[0], draft="layers:1", gamma=2, max_new_tokens=8)
    speed = measure_speedup(run)
    assert speed.same_text is True and speed.plain_tokens == run.tokens
    assert speed.spec_tokens == 8 and speed.plain_seconds > 0 and speed.factor > 0


# bad input ----------------------------------------------------------------------------------------

@pytest.mark.bad_input("speculative decoding with γ = 0")
def test_gamma_zero_is_refused(tiny_llama, bad_input):
    with pytest.raises(InputError, match="γ must be a whole number from 1 to 16") as err:
        _spec(tiny_llama, PROMPTS[0], gamma=0, draft="layers:1")
    assert "proposes nothing" in err.value.message
    bad_input(err.value)


@pytest.mark.bad_input("speculative decoding with γ = 100")
def test_gamma_hundred_is_refused(tiny_llama, bad_input):
    with pytest.raises(InputError, match="it is 100") as err:
        _spec(tiny_llama, PROMPTS[0], gamma=100, draft="layers:1")
    bad_input(err.value)


@pytest.mark.bad_input("a draft model with another tokenizer")
def test_draft_with_another_tokenizer_is_refused(tiny_llama, tmp_path, bad_input):
    from transformers import AutoTokenizer

    from playground.core.models.encoder import find_bundled_encoder

    other = AutoTokenizer.from_pretrained(str(find_bundled_encoder()))
    folder = save_causal(tmp_path / "other-tok", len(other), 1, 1, other)
    with pytest.raises(InputError, match="uses another tokenizer") as err:
        _spec(tiny_llama, PROMPTS[0], draft=str(folder), gamma=2)
    bad_input(err.value)


@pytest.mark.bad_input("a draft model with another vocabulary size")
def test_draft_with_another_vocabulary_size_is_refused(tiny_llama, tmp_path, bundled_tokenizer, bad_input):
    folder = save_causal(tmp_path / "wider", 49152 + 64, 1, 1, bundled_tokenizer)
    with pytest.raises(InputError, match="scores 49,216 tokens per step") as err:
        _spec(tiny_llama, PROMPTS[0], draft=str(folder), gamma=2)
    bad_input(err.value)


@pytest.mark.bad_input("a draft larger than the target")
def test_draft_larger_than_target_is_allowed_and_called_pointless(tiny_llama, tmp_path, bundled_tokenizer,
                                                                  bad_input):
    folder = save_causal(tmp_path / "big", 49152, 3, 2, bundled_tokenizer, hidden=48)
    run, draft, _ = _spec(tiny_llama, PROMPTS[0], draft=str(folder), gamma=2, max_new_tokens=6)
    assert run.tokens == _hf_generate(tiny_llama, PROMPTS[0], 6)
    assert any("pointless" in n for n in draft.notes)
    bad_input(draft.notes[0])


@pytest.mark.bad_input("speculative decoding past the context window")
def test_context_longer_than_the_window_is_refused(tiny_llama, bad_input):
    with pytest.raises(InputError, match="context window is 256 tokens") as err:
        _spec(tiny_llama, "word " * 300, draft="layers:1", gamma=2)
    bad_input(err.value)


@pytest.mark.parametrize("spec,words", [("layers:0", "from 1 to 2"), ("layers:9", "from 1 to 2"),
                                        ("layers:x", "not a layer count"), ("/no/such/folder", "no model folder")])
def test_bad_draft_names_are_refused(tiny_llama, spec, words):
    with pytest.raises(InputError, match=words):
        _spec(tiny_llama, PROMPTS[0], draft=spec, gamma=2)


@pytest.mark.bad_input("a self-speculative draft with more layers than the model has")
def test_more_layers_than_the_model_has_is_refused(tiny_llama, bad_input):
    with pytest.raises(InputError, match="from 1 to 2 of the target's layers") as err:
        _spec(tiny_llama, PROMPTS[0], draft="layers:9", gamma=2)
    bad_input(err.value)


def test_settings_round_trip_and_describe():
    s = SpeculativeSettings(draft="/runs/distill/r1/soft/model", gamma=6).with_sampling(do_sample=True, seed=3)
    assert SpeculativeSettings.from_dict(s.to_dict()) == s
    assert s.describe().startswith("draft r1 (soft student) · γ=6 · sample")

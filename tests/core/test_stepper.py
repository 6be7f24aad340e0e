"""The KV-cache stepper gives what a fresh full forward gives, and branches cleanly."""


import pytest
import torch

from playground.core.base.errors import InputError, PlaygroundError
from playground.core.decoding.sampling import SamplingSettings, make_generator
from playground.core.decoding.stepper import TokenStepper, compare_rollouts

PROMPT = "The quick brown fox jumps over"


def fresh_logits(loaded, prompt_ids, tokens):
    """The next-token logits from one full forward pass with no cache."""
    model = loaded.model
    with torch.inference_mode():
        if loaded.is_encoder_decoder:
            start = model.config.decoder_start_token_id
            out = model(input_ids=torch.tensor([prompt_ids]),
                        decoder_input_ids=torch.tensor([[start] + tokens]), use_cache=False)
        else:
            out = model(input_ids=torch.tensor([prompt_ids + tokens]), use_cache=False)
    return out.logits[0, -1].float()


@pytest.fixture(params=["tiny_llama", "tiny_t5"])
def loaded(request):
    return request.getfixturevalue(request.param)


def test_cached_steps_match_a_fresh_forward(loaded):
    stepper = TokenStepper(loaded, PROMPT)
    first = stepper.start()
    assert torch.allclose(first.logits, fresh_logits(loaded, stepper.prompt_ids, []), atol=1e-5)
    gen = make_generator(0)
    for _ in range(6):
        step = stepper.choose(SamplingSettings(do_sample=True, temperature=1.5), gen)
        expect = fresh_logits(loaded, stepper.prompt_ids, stepper.tokens)
        assert torch.allclose(step.logits, expect, atol=1e-4), "cached logits drifted from a full forward"
    assert len(stepper.steps) == 7 and len(stepper.tokens) == 6
    assert stepper.forward_passes == 7  # one per token after the prompt, never the prompt again
    chosen = stepper.steps[2]
    assert chosen.chosen and 0 < chosen.prob < 1 and chosen.final_prob > 0
    assert chosen.prob == pytest.approx(float(chosen.logits.softmax(-1)[chosen.token_id]))


def test_branching_truncates_and_recomputes_from_there(loaded):
    stepper = TokenStepper(loaded, PROMPT)
    stepper.start()
    greedy = SamplingSettings(do_sample=False)
    list(stepper.run(5, greedy))
    before = stepper.steps
    old_token = before[2].token_id
    forced = int(torch.argsort(before[2].logits, descending=True)[7])  # the 8th most likely token
    assert forced != old_token
    step = stepper.branch(2, forced)
    assert stepper.tokens[:2] == [s.token_id for s in before[:2]]
    assert stepper.tokens == stepper.tokens[:2] + [forced] and len(stepper.steps) == 4
    assert stepper.steps[2].how == "forced" and step.index == 3
    assert torch.equal(stepper.steps[2].logits, before[2].logits)  # earlier points are kept, not rerun
    assert torch.allclose(step.logits, fresh_logits(loaded, stepper.prompt_ids, stepper.tokens), atol=1e-4)
    # keep going after the branch: the cropped cache must still line up with the positions
    list(stepper.run(3, greedy))
    assert torch.allclose(stepper.current.logits,
                          fresh_logits(loaded, stepper.prompt_ids, stepper.tokens), atol=1e-4)


def test_rollouts_come_back_to_where_they_started(tiny_llama):
    stepper = TokenStepper(tiny_llama, PROMPT)
    stepper.start()
    stepper.append(stepper.current.logits.argmax().item(), how="greedy")
    here = stepper.steps
    settings = SamplingSettings(do_sample=True, temperature=1.5, seed=3)
    runs = list(compare_rollouts(stepper, 6, settings, runs=5))
    assert [r.label for r in runs] == ["greedy", "seed 3", "seed 4", "seed 5", "seed 6", "seed 7"]
    assert all(len(r.token_ids) == 6 for r in runs)
    assert len({tuple(r.token_ids) for r in runs[1:]}) > 1  # sampling varies across seeds
    assert stepper.steps == here
    again = list(compare_rollouts(stepper, 6, settings, runs=1))
    assert again[1].token_ids == runs[1].token_ids  # same seed, same continuation
    # the greedy rollout is what greedy stepping gives
    list(stepper.run(6, SamplingSettings(do_sample=False)))
    assert stepper.tokens[1:] == runs[0].token_ids


def test_empty_prompt_and_bad_token(tiny_llama):
    with pytest.raises(InputError, match="empty"):
        TokenStepper(tiny_llama, "   ")
    stepper = TokenStepper(tiny_llama, PROMPT)
    stepper.start()
    with pytest.raises(InputError, match="outside the vocabulary"):
        stepper.append(10**6)


def test_context_window_full(tiny_llama):
    stepper = TokenStepper(tiny_llama, "word " * 250)
    stepper.start()
    room = tiny_llama.info.context_window - len(stepper.prompt_ids)
    with pytest.raises(InputError, match="context window is full"):
        list(stepper.run(room + 5, SamplingSettings(do_sample=False)))
    assert len(stepper.tokens) == room


class _BrokenModel(torch.nn.Module):
    """A model that returns NaN scores, as a broken checkpoint would."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.config = inner.config

    def forward(self, **kwargs):
        out = self.inner(**kwargs)
        out.logits = torch.full_like(out.logits, float("nan"))
        return out


def test_nan_from_a_broken_model_is_a_plain_error(tiny_llama):
    from dataclasses import replace

    broken = replace(tiny_llama, model=_BrokenModel(tiny_llama.model))
    stepper = TokenStepper(broken, PROMPT)
    with pytest.raises(PlaygroundError, match="invalid numbers"):
        stepper.start()


def test_a_failed_step_leaves_the_history_and_cache_in_line(tiny_llama):
    from dataclasses import replace

    broken = _BrokenModel(tiny_llama.model)
    healthy_forward = broken.forward
    stepper = TokenStepper(replace(tiny_llama, model=broken), PROMPT)
    broken.forward = lambda **kw: tiny_llama.model(**kw)  # healthy for now
    stepper.start()
    list(stepper.run(2, SamplingSettings(do_sample=False)))
    before = stepper.steps
    broken.forward = healthy_forward  # now it returns NaN
    with pytest.raises(PlaygroundError, match="invalid numbers"):
        stepper.append(5)
    assert stepper.steps == before and stepper._cache.get_seq_length() == len(stepper.prompt_ids) + 2
    broken.forward = lambda **kw: tiny_llama.model(**kw)
    step = stepper.append(5)
    assert torch.allclose(step.logits, fresh_logits(tiny_llama, stepper.prompt_ids, stepper.tokens), atol=1e-4)

"""Parity of the app's sampling with transformers' logits warpers, and the app's own rules."""

import math

import pytest
import torch
from transformers.generation.logits_process import (
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from playground.core.base.errors import PlaygroundError
from playground.core.decoding.sampling import (
    MIN_TEMPERATURE,
    SamplingSettings,
    distribution_stages,
    make_generator,
    next_token_distribution,
    sample_token,
    sort_order,
    stages_for,
)

VOCAB = 49152


def reference(logits, temperature=1.0, top_k=0, top_p=1.0):
    """What transformers' sampling path computes: the warpers in generate's order, then softmax."""
    scores = logits.float()[None]
    ids = torch.zeros((1, 1), dtype=torch.long)
    if temperature != 1.0:
        scores = TemperatureLogitsWarper(temperature)(ids, scores)
    if top_k:
        scores = TopKLogitsWarper(top_k)(ids, scores)
    if top_p < 1.0:
        scores = TopPLogitsWarper(top_p)(ids, scores)
    return scores.softmax(-1)[0]


def random_logits(seed, n=VOCAB, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, generator=g) * scale


SETTINGS = [
    (1.0, 0, 1.0), (0.7, 50, 0.95), (2.0, 0, 0.9), (0.05, 0, 1.0), (0.01, 10, 0.5),
    (1.3, 200, 1.0), (1.0, 0, 0.3), (0.5, 1, 1.0), (1.0, 5, 0.999), (2.0, 100, 0.2),
]


@pytest.mark.parametrize("temperature,top_k,top_p", SETTINGS)
@pytest.mark.parametrize("seed", [0, 1])
def test_matches_transformers_on_random_logits(seed, temperature, top_k, top_p):
    logits = random_logits(seed)
    ours = next_token_distribution(logits, temperature=temperature, top_k=top_k, top_p=top_p)
    theirs = reference(logits, temperature, top_k, top_p)
    assert ours.shape == (VOCAB,)
    assert torch.allclose(ours, theirs, atol=1e-7, rtol=1e-5)
    assert (ours > 0).sum() == (theirs > 0).sum()
    assert math.isclose(float(ours.sum()), 1.0, abs_tol=1e-5)


def test_ties_are_kept_like_transformers():
    logits = torch.tensor([2.0, 5.0, 5.0, 5.0, 1.0, 5.0, -3.0, 0.0])
    for top_k in (1, 2, 3, 4, 5):
        ours = next_token_distribution(logits, top_k=top_k)
        theirs = reference(logits, top_k=top_k)
        assert torch.equal(ours > 0, theirs > 0)
        assert torch.allclose(ours, theirs)
    # all four tied tokens survive top-k=2: ties with the k-th logit are kept
    assert int((next_token_distribution(logits, top_k=2) > 0).sum()) == 4
    for top_p in (0.1, 0.3, 0.6, 0.9):
        assert torch.allclose(next_token_distribution(logits, top_p=top_p), reference(logits, top_p=top_p))


def test_top_k_larger_than_vocabulary_keeps_everything_and_says_so():
    logits = random_logits(3, n=100)
    stages = distribution_stages(logits, top_k=1000)
    assert torch.allclose(stages.final, reference(logits, top_k=1000))
    assert stages.kept == 100 and not stages.removed_top_k.any()
    assert any("larger" in n or "not smaller" in n for n in stages.notes)


@pytest.mark.parametrize("top_p", [1e-6, 0.0, 0.01])
def test_very_small_top_p_keeps_exactly_the_top_token(top_p):
    logits = random_logits(4)
    ours = next_token_distribution(logits, top_p=top_p)
    assert torch.equal(ours, reference(logits, top_p=top_p))
    assert int((ours > 0).sum()) == 1
    assert int(torch.argmax(ours)) == int(torch.argmax(logits)) and float(ours.max()) == 1.0


@pytest.mark.parametrize("temperature", [1e-4, 0.01, 0.05, 0.1, 1.99, 2.0])
def test_temperatures_near_zero_and_at_two(temperature):
    logits = random_logits(5)
    ours = next_token_distribution(logits, temperature=temperature)
    assert torch.allclose(ours, reference(logits, temperature), atol=1e-7, rtol=1e-5)
    plain = logits.softmax(-1)
    if temperature < 1:
        assert ours.max() > plain.max()  # sharper
    else:
        assert ours.max() < plain.max()  # flatter


def test_greedy_puts_all_mass_on_argmax():
    logits = random_logits(6)
    final = next_token_distribution(logits, do_sample=False, temperature=1.7, top_k=5)
    assert float(final.sum()) == 1.0 and float(final[int(torch.argmax(logits))]) == 1.0
    assert int((final > 0).sum()) == 1


def test_stages_say_what_each_filter_removed():
    logits = random_logits(7)
    s = distribution_stages(logits, temperature=0.8, top_k=40, top_p=0.5)
    assert int((~s.removed_top_k).sum()) == 40
    assert not (s.removed_top_k & s.removed_top_p).any()  # a token is cut by one filter only
    kept = ~(s.removed_top_k | s.removed_top_p)
    assert torch.equal(kept, s.final > 0) and s.kept == int(kept.sum()) < 40
    assert torch.allclose(s.tempered, (logits / 0.8).softmax(-1))
    assert math.isclose(float(s.after_top_k.sum()), 1.0, abs_tol=1e-5)
    # top-p keeps the fewest most-likely tokens (after top-k) whose mass passes 0.5
    assert float(s.after_top_k[kept].sum()) > 0.5
    assert s.entropy_bits > 0


def test_entropy_and_kept_count_of_uniform():
    s = distribution_stages(torch.zeros(16))
    assert s.kept == 16 and math.isclose(s.entropy_bits, 4.0, rel_tol=1e-5)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_broken_logits_give_a_plain_message(bad):
    logits = random_logits(8, n=50)
    logits[3] = bad
    with pytest.raises(PlaygroundError, match="invalid numbers"):
        next_token_distribution(logits)
    with pytest.raises(PlaygroundError):
        distribution_stages(torch.full((10,), float("-inf")))


def test_minus_infinity_is_a_masked_token_not_an_error():
    logits = torch.tensor([1.0, float("-inf"), 0.5])
    final = next_token_distribution(logits)
    assert float(final[1]) == 0.0 and math.isclose(float(final.sum()), 1.0, abs_tol=1e-6)


def test_seeded_sampling_repeats_and_follows_the_distribution():
    probs = next_token_distribution(random_logits(9, n=1000), top_k=20)
    a = [sample_token(probs, make_generator(42)) for _ in range(3)]
    assert len(set(a)) == 1
    gen = make_generator(1)
    draws = [sample_token(probs, gen) for _ in range(200)]
    assert all(probs[d] > 0 for d in draws)
    assert len(set(draws)) > 3


def test_minimum_temperature_works_as_greedy_and_says_so():
    logits = random_logits(10)
    s = stages_for(SamplingSettings(do_sample=True, temperature=MIN_TEMPERATURE), logits)
    assert s.greedy and s.kept == 1 and int(torch.argmax(s.final)) == int(torch.argmax(logits))
    assert any("greedy" in n for n in s.notes)
    above = stages_for(SamplingSettings(do_sample=True, temperature=0.1, top_p=0.9), logits)
    assert not above.greedy and not above.notes


@pytest.mark.parametrize("temperature,top_k,top_p", SETTINGS)
def test_a_kept_sort_order_gives_the_same_distribution(temperature, top_k, top_p):
    """The panel sorts once per step; every slider position must still match transformers."""
    logits = random_logits(11)
    order = sort_order(logits)
    kept = distribution_stages(logits, temperature=temperature, top_k=top_k, top_p=top_p, order=order)
    assert torch.equal(kept.final, next_token_distribution(logits, temperature=temperature, top_k=top_k,
                                                           top_p=top_p))
    assert torch.allclose(kept.final, reference(logits, temperature, top_k, top_p), atol=1e-7, rtol=1e-5)


def test_a_kept_sort_order_with_ties_keeps_the_same_number_of_tokens():
    logits = torch.tensor([2.0, 5.0, 5.0, 5.0, 1.0, 5.0, -3.0, 0.0])
    order = sort_order(logits)
    for top_p in (0.1, 0.3, 0.6, 0.9):
        a = distribution_stages(logits, top_p=top_p, order=order).final
        b = reference(logits, top_p=top_p)
        # which of several exactly tied tokens survives is arbitrary (as in transformers), not how many
        assert int((a > 0).sum()) == int((b > 0).sum())
        assert torch.allclose(a.sort().values, b.sort().values)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "0.7"])
def test_non_finite_or_non_numbers_are_refused(bad):
    from playground.core.base.errors import InputError

    with pytest.raises(InputError, match="must be a number"):
        SamplingSettings(temperature=bad).validate()
    with pytest.raises(InputError, match="must be a number"):
        SamplingSettings(top_p=bad).validate()


def test_tokens_whose_probability_underflows_are_not_counted_as_removed():
    # A wide spread of logits at a low temperature: most probabilities underflow to exactly 0 in
    # float32, yet neither top-k nor top-p is on, so every token is still in play.
    logits = torch.linspace(0.0, -60.0, 1000)
    stages = distribution_stages(logits, temperature=0.17)
    assert int((stages.final > 0).sum()) < 1000  # the underflow really happens
    assert not (stages.removed_top_k | stages.removed_top_p).any()
    assert stages.kept == 1000
    # With top-k on, the count is what top-k removed, compared with transformers' own warper.
    from transformers.generation.logits_process import TopKLogitsWarper

    warped = TopKLogitsWarper(top_k=50)(None, (logits / 0.17)[None])[0]
    assert distribution_stages(logits, temperature=0.17, top_k=50).kept == int(torch.isfinite(warped).sum()) == 50

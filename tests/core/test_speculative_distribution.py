"""With sampling, speculative decoding's output follows the target's distribution, not the draft's.

A target and a draft with 5 tokens and peaked, clearly different distributions (trigram models behind
the model interface, so thousands of runs take seconds; their scores depend on what their caches hold,
so a cache cropped wrongly shows too); the first two generated tokens (25 outcomes) are counted over
many seeded runs and compared with the target's exact
distribution (computed from its own scores) by a chi-square test with a generous threshold. The same
test run with a broken acceptance rule (accept everything; resample from p instead of the residual)
must fail, so the test can tell a right rule from a wrong one.
"""

from __future__ import annotations

import pytest
import torch

from playground.core.decoding import speculative
from playground.core.decoding.settings import SamplingSettings
from playground.core.decoding.speculative import SpeculativeRun, accept_round
from playground.core.decoding.speculative_settings import SpeculativeSettings
from tests.core.spec_helpers import markov_lm

VOCAB, PROMPT, RUNS, THRESHOLD = 5, [0, 3, 1], 1200, 1e-4


@pytest.fixture(scope="module")
def pair():
    return markov_lm(VOCAB, seed=11), markov_lm(VOCAB, seed=12)


def _probs(loaded, ids) -> torch.Tensor:
    with torch.inference_mode():
        return loaded.model(input_ids=torch.tensor([ids])).logits[0, -1].float().softmax(-1)


def _exact_two_tokens(target) -> torch.Tensor:
    first = _probs(target, PROMPT)
    return torch.stack([first[a] * _probs(target, PROMPT + [a]) for a in range(VOCAB)]).flatten()


def _counts(target, draft, runs: int = RUNS) -> torch.Tensor:
    counts = torch.zeros(VOCAB * VOCAB)
    for seed in range(runs):
        settings = SpeculativeSettings(draft="tiny", gamma=2, max_new_tokens=3,
                                       sampling=SamplingSettings(do_sample=True, seed=seed))
        run = SpeculativeRun(target, draft, PROMPT, settings)
        while len(run.tokens) < 2:
            run.step()
        counts[run.tokens[0] * VOCAB + run.tokens[1]] += 1
    return counts


def _p_value(counts: torch.Tensor, expected_probs: torch.Tensor) -> float:
    from scipy.stats import chisquare

    expected = expected_probs * counts.sum()
    big = expected >= 5  # small cells pooled into one, as the test requires
    obs = torch.cat([counts[big], counts[~big].sum().reshape(1)])
    exp = torch.cat([expected[big], expected[~big].sum().reshape(1)])
    return float(chisquare(obs.numpy(), exp.numpy() * obs.sum().item() / exp.sum().item()).pvalue)


def test_the_pair_differs_enough_for_the_test_to_mean_something(pair):
    target, draft = pair
    p, q = _probs(target, PROMPT), _probs(draft, PROMPT)
    assert 0.5 * float((p - q).abs().sum()) > 0.2  # total variation between the first-token distributions


def test_sampled_output_follows_the_target_distribution(pair):
    target, draft = pair
    counts = _counts(target, draft)
    assert _p_value(counts, _exact_two_tokens(target)) > THRESHOLD
    # and not the draft's: the same counts against the draft's own two-token distribution
    assert _p_value(counts, _exact_two_tokens(draft)) < THRESHOLD


def _always_accept(p_rows, q_rows, proposed, greedy, generator=None):
    last = p_rows[len(proposed)]
    return speculative.Verdict(len(proposed), int(torch.multinomial(last, 1, generator=generator)), "bonus",
                               0.0, [1.0] * len(proposed), None)


def _resample_from_p(p_rows, q_rows, proposed, greedy, generator=None):
    """The rule with one mistake: a rejected position draws from p instead of norm(max(0, p - q))."""
    for i, tok in enumerate(proposed):
        chance = min(1.0, float(p_rows[i][tok]) / float(q_rows[i][tok]))
        if float(torch.rand((), generator=generator)) >= chance:
            nxt = int(torch.multinomial(p_rows[i], 1, generator=generator))
            return speculative.Verdict(i, nxt, "resampled", 0.0, [], p_rows[i])
    return accept_round(p_rows, q_rows, proposed, greedy, generator)


@pytest.mark.parametrize("broken", [_always_accept, _resample_from_p])
def test_a_broken_acceptance_rule_fails_the_same_test(pair, monkeypatch, broken):
    target, draft = pair
    monkeypatch.setattr(speculative, "accept_round", broken)
    counts = _counts(target, draft)
    assert _p_value(counts, _exact_two_tokens(target)) < THRESHOLD


def test_accept_round_alone_gives_p_for_one_proposal():
    """The rule on fixed p and q (no model): the first token's frequencies match p, not q."""
    gen = torch.Generator().manual_seed(0)
    p = torch.tensor([0.6, 0.3, 0.1, 0.0])
    q = torch.tensor([0.1, 0.2, 0.3, 0.4])
    counts = torch.zeros(4)
    for _ in range(4000):
        d = int(torch.multinomial(q, 1, generator=gen))
        v = accept_round(torch.stack([p, p]), q.unsqueeze(0), [d], False, gen)
        counts[d if v.accepted else v.next_token] += 1
    assert counts[3] == 0  # a token the target never writes is never kept
    freq = counts / counts.sum()
    assert torch.allclose(freq, p, atol=0.03)

import json

import pytest
import torch

from playground.core.lifecycle import forgetting as F


def test_first_sentence_scoring():
    assert F.first_sentence("Paris. It is also known for Madrid.") == "Paris."
    assert F.answer_matches("The capital is Paris. Not Rome.", ["paris"])
    assert not F.answer_matches("I am not sure. Maybe Paris.", ["paris"])  # later sentences do not count
    assert not F.answer_matches("There are 24 of them.", ["4"])  # whole-number match, not a substring
    assert not F.answer_matches("It freezes at -18.0000000001 Celsius.", ["0"])  # a false pass seen by hand
    assert F.answer_matches("It is 4.", ["4"]) and F.answer_matches("It freezes at 0 degrees.", ["0"]) and F.answer_matches("A butterfly.", ["butterfl"])


def test_continuation_logprob_equals_a_direct_sum(tiny_llama):
    model, tok = tiny_llama.model, tiny_llama.tokenizer
    ctx, cont = "The capital of France is", " Paris"
    ids = tok(ctx + cont, add_special_tokens=False).input_ids
    n = len(tok(ctx, add_special_tokens=False).input_ids)
    with torch.no_grad():
        logp = torch.log_softmax(model(input_ids=torch.tensor([ids])).logits[0], -1)
    direct = sum(logp[i - 1, ids[i]].item() for i in range(n, len(ids)))
    assert F.continuation_logprob(model, tok, ctx, cont) == pytest.approx(direct, abs=1e-4)


def test_report_verdict_against_noise_floor():
    before = F.ProbeResult(["a", "b"], [True, True], [2.0, 3.0])
    after = F.ProbeResult(["a", "c"], [True, False], [1.0, -0.5])
    noise = {"replies_changed": 0, "questions_lost": 0, "facts_lost": 0, "margin_change": -0.01}
    text = F.ForgettingReport(before, after, noise).verdict()
    assert "questions 1/2 (was 2)" in text and "facts 1/2 (was 2)" in text and "beyond the noise floor" in text
    assert "mean margin 0.25 nats (-2.25)" in text  # 2.50 -> 0.25, from the values shown
    same = F.ForgettingReport(before, before, noise).verdict()
    assert "within the noise floor" in same
    # A change that rounds to nothing reads ±0.00, never -0.00 (issue 28: one formatter for changes).
    tiny = F.ForgettingReport(before, F.ProbeResult(["a", "b"], [True, True], [2.0, 2.996]),
                              {**noise, "margin_change": -0.004}).verdict()
    assert "(±0.00)" in tiny and "margin ±0.00" in tiny and "-0.00" not in tiny
    json.dumps(F.ForgettingReport(before, after, noise).to_dict())


# That every kept probe still passes on the bundled base is checked by bench/check_probes.py (a ten
# CPU-minute run on a busy machine, too slow for the suite); the probes file's shape is checked here.
def test_the_probes_file_holds_enough_probes():
    probes = F.load_probes()
    assert len(probes["questions"]) >= 10 and len(probes["facts"]) >= 15

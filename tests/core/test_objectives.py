"""Pre-training objectives on a sentence, against hand-written expectations; per-token loss against
a direct cross-entropy."""

from __future__ import annotations

import math

import pytest
import torch

from playground.core.models.objectives import (
    all_objectives,
    causal_lm,
    masked_lm,
    pick_mask_positions,
    pick_spans,
    span_corruption,
    token_losses,
)

TOKENS = ["Thank", "you", "for", "inviting", "me", "to", "your", "party", "last", "week", "."]


def test_causal_lm_shifts_labels_by_one():
    ex = causal_lm(["The", "cat", "sat", "."])
    assert ex.inputs == ["The", "cat", "sat"]
    assert ex.labels == ["cat", "sat", "."]


def test_masked_lm_labels_only_the_masked():
    ex = masked_lm(["The", "cat", "sat", "down", "."], [1, 3])
    assert ex.inputs == ["The", "[MASK]", "sat", "[MASK]", "."]
    assert ex.labels == [None, "cat", None, "down", None]
    assert ex.n_labelled == 2


def test_mask_rate_is_fifteen_percent_and_skips_specials():
    positions = pick_mask_positions(22, 0.15, seed=3, skip={0, 21})
    assert len(positions) == 3 and 0 not in positions and 21 not in positions  # round(0.15 * 20)
    assert pick_mask_positions(3, 0.15) and len(pick_mask_positions(3, 0.15)) == 1  # at least one


def test_span_corruption_matches_the_t5_paper_example():
    # The T5 paper's figure: "Thank you <X> me to your party <Y> week ." / "<X> for inviting <Y> last <Z>"
    inputs, target = span_corruption(TOKENS, [(2, 4), (8, 9)])
    assert inputs == ["Thank", "you", "<extra_id_0>", "me", "to", "your", "party", "<extra_id_1>", "week", "."]
    assert target == ["<extra_id_0>", "for", "inviting", "<extra_id_1>", "last", "<extra_id_2>"]


def test_picked_spans_do_not_touch_and_cover_about_fifteen_percent():
    spans = pick_spans(40, 0.15, 3, seed=1)
    covered = sum(e - s for s, e in spans)
    assert covered == 6
    for (s1, e1), (s2, e2) in zip(spans, spans[1:]):
        assert e1 < s2  # at least one kept token between spans


def test_all_objectives_keep_special_tokens_out_of_masks():
    toks = ["[CLS]"] + TOKENS + ["[SEP]"]
    causal, mlm, span = all_objectives(toks, special={0, len(toks) - 1})
    assert mlm.inputs[0] == "[CLS]" and mlm.inputs[-1] == "[SEP]"
    assert mlm.n_labelled == 2  # round(0.15 * 11)
    assert "[CLS]" not in span.inputs and span.labels[-1].startswith("<extra_id_")


def test_token_losses_equal_direct_cross_entropy(tiny_llama):
    text = "The cat sat on the mat."
    out = token_losses(tiny_llama, text)
    ids = tiny_llama.tokenizer(text, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = tiny_llama.model(input_ids=torch.tensor([ids])).logits[0]
    for j in range(1, len(ids)):
        direct = -torch.log_softmax(logits[j - 1], -1)[ids[j]].item()
        assert out.losses[j] == pytest.approx(direct, abs=1e-4)
    assert out.losses[0] is None and len(out.tokens) == len(ids)
    assert out.perplexity == pytest.approx(math.exp(sum(out.losses[1:]) / (len(ids) - 1)))


def test_token_losses_refuse_an_encoder(tiny_bert_dir):
    from playground.core.base.errors import PlaygroundError
    from playground.core.models.sources import ModelSource
    from playground.core.models.loading import load_model

    loaded = load_model(ModelSource("local", str(tiny_bert_dir)), device="cpu")
    with pytest.raises(PlaygroundError, match="causal"):
        token_losses(loaded, "Hello there")

"""Multiple-choice benchmarks: the bundled files, the harness's scoring (against an independent reference
computation on a tiny model), acc vs acc_norm, intervals, k-shot prompts, systems, and bad input."""

from __future__ import annotations

import json
import math

import pytest

from playground.core.base.errors import InputError
from playground.core.evaluation.benchmark import (
    KINDS,
    BenchItem,
    bundled_benchmark,
    doc_text,
    fewshot_context,
    load_benchmark,
    shots_for,
)
from playground.core.evaluation.benchmark_run import (
    ADAPTER,
    BASE,
    BenchSystem,
    ItemResult,
    SystemStart,
    run_benchmarks,
    summarize,
    wilson_interval,
)
from playground.core.evaluation.benchmark_score import ItemScore, encode_pair, score_item


def reference_logliks(model, tokenizer, context: str, choices) -> list[float]:
    """An independent computation: for each choice, the full text through the model alone (no padding, no
    batching), and the log-probability of every token after the context's tokens, added up one by one."""
    import torch

    out = []
    stripped = context.rstrip()
    for choice in choices:
        text = stripped + context[len(stripped):] + " " + choice
        ids = tokenizer(text)["input_ids"]
        n_ctx = len(tokenizer(stripped)["input_ids"])
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0]
        logp = torch.log_softmax(logits.double(), dim=-1)
        out.append(sum(float(logp[pos - 1, ids[pos]]) for pos in range(n_ctx, len(ids))))
    return out


# --- the bundled files --------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(KINDS))
def test_bundled_files_validate(kind):
    bench = bundled_benchmark(kind)
    assert len(bench.items) >= 25
    assert len({i.id for i in bench.items}) == len(bench.items)
    assert all(len(i.choices) == 4 for i in bench.items)
    # the gold answer sits at every position, so "always the first choice" scores chance
    assert {i.gold for i in bench.items} == {0, 1, 2, 3}
    assert bench.chance == pytest.approx(0.25)
    if kind in ("reading", "dialogue_choice"):
        assert all(i.passage for i in bench.items)


def test_dialogue_items_come_from_the_test_split_with_their_own_summary():
    from playground.core.evaluation.datasets import load_split

    summaries = {ex.id: ex.reference for ex in load_split("test").examples}
    train_ids = {ex.id for ex in load_split("train").examples}
    for item in bundled_benchmark("dialogue_choice").items:
        source = item.id.removeprefix("dialogue-")
        assert source in summaries and source not in train_ids
        assert item.choices[item.gold] == summaries[source]
        assert sum(c in summaries.values() for c in item.choices) == 4


# --- prompts ----------------------------------------------------------------------------------------

def test_prompt_layout_is_the_harness_layout():
    items = [BenchItem(id=str(n), context=f"Q{n}\nAnswer:", choices=("a", "b"), gold=n % 2,
                       passage="P" if n == 0 else "") for n in range(4)]
    assert doc_text(items[0]) == "P\n\nQ0\nAnswer:"
    shots = shots_for(items, 3, 2)
    assert [s.id for s in shots] == ["0", "1"]  # after the item, wrapping round, never the item itself
    assert fewshot_context(items[3], shots) == "P\n\nQ0\nAnswer: a\n\nQ1\nAnswer: b\n\nQ3\nAnswer:"
    with pytest.raises(InputError, match="at least 5 items"):
        shots_for(items, 0, 4)


def test_trailing_space_moves_to_the_continuation(bundled_tokenizer):
    ctx, cont = encode_pair(bundled_tokenizer, "Answer: ", "Paris")
    assert ctx == bundled_tokenizer.encode("Answer:")
    assert ctx + cont == bundled_tokenizer.encode("Answer: Paris")


# --- scoring --------------------------------------------------------------------------------------------

def test_logliks_equal_an_independent_reference_batched_and_one_by_one(tiny_llama):
    bench = bundled_benchmark("reading")
    model, tok = tiny_llama.model, tiny_llama.tokenizer
    for index in (0, 4):
        item = bench.items[index]
        context = fewshot_context(item, shots_for(bench.items, index, 1))
        ref = reference_logliks(model, tok, context, item.choices)
        batched = score_item(model, tok, item, context, batched=True)
        single = score_item(model, tok, item, context, batched=False)
        assert batched.logliks == pytest.approx(ref, abs=1e-4)
        assert single.logliks == pytest.approx(ref, abs=1e-4)
        assert batched.tokens == [len(encode_pair(tok, context, " " + c)[1]) for c in item.choices]
        assert batched.pred == max(range(4), key=lambda i: ref[i])


def test_the_shared_context_is_read_once_and_gives_the_whole_rows_numbers(tiny_llama, monkeypatch):
    import playground.core.evaluation.benchmark_score as scoring

    bench = bundled_benchmark("dialogue_choice")
    model, tok = tiny_llama.model, tiny_llama.tokenizer
    item = bench.items[0]
    context = doc_text(item)
    widths = []
    original = model.forward

    def counting(*args, **kwargs):
        widths.append(tuple(kwargs["input_ids"].shape))
        return original(*args, **kwargs)

    monkeypatch.setattr(model, "forward", counting)
    shared = score_item(model, tok, item, context, batched=True)
    assert len(widths) == 2 and widths[0][0] == 1 and widths[1][0] == len(item.choices)
    context_tokens = len(encode_pair(tok, context, " " + item.choices[0])[0])
    assert widths[0][1] >= context_tokens - 1 and widths[1][1] < context_tokens  # the context went in once
    monkeypatch.setattr(scoring, "SHARED_MIN", 10**6)  # too little shared: every whole row in one padded pass
    widths.clear()
    whole = score_item(model, tok, item, context, batched=True)
    assert len(widths) == 1 and widths[0][0] == len(item.choices) and widths[0][1] > context_tokens
    monkeypatch.setattr(model, "forward", original)
    ref = reference_logliks(model, tok, context, item.choices)
    assert shared.logliks == pytest.approx(ref, abs=1e-4) and whole.logliks == pytest.approx(ref, abs=1e-4)
    assert shared.greedy == whole.greedy


def test_acc_norm_divides_by_utf8_bytes_and_explains_a_disagreement():
    # a long right answer: lower total, better per byte
    item = BenchItem(id="x", context="c", choices=("No.", "Yes, because the café was closed."), gold=1)
    score = ItemScore(item=item, logliks=[-4.0, -20.0], tokens=[2, 8], greedy=[False, False])
    assert score.byte_lengths == [3, len("Yes, because the café was closed.".encode())]  # é is two bytes
    assert score.byte_lengths[1] == len(item.choices[1]) + 1
    assert (score.pred, score.pred_norm) == (0, 1)
    assert not score.correct and score.correct_norm
    why = score.disagreement()
    assert "choice 2 is longer" in why.lower() and "dividing by the length" in why
    agree = ItemScore(item=item, logliks=[-30.0, -20.0], tokens=[2, 8], greedy=[False, False])
    assert agree.disagreement() == ""


def test_wilson_interval_known_values():
    low, high = wilson_interval(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)  # the textbook 95% Wilson interval for 8/10
    low, high = wilson_interval(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_summary_counts_and_chance():
    item = BenchItem(id="x", context="c", choices=("a", "bb", "ccc"), gold=2)
    # per byte: [-1, -1, -0.9] (norm right, acc wrong), [-5, -2, -1] (both right), [-0.5, -1, -2] (both wrong)
    rows = [[-1.0, -2.0, -2.7], [-5.0, -4.0, -3.0], [-0.5, -2.0, -6.0]]
    results = [ItemResult("s", "b", i, ItemScore(item, ll, [1, 1, 1], [False] * 3), "c") for i, ll in enumerate(rows)]
    acc = summarize(results)[("s", "b")]
    assert (acc.n, acc.correct, acc.correct_norm) == (3, 1, 2)
    assert acc.acc == pytest.approx(1 / 3) and acc.acc_norm == pytest.approx(2 / 3)
    assert acc.chance == pytest.approx(1 / 3)
    assert acc.interval == wilson_interval(1, 3) and acc.interval_norm == wilson_interval(2, 3)


# --- systems --------------------------------------------------------------------------------------------

def test_run_scores_base_kshot_and_an_adapter_against_the_reference(tiny_llama, lora_run_and_model):
    run_dir, peft_model = lora_run_and_model
    bench = bundled_benchmark("knowledge").head(3)
    systems = [BenchSystem(BASE, 0), BenchSystem(BASE, 2), BenchSystem(ADAPTER, 0, adapter_dir=str(run_dir))]
    out = list(run_benchmarks(tiny_llama, [bench], systems))
    starts = [o for o in out if isinstance(o, SystemStart)]
    items = [o for o in out if isinstance(o, ItemResult)]
    assert [s.system for s in starts] == ["base, 0-shot", "base, 2-shot", "lora-run-3 (adapter), 0-shot"]
    assert starts[2].provenance.adapter == "lora-run-3" and "2-shot" in starts[1].provenance.prompt
    assert len(items) == 9
    first = bench.items[0]
    base0, shot2, adapted = (next(r for r in items if r.system == s.system and r.index == 0) for s in starts)
    tok = tiny_llama.tokenizer
    assert base0.score.logliks == pytest.approx(reference_logliks(tiny_llama.model, tok, doc_text(first),
                                                                  first.choices), abs=1e-4)
    assert shot2.context.count("Question:") == 3
    ref = reference_logliks(peft_model, tok, doc_text(first), first.choices)
    assert adapted.score.logliks == pytest.approx(ref, abs=1e-4)
    assert max(abs(a - b) for a, b in zip(adapted.score.logliks, base0.score.logliks)) > 1e-3


# --- bad input ------------------------------------------------------------------------------------------

def _write(tmp_path, rows) -> str:
    path = tmp_path / "mine.jsonl"
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return str(path)


GOOD = {"context": "Question: 2 + 2?\nAnswer:", "choices": ["4", "5"], "gold": 0}


@pytest.mark.parametrize("row, words", [
    pytest.param(*p[1:], id=p[0], marks=pytest.mark.bad_input(p[0])) for p in [
        ("benchmark file: gold index out of range", dict(GOOD, gold=2), "gold index 2 is out of range for 2 choices"),
        ("benchmark file: one choice", dict(GOOD, choices=["4"], gold=0), "has 1 choice: a multiple-choice item"),
        ("benchmark file: duplicate choices", dict(GOOD, choices=["4", "5", "4 "]), "has the same choice twice"),
        ("benchmark file: empty context", dict(GOOD, context="  "), "has an empty context"),
        ("benchmark file: gold not a number", dict(GOOD, gold="0"), "must be a whole number"),
        ("benchmark file: a line that is not JSON", "{context: 1}", "is not valid JSON"),
    ]])
def test_bad_benchmark_files_are_refused_with_the_line(tmp_path, row, words, bad_input):
    path = _write(tmp_path, [GOOD, row])
    with pytest.raises(InputError) as err:
        load_benchmark(path)
    assert words in err.value.message and "line 2" in err.value.message
    assert err.value.hint
    bad_input(err.value)


def test_empty_file_is_refused(tmp_path):
    with pytest.raises(InputError, match="has no items"):
        load_benchmark(_write(tmp_path, []))


@pytest.mark.bad_input("benchmark: a choice longer than the context window")
def test_a_choice_longer_than_the_window_is_refused(tiny_llama, bad_input):
    item = BenchItem(id="long", context="Say it:", choices=("ok", " ".join(["word"] * 300)), gold=0)
    with pytest.raises(InputError) as err:
        score_item(tiny_llama.model, tiny_llama.tokenizer, item, item.context)  # the tiny Llama's window: 256
    assert "choice 2 is" in err.value.message and "context window of 256 tokens" in err.value.message
    bad_input(err.value)


def test_a_long_context_is_cut_from_the_left_as_the_harness_does(tiny_llama):
    item = BenchItem(id="ctx", context=" ".join(["word"] * 400) + "\nAnswer:", choices=("yes", "no"), gold=0)
    score = score_item(tiny_llama.model, tiny_llama.tokenizer, item, item.context)
    assert score.truncated > 0 and all(math.isfinite(v) for v in score.logliks)


@pytest.mark.bad_input("benchmark: no system, or an adapter with no folder")
def test_systems_are_checked_before_any_work(tiny_llama, bad_input):
    bench = bundled_benchmark("knowledge").head(1)
    with pytest.raises(InputError, match="No system"):
        list(run_benchmarks(tiny_llama, [bench], []))
    with pytest.raises(InputError, match="two systems are the same|Two systems are the same"):
        list(run_benchmarks(tiny_llama, [bench], [BenchSystem(), BenchSystem()]))
    with pytest.raises(InputError) as err:
        list(run_benchmarks(tiny_llama, [bench], [BenchSystem(ADAPTER, 0, adapter_dir=" ")]))
    bad_input(err.value)


def test_an_encoder_decoder_model_is_refused(tiny_t5):
    with pytest.raises(InputError, match="decoder-only"):
        list(run_benchmarks(tiny_t5, [bundled_benchmark("knowledge").head(1)], [BenchSystem()]))


# --- labs and notebooks ---------------------------------------------------------------------------------

def test_the_notebook_rescores_the_items_as_the_app_did(tiny_llama):
    import torch

    from playground.core.labs.notebook import EXPERIMENTS

    bench = bundled_benchmark("continuation").head(3)
    results = [r for r in run_benchmarks(tiny_llama, [bench], [BenchSystem(BASE, 1)]) if isinstance(r, ItemResult)]
    state = {"kind": "benchmark", "system": results[0].system, "benchmark": bench.name,
             "contexts": [r.context for r in results], "choices": [list(r.score.item.choices) for r in results],
             "gold": [r.score.item.gold for r in results], "logliks": [r.score.logliks for r in results]}
    cells = EXPERIMENTS["benchmark"](state)
    scope = {"model": tiny_llama.model, "tokenizer": tiny_llama.tokenizer, "torch": torch, "results": {}}
    exec(cells[-1][1], scope)  # noqa: S102 (the generated cell, as a learner would run it)
    got = scope["results"]["benchmark"]
    assert got["largest_difference_from_app"] < 1e-4
    assert got["acc"] == pytest.approx(sum(r.score.correct for r in results) / 3)
    assert got["acc_norm"] == pytest.approx(sum(r.score.correct_norm for r in results) / 3)
    with pytest.raises(InputError, match="no finished benchmark run"):
        EXPERIMENTS["benchmark"]({"kind": "benchmark"})


def test_the_lab_event_fills_the_state_and_the_check():
    from playground.core.labs import LabState, run_check

    s = LabState()
    assert not run_check("benchmark_systems_compared", s).passed
    s.record("benchmark.scored", {"systems": ["base, 0-shot"], "items": 20})
    assert not run_check("benchmark_systems_compared", s).passed
    s.record("benchmark.scored", {"systems": ["base, 0-shot", "run-1 (adapter), 0-shot"], "items": 20})
    assert run_check("benchmark_systems_compared", s).passed

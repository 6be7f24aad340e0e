"""Named checks: pure functions of a :class:`LabState` that say whether a lab step is done.

A lab file refers to a check by its name. Each returns a :class:`CheckResult` whose ``detail`` tells
the learner, in plain words, what is still missing (or what was seen).
"""

from __future__ import annotations

from playground.core.labs.checks_base import (  # noqa: F401 (CHECKS, CheckResult, run_check are this module's API)
    CHECKS,
    NO_ALIGN,
    CheckResult,
    _ok,
    _rag,
    check,
    run_check,
)
from playground.core.labs.state import LabState


# lab 1: prompts ----------------------------------------------------------------------------------
@check
def prompt_zero_shot_run(s: LabState) -> CheckResult:
    return _ok(any(r.get("shots") == 0 for r in s.prompt_runs), "You ran a zero-shot prompt.",
               "Run the prompt with Shots = 0 (Generate in the Prompt tab).")


@check
def prompt_shots_compared(s: LabState) -> CheckResult:
    done = [c for c in s.prompt_comparisons
            if c.get("mode") == "shots" and c.get("scored", 0) >= 3 and {0, 1}.issubset(set(c.get("shots", [])))
            and max(c.get("shots", [0])) >= 2]
    return _ok(done, "You ran a 0 / 1 / k-shot comparison and it was scored.",
               "Run a comparison of 0, 1 and k shots (k at least 2) to its end.")


@check
def prompt_templates_compared(s: LabState) -> CheckResult:
    done = [c for c in s.prompt_comparisons if c.get("mode") == "templates" and c.get("scored", 0) >= 2]
    return _ok(done, "You compared the templates on one dialogue.",
               "Choose 'Every template' in the Compare view and run the comparison to its end.")


@check
def prompt_context_overflow_seen(s: LabState) -> CheckResult:
    return _ok(s.prompt_overflow_seen, "You saw the prompt overflow the context window.",
               "Raise Shots (or Max new tokens) until the token meter turns red.")


@check
def greedy_generation(s: LabState) -> CheckResult:
    return _ok(any(not g.get("do_sample") and g.get("tokens", 0) > 0 for g in s.generations),
               "You generated greedily.", "Generate with Decoding = Greedy in the Generate tab.")


@check
def sampled_generation(s: LabState) -> CheckResult:
    return _ok(any(g.get("do_sample") and g.get("tokens", 0) > 0 for g in s.generations),
               "You generated with sampling.", "Generate with Decoding = Sample in the Generate tab.")


def _rollouts(s: LabState, pred) -> list[dict]:
    return [r for r in s.rollouts if r.get("do_sample") and r.get("n", 0) >= 5 and pred(r)]


@check
def hot_rollouts(s: LabState) -> CheckResult:
    return _ok(_rollouts(s, lambda r: r.get("temperature", 1.0) > 1.2),
               "Temperature was above 1.2 and you sampled 5 times.",
               "Set Temperature above 1.2, then press 'Run 5 times' in the Sampling tab.")


@check
def cool_rollouts(s: LabState) -> CheckResult:
    return _ok(_rollouts(s, lambda r: r.get("temperature", 1.0) < 0.5),
               "Temperature was below 0.5 and you sampled 5 times.",
               "Set Temperature below 0.5, then press 'Run 5 times'.")


@check
def top_k_rollouts(s: LabState) -> CheckResult:
    return _ok(_rollouts(s, lambda r: 0 < r.get("top_k", 0) <= 10),
               "Top-k was 10 or fewer and you sampled 5 times.",
               "Set Top-k between 1 and 10, then press 'Run 5 times'.")


@check
def top_p_rollouts(s: LabState) -> CheckResult:
    return _ok(_rollouts(s, lambda r: r.get("top_p", 1.0) <= 0.5),
               "Top-p was 0.5 or less and you sampled 5 times.",
               "Set Top-p to 0.5 or less (Top-k off), then press 'Run 5 times'.")


# lab 2: fine-tuning ------------------------------------------------------------------------------
@check
def memory_estimates_read(s: LabState) -> CheckResult:
    return _ok(len(set(s.memory_estimates_seen)) >= 1, "The training-memory estimate is shown.",
               "Open the Method step of the Fine-tune tab to see the memory estimate.")


@check
def baseline_evaluated(s: LabState) -> CheckResult:
    return _ok(any(e.get("rouge") for e in s.evaluations),
               "The base model has ROUGE scores.", "Run an evaluation in the Evaluate tab and let it finish.")


def _run_finished(method: str, s: LabState, words: str) -> CheckResult:
    return _ok(any(r.get("method") == method for r in s.finetune_runs), f"A {words} run finished.",
               f"Train with the {words} method until the run finishes.")


@check
def full_run_finished(s: LabState) -> CheckResult:
    return _run_finished("full", s, "full fine-tuning")


@check
def lora_run_finished(s: LabState) -> CheckResult:
    return _run_finished("lora", s, "LoRA")


@check
def prompt_tuning_run_finished(s: LabState) -> CheckResult:
    return _run_finished("prompt_tuning", s, "prompt tuning")


@check
def evaluated_after_finetune(s: LabState) -> CheckResult:
    return _ok(any(e.get("rouge") and e.get("finetune_runs_before", 0) > 0 for e in s.evaluations),
               "You scored the model again after fine-tuning.",
               "After a fine-tuning run has finished, run the evaluation again (with the adapter).")


# lab 3: alignment (the Align tab fills s.align) ------------------------------------------------------
def _align(s: LabState, passed: bool, yes: str, no: str) -> CheckResult:
    if not s.align_available:
        return CheckResult(False, NO_ALIGN)
    return _ok(passed, yes, no)


@check
def preferences_labelled(s: LabState) -> CheckResult:
    return _align(s, s.align.get("pairs_labelled", 0) >= 1, "You labelled preference pairs.",
                  "Label a pair (which summary is better?) in the Align tab's Feedback step.")


@check
def reward_accuracy_shown(s: LabState) -> CheckResult:
    return _align(s, s.align.get("reward_accuracy") is not None, "The reward model's held-out accuracy is shown.",
                  "Train the reward model in the Align tab until its held-out accuracy shows.")


def _align_runs(s: LabState) -> list[dict]:
    return list(s.align.get("runs", []))


@check
def policy_run_with_kl(s: LabState) -> CheckResult:
    return _align(s, any(r.get("kl_coef", 0) > 0 for r in _align_runs(s)), "A policy run with a KL penalty finished.",
                  "Run the policy optimization with a KL coefficient above 0.")


@check
def policy_run_without_kl(s: LabState) -> CheckResult:
    return _align(s, any(r.get("kl_coef", 1) == 0 for r in _align_runs(s)), "A run without KL penalty finished.",
                  "Run it again with the KL coefficient at 0 and read what the policy writes.")


@check
def reward_compared_before_after(s: LabState) -> CheckResult:
    return _align(s, any("reward_before" in r and "reward_after" in r for r in _align_runs(s)),
                  "The reward before and after optimization is shown.",
                  "Finish a policy run: the Align tab shows the reward before and after.")


# lab 4: grounding a model in documents (the Build tab fills s.rag from its rag.* events) --------------
def _seen(s: LabState, event: str) -> list[dict]:
    return list(s.rag.get(event, []))


@check
def rag_index_built(s: LabState) -> CheckResult:
    return _rag(s, any(e.get("chunks", 0) > 0 for e in _seen(s, "indexed")), "The knowledge base is indexed.",
                "Open the bundled knowledge base in the Build tab and let its index finish.")


@check
def rag_rechunked(s: LabState) -> CheckResult:
    cuts = {(e.get("size"), e.get("overlap")) for e in _seen(s, "indexed") if e.get("chunks", 0) > 0}
    return _rag(s, len(cuts) >= 2, "You indexed the documents with two different chunkings.",
                "Change the chunk size or the overlap and let the index be built again.")


@check
def rag_bundled_question_asked(s: LabState) -> CheckResult:
    return _rag(s, any(e.get("question_id") and e.get("hits") for e in _seen(s, "asked")),
                "You searched for a bundled question and saw the chunks it retrieved.",
                "Pick one of the bundled questions and press Search.")


@check
def rag_methods_compared(s: LabState) -> CheckResult:
    methods: dict[str, set] = {}
    for e in _seen(s, "asked"):
        methods.setdefault(e.get("question", ""), set()).add(e.get("method"))
    return _rag(s, any("dense" in m and m - {"dense"} for m in methods.values()),
                "You searched the same question with dense search and with BM25 or hybrid.",
                "Search one question with Method = dense, then again with BM25 (or hybrid).")


@check
def rag_with_and_without(s: LabState) -> CheckResult:
    return _rag(s, any(e.get("with") is not None and e.get("without") is not None for e in _seen(s, "compared")),
                "The answers without and with retrieval are side by side, scored against the gold answer.",
                "Answer a bundled question with and without retrieval and let both answers finish.")


@check
def rag_answer_attributed(s: LabState) -> CheckResult:
    return _rag(s, any(e.get("chunks", 0) > 0 for e in _seen(s, "attributed")),
                "Leave-one-out measured each retrieved chunk's effect on the answer.",
                "After an answer with retrieval, run leave-one-out (Where the answer came from).")


@check
def rag_failure_provoked(s: LabState) -> CheckResult:
    names = {e.get("name") for e in _seen(s, "preset")}
    return _rag(s, len(names) >= 2, "You provoked two failure modes with the presets.",
                "Apply a failure-mode preset, look at what goes wrong, then try a second one.")


@check
def rag_quality_measured(s: LabState) -> CheckResult:
    return _rag(s, any(e.get("recall") for e in _seen(s, "evaluated")),
                "recall@k and MRR over the bundled questions are shown for each method.",
                "Run Retrieval quality over the bundled questions to its end.")


# lab 3, the arena (the Evaluate tab fills s.arena) ---------------------------------------------------
ARENA_VOTES = 10


@check
def arena_votes_to_pairs(s: LabState) -> CheckResult:
    votes, sent = s.arena.get("votes", 0), s.arena.get("pairs_sent", 0)
    if votes < ARENA_VOTES:
        return CheckResult(False, f"Vote in Evaluate \u2192 Arena: {votes} of {ARENA_VOTES} votes so far.")
    return _ok(sent > 0, f"{votes} arena votes, {sent} of them sent to Align as preference pairs.",
               "Press 'Send votes to Align as preference pairs' under the leaderboard.")


# KV cache (Lifecycle tab) --------------------------------------------------------------------------
@check
def kv_cache_stepped(s: LabState) -> CheckResult:
    steps = s.kv_cache.get("stepped", [])
    decodes = sum(1 for e in steps if e.get("kind") == "decode")
    return _ok(any(e.get("kind") == "prefill" for e in steps) and decodes >= 3,
               f"You prefilled the cache and stepped {decodes} decode steps: one position per layer each.",
               "In Lifecycle → KV cache, press Prefill, then Next step at least three times (or Run to end).")


@check
def kv_cache_timed(s: LabState) -> CheckResult:
    runs = [t for t in s.kv_cache.get("timed", []) if len(t.get("lengths", [])) >= 2]
    return _ok(runs, "You timed a new token with and without the cache at several context lengths.",
               "In Lifecycle → KV cache, press 'Measure with vs without cache' and let two lengths or more finish.")


# speculative decoding (Lifecycle tab) ----------------------------------------------------------------
@check
def speculative_measured(s: LabState) -> CheckResult:
    runs = [r for r in s.speculative_runs if r.get("tokens", 0) > 0 and r.get("speed_up") is not None]
    if not runs:
        return _ok(False, "", "In Lifecycle → Speculative decoding, choose a draft and γ and press Run to end; let "
                              "the plain-decoding timing finish too.")
    r = runs[-1]
    return _ok(True, f"You ran speculative decoding (γ={r.get('gamma')}): {100 * (r.get('acceptance_rate') or 0):.0f}% "
                     f"of the guesses accepted, speed-up x{r['speed_up']:.2f} measured.", "")


# distillation (Lifecycle tab) ----------------------------------------------------------------------
@check
def distill_trained(s: LabState) -> CheckResult:
    runs = [r for r in s.distill_runs if r.get("event") == "trained" and r.get("compared")
            and float(r.get("alpha", 1)) < 1]
    if not runs:
        return _ok(False, "", "In Lifecycle → Distillation, keep 'Also train a hard-label student' checked, set "
                              "α below 1 and press Train the students; let both finish.")
    ppl = runs[-1].get("perplexity", {})
    soft, hard = ppl.get("soft"), ppl.get("hard")
    said = f" Perplexity: soft {soft:.2f}, hard {hard:.2f}." if soft and hard else ""
    return _ok(True, "You trained a student on soft targets and one on hard labels for the same steps." + said, "")


@check
def distill_student_used(s: LabState) -> CheckResult:
    return _ok(any(r.get("event") == "used" for r in s.distill_runs),
               "Every tab now runs the distilled student.",
               "After training, press 'Use this student', then generate in the Generate tab.")


# Evaluate → Benchmarks (issue 33) ----------------------------------------------------------------------
@check
def benchmark_systems_compared(s: LabState) -> CheckResult:
    return _ok(any(len(r.get("systems", [])) >= 2 and r.get("items", 0) >= 10 for r in s.benchmark_runs),
               "Two systems were scored side by side on a benchmark.",
               "In Evaluate → Benchmarks, tick two systems (the base model and an adapter, or k-shot) and score "
               "at least 10 items.")


# lab 5's precision and pruning checks and lab 6's reasoning and tool checks live in their own modules
# (registered into CHECKS on import)
from playground.core.labs import checks_reason, checks_smaller  # noqa: E402,F401

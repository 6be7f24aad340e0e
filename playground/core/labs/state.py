"""A plain snapshot of what the learner has done in the app, filled by the Qt layer from the tabs' signals.

Every entry is plain data (numbers, text, dicts), so a check is a pure function of it and a test can
build a state by hand. The tabs report *lab events* (a name from :data:`EVENTS` and a plain-data
payload, see ``Panel.lab_events`` in the Qt layer); :meth:`LabState.record` folds each into the state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from playground.core.decoding.settings import SamplingSettings


@dataclass
class LabState:
    prompt_runs: list[dict] = field(default_factory=list)
    """Prompt tab single runs: {"shots": int, "template": str, "scores": {"rouge1": ...}}"""
    prompt_comparisons: list[dict] = field(default_factory=list)
    """Prompt tab comparisons: {"mode": "shots" | "templates", "labels": [...], "shots": [...],
    "templates": [...], "scored": int}"""
    prompt_overflow_seen: bool = False
    """the token meter showed a prompt that does not fit the context window"""
    generations: list[dict] = field(default_factory=list)
    """Generate tab runs: GenerationSettings.to_dict() plus {"tokens": int}"""
    sampling: SamplingSettings = field(default_factory=SamplingSettings)
    """the Sampling tab's settings now (the event's payload is their plain dict)"""
    rollouts: list[dict] = field(default_factory=list)
    """Sampling tab 'Run 5 times': the settings used plus {"n": number of sampled continuations}"""
    memory_estimates_seen: list[str] = field(default_factory=list)
    """methods whose training-memory estimate the Fine-tune tab has shown"""
    finetune_runs: list[dict] = field(default_factory=list)
    """finished fine-tuning runs: {"method": "full" | "lora" | "prompt_tuning", "run_dir": str}"""
    evaluations: list[dict] = field(default_factory=list)
    """finished evaluations: {"systems": [label...], "rouge": {label: {"rouge1": ...}},
    "finetune_runs_before": how many fine-tuning runs had finished when it ran}"""
    align_available: bool = False
    """this build has an Align tab that reports its state"""
    align: dict = field(default_factory=dict)
    """the Align tab's state: {"pairs_labelled": int, "reward_accuracy": float | None,
    "runs": [{"algorithm": str, "kl_coef": float, "reward_before": float, "reward_after": float}]}"""
    build_available: bool = False
    """this build has a Build tab that reports its retrieval (rag.*) events"""
    rag: dict = field(default_factory=dict)
    """the Build tab's retrieval, one list per rag.* event (keyed by the name after 'rag.'), each entry that
    event's payload: {"indexed": [...], "asked": [...], "compared": [...], "attributed": [...],
    "preset": [...], "evaluated": [...]}"""
    precision_runs: list[dict] = field(default_factory=list)
    """finished Precision sweeps (Lifecycle tab): {"formats": [names measured], "rows": int}"""
    benchmark_runs: list[dict] = field(default_factory=list)
    """finished benchmark runs (Evaluate tab): {"systems": [labels], "benchmarks": [names], "rows": [{"system",
    "benchmark", "n", "acc", "acc_norm", "chance", ...}], "items": int, "disagreements": int}"""
    reasoning: dict = field(default_factory=dict)
    """the Build tab's Reasoning section, one list per reason.* event (keyed by the name after 'reason.'):
    {"compared": [...], "sandbox_run": [...], "set_run": [...]}"""
    pruning_runs: list[dict] = field(default_factory=list)
    """Pruning runs and sweeps (Lifecycle tab): {"event": "run" | "sweep" | "used", "method": str,
    "sparsity": float 0-1, ...} (a sweep's payload has "methods": [...] and "points": int)"""
    distill_runs: list[dict] = field(default_factory=list)
    """Distillation (Lifecycle tab): {"event": "trained" | "used", ...} (trained: "alpha", "temperature", "steps",
    "compared": a hard-label student too, "perplexity": {"teacher" | "soft" | "hard": float})"""
    arena: dict = field(default_factory=dict)
    """the Evaluate tab's arena: {"votes": int, "decisive": int, "systems": [the two last compared],
    "pairs_sent": int (arena pairs added to the Align labels so far), "agreement": float 0-1 | None}"""
    kv_cache: dict = field(default_factory=dict)
    """the Lifecycle KV cache section, one list per kv.* event: {"stepped": [...], "timed": [...]}"""
    speculative_runs: list[dict] = field(default_factory=list)
    """Speculative decoding runs (Lifecycle tab), finished and timed: {"draft", "gamma", "do_sample", "tokens",
    "acceptance_rate", "tokens_per_target_pass", "speed_up", "same_text", "model"}"""

    def watching(self, events) -> None:
        """A tab that reports these event names is watched: an Align tab makes the Align checks answerable.
        A name not in :data:`EVENTS` is a programming error, refused here (at start) rather than ignored."""
        unknown = set(events) - set(EVENTS)
        if unknown:
            raise ValueError(f"unknown lab event(s): {', '.join(sorted(unknown))}; known: {', '.join(EVENTS)}")
        if ALIGN_EVENTS & set(events):
            _align_state(self)
        if BUILD_EVENTS & set(events):
            self.build_available = True

    def record(self, event: str, payload: dict) -> bool:
        """Fold one lab event into the state; True when the state changed (an unknown name changes nothing)."""
        handler = EVENTS.get(event)
        return bool(handler(self, dict(payload))) if handler is not None else False


def _append(name: str) -> Callable[[LabState, dict], bool]:
    def handler(s: LabState, payload: dict) -> bool:
        getattr(s, name).append(payload)
        return True

    return handler


def _overflow(s: LabState, payload: dict) -> bool:
    if not payload.get("over") or s.prompt_overflow_seen:
        return False
    s.prompt_overflow_seen = True
    return True


def _sampling(s: LabState, payload: dict) -> bool:
    s.sampling = SamplingSettings.from_dict(payload)
    return True


def _memory_estimate(s: LabState, payload: dict) -> bool:
    if "shown" in s.memory_estimates_seen:
        return False
    s.memory_estimates_seen.append("shown")
    return True


def _evaluation(s: LabState, payload: dict) -> bool:
    s.evaluations.append(dict(payload, finetune_runs_before=len(s.finetune_runs)))
    return True


def _align_state(s: LabState) -> dict:
    s.align_available = True
    s.align.setdefault("runs", [])
    return s.align


def _preferences(s: LabState, payload: dict) -> bool:
    _align_state(s)["pairs_labelled"] = int(payload["pairs"])
    return True


def _reward_model(s: LabState, payload: dict) -> bool:
    _align_state(s)["reward_accuracy"] = payload.get("test_accuracy")
    return True


def _policy_run(s: LabState, payload: dict) -> bool:
    _align_state(s)["runs"].append(payload)
    return True


def _rag(name: str) -> Callable[[LabState, dict], bool]:
    def handler(s: LabState, payload: dict) -> bool:
        s.build_available = True
        s.rag.setdefault(name, []).append(payload)
        return True

    return handler


def _reason(name: str) -> Callable[[LabState, dict], bool]:
    def handler(s: LabState, payload: dict) -> bool:
        s.build_available = True
        s.reasoning.setdefault(name, []).append(payload)
        return True

    return handler


def _pruning(kind: str) -> Callable[[LabState, dict], bool]:
    def handler(s: LabState, payload: dict) -> bool:
        s.pruning_runs.append(dict(payload, event=kind))
        return True

    return handler


def _arena_voted(s: LabState, payload: dict) -> bool:
    s.arena.update(votes=int(payload.get("votes", 0)), decisive=int(payload.get("decisive", 0)),
                   systems=list(payload.get("systems", [])))
    return True


def _arena_sent(s: LabState, payload: dict) -> bool:
    s.arena["pairs_sent"] = s.arena.get("pairs_sent", 0) + int(payload.get("added", 0))
    return True


def _arena_agreement(s: LabState, payload: dict) -> bool:
    s.arena["agreement"] = payload.get("rate")
    return True


def _kv(name: str) -> Callable[[LabState, dict], bool]:
    def handler(s: LabState, payload: dict) -> bool:
        s.kv_cache.setdefault(name, []).append(payload)
        return True

    return handler


def _distill(kind: str) -> Callable[[LabState, dict], bool]:
    def handler(s: LabState, payload: dict) -> bool:
        s.distill_runs.append(dict(payload, event=kind))
        return True

    return handler


EVENTS: dict[str, Callable[[LabState, dict], bool]] = {
    "prompt_run": _append("prompt_runs"),
    # payload: {"shots": int, "template": str, "scores": {...}} (a single Prompt run finished)
    "prompt_comparison": _append("prompt_comparisons"),
    # payload: {"mode", "labels", "shots", "templates", "scored"} (a Prompt comparison ended)
    "prompt_measured": _overflow,
    # payload: {"over": bool} (the token meter was redrawn; True when the prompt does not fit)
    "generation": _append("generations"),
    # payload: GenerationSettings.to_dict() plus {"tokens": int} (a Generate run ended)
    "sampling_settings": _sampling,
    # payload: the Sampling tab's settings as a dict (they changed)
    "rollouts": _append("rollouts"),
    # payload: the settings used plus {"n": continuations shown} ('Run 5 times' ended)
    "memory_estimate_shown": _memory_estimate,
    # payload: {} (the Fine-tune Method step, with its memory estimate, is on show)
    "finetune_run": _append("finetune_runs"),
    # payload: {"method": str, "run_dir": str, ...} (a fine-tuning run finished)
    "evaluation": _evaluation,
    # payload: {"systems": [label...], "rouge": {label: {"rouge1", "rouge2", "rougeL"}}} (an evaluation ended)
    "preferences_labelled": _preferences,
    # payload: {"pairs": int} (the Align tab's labelled pairs now)
    "reward_model_trained": _reward_model,
    # payload: {"test_accuracy": float | None} (a reward model was trained)
    "policy_run": _policy_run,
    # payload: {"algorithm": str, "kl_coef": float, "reward_before"?, "reward_after"?} (a policy run ended)
    "rag.indexed": _rag("indexed"),
    # payload: {"base", "documents", "chunks", "size", "overlap", "embedded", "approximate"} (an index opened or built)
    "rag.asked": _rag("asked"),
    # payload: {"question", "question_id", "method", "k", "hits": [chunk ids], "gold_rank"} (a search finished)
    "rag.compared": _rag("compared"),
    # payload: {"question_id", "k", "method", "without": scores | None, "with": scores | None} (both answers ended)
    "rag.attributed": _rag("attributed"),
    # payload: {"question_id", "chunks": int, "top_chunk", "top_drop", "gold_doc"} (leave-one-out finished)
    "rag.preset": _rag("preset"),
    # payload: {"name": the preset's key} (a failure-mode preset was applied)
    "rag.evaluated": _rag("evaluated"),
    # payload: {"recall": {method: {k: value}}, "mrr": {method: value}, "accuracy": {...} | None} (quality measured)
    "reason.compared": _reason("compared"),
    # payload: {"problem_id", "strategies": [keys], "right": {key: bool | None}, "pal_program": bool,
    # "pal_refused": str | None, "k", "temperature"} (strategies compared on one problem)
    "reason.sandbox_run": _reason("sandbox_run"),
    # payload: {"refused": str | None, "error": str | None, "value": repr} (an edited program run in the sandbox)
    "reason.set_run": _reason("set_run"),
    # payload: {"problems": int done, "strategies": [keys], "accuracy": {key: 0-1}} (a run over the set ended)
    "structured.compared": _reason("structured.compared"),
    # payload: {"question", "free_parsed": bool, "constrained_parsed": bool, "removed_max": 0-1} (free vs constrained JSON)
    "structured.rated": _reason("structured.rated"),
    # payload: {"n", "free": 0-1, "constrained": 0-1} (the parse rate over the set, with and without the grammar)
    "react.stepped": _reason("react.stepped"),
    # payload: {"step", "tool", "status", "constrained": bool, "problem": str | None} (a ReAct step was added)
    "react.edited": _reason("react.edited"),
    # payload: {"step", "what": "thought" | "action"} (a step was edited and the trace continued)
    "react.rated": _reason("react.rated"),
    # payload: {"n", "free": 0-1, "constrained": 0-1} (the ReAct success rate over the knowledge questions)
    "precision.run": _append("precision_runs"),
    # payload: {"formats": [format names measured], "rows": int} (a Precision sweep ended)
    "benchmark.scored": _append("benchmark_runs"),
    # payload: {"systems", "benchmarks", "rows", "items", "disagreements"} (a Benchmarks run ended)
    "pruning.run": _pruning("run"),
    # payload: {"method": "global" | "layer" | "heads" | "layers", "sparsity": 0-1, "perplexity", "tokens_per_s",
    # "dense_tokens_per_s", "params", "dense_params"} (a Pruning run finished)
    "pruning.swept": _pruning("sweep"),
    # payload: {"methods": [...], "points": int} (a Pruning sweep, quality against sparsity, ended)
    "pruning.used": _pruning("used"),
    # payload: {"method", "sparsity"} (the pruned model was put in every tab)
    "distill.trained": _distill("trained"),
    # payload: {"alpha", "temperature", "layers", "steps", "perplexity": {kind: float}, "run_dir", "compared"}
    "distill.used": _distill("used"),
    # payload: {"folder": the student's folder} (a distilled student was put in every tab)
    "arena.voted": _arena_voted,
    # payload: {"votes": all votes kept, "decisive": votes for A or B, "systems": [the two names]} (a vote)
    "arena.sent": _arena_sent,
    # payload: {"added": new pairs, "total": the Align labels now} (arena votes sent to Align as pairs)
    "arena.agreement": _arena_agreement,
    # payload: {"agree", "held_out", "rate"} (a reward model on arena votes measured on held-out votes)
    "kv.stepped": _kv("stepped"),
    # payload: {"kind": "prefill" | "decode", "step", "positions", "bytes_per_token", "measured_bytes", "model"}
    "kv.timed": _kv("timed"),
    # payload: {"lengths", "with_ms", "without_ms", "stopped", "model"} (a with/without-cache timing ended)
    "spec.run": _append("speculative_runs"),
    # payload: {"draft", "gamma", "do_sample", "tokens", "acceptance_rate", "tokens_per_target_pass", "speed_up",
    # "same_text", "model"} (a speculative decoding run finished and its speed-up was measured)
}
"""Every lab event a tab may report, with what it does to the state (the payloads are plain data)."""
ALIGN_EVENTS = frozenset({"preferences_labelled", "reward_model_trained", "policy_run"})
"""the events only an Align tab reports: a tab that reports them makes the Align checks answerable"""
BUILD_EVENTS = frozenset(name for name in EVENTS if name.startswith(("rag.", "reason.", "structured.", "react.")))
"""the events only the Build tab reports: a tab that reports them makes the retrieval checks answerable"""
VALUE_EVENTS = frozenset({"sampling_settings"})
"""events that carry a value now rather than something that happened: recorded once when watching starts"""

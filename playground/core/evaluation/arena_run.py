"""One round of the blind arena: two systems answer the same prompt, shown as A and B in random order.

The systems are the Evaluate tab's (``SystemSpec``: zero-shot, k-shot, a saved adapter, a file of
outputs). The prompt is a bundled dialogue to summarize (as the Evaluate tab asks), a bundled
dialogue in one of the Prompt tab's templates, or text the learner typed (answered as a chat
message). One system, or two identical ones, is allowed: the same system answers on both sides,
which measures the voter's consistency and position bias rather than a difference.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from typing import Sequence

from playground.core.base.errors import InputError
from playground.core.base.handle import TaskHandle, ensure_handle
from playground.core.base.progress import report_step
from playground.core.evaluation.arena import Vote, make_vote
from playground.core.evaluation.run import ADAPTER, FILE, K_SHOT, SystemSpec, load_adapter_copy

DIALOGUE, TEMPLATE, TYPED = "dialogue", "prompt", "typed"
PROMPT_KINDS = (DIALOGUE, TEMPLATE, TYPED)
ANSWERING = "Answering (both systems)"
#: The arena's default decoding: sampled, so one system can be compared with itself.
DEFAULT_TEMPERATURE, DEFAULT_NEW_TOKENS = 0.7, 60


@dataclass(frozen=True)
class ArenaPrompt:
    """What both systems answer: ``text`` is the dialogue (``dialogue`` and ``prompt`` kinds) or the
    typed text; ``id`` the bundled dialogue's id; ``template`` a Prompt-tab template name."""

    kind: str
    text: str
    id: str = ""
    template: str = ""
    index: int = -1      # the dialogue's row in its split (a predictions file may match by row)
    split: str = "test"

    def pair_prompt(self) -> str:
        """The prompt a preference pair keeps (plain text, as the bundled pairs write it)."""
        if self.kind == TYPED:
            return self.text.strip()
        from playground.core.prompting.prompts import assemble
        from playground.core.prompting.summarize import user_message

        if self.kind == TEMPLATE:
            return assemble(self.text, (), self.template).text
        return f"{user_message(self.text)}\n\nSummary:"

    def source(self) -> dict:
        return {"kind": self.kind, "id": self.id, "template": self.template, "split": self.split}


def bundled_prompt(index: int, split: str = "test", template: str = "") -> ArenaPrompt:
    """Dialogue ``index`` (0-based) of a bundled split; with ``template``, in that Prompt-tab template."""
    from playground.core.evaluation.datasets import load_split

    examples = load_split(split).examples
    if not 0 <= index < len(examples):
        raise InputError(f"There is no dialogue {index + 1} in the {split} split (it has {len(examples)}).",
                         f"Pick a dialogue from 1 to {len(examples)}.")
    ex = examples[index]
    if template:
        from playground.core.prompting.prompts import resolve_template

        resolve_template(template)  # an unknown or broken template is refused before anything runs
    return ArenaPrompt(TEMPLATE if template else DIALOGUE, ex.input, ex.id, template, index, split)


def typed_prompt(text: str) -> ArenaPrompt:
    if not text or not text.strip():
        raise InputError("The prompt is empty.", "Type a question or an instruction for both systems.")
    return ArenaPrompt(TYPED, text.strip())


def system_name(spec: SystemSpec, base_name: str) -> str:
    """How the leaderboard names a system: its kind with the model it runs on (a file: its column)."""
    if spec.kind == FILE:
        return spec.display()
    if spec.kind == ADAPTER:
        return spec.model_name(base_name)
    return f"{spec.display()} · {base_name}" if base_name else spec.display()


def pair_systems(specs: Sequence[SystemSpec], base_name: str) -> tuple[list[SystemSpec], list[str], str]:
    """(the two specs, their names, a note): one system answers twice; two identical ones are told apart
    as "#1" and "#2". Three or more are refused (the arena compares two at a time)."""
    specs = list(specs)
    if not specs:
        raise InputError("No system is chosen.", "Choose two systems to compare (or one, to test yourself).")
    if len(specs) > 2:
        raise InputError(f"{len(specs)} systems are chosen; the arena compares two at a time.",
                         "Untick all but two.")
    if len(specs) == 1:
        name = system_name(specs[0], base_name)
        return [specs[0], specs[0]], [f"{name} #1", f"{name} #2"], (
            "One system answers on both sides: no system can win, so the votes measure your consistency "
            "and position bias (expect ties, or A and B winning about equally).")
    names = [system_name(s, base_name) for s in specs]
    if names[0] == names[1]:
        return specs, [f"{names[0]} #1", f"{names[1]} #2"], (
            "The two systems are identical: the leaderboard should show them level, and any gap is noise or "
            "position bias.")
    return specs, names, ""


@dataclass
class Matchup:
    """Both answers, in the order shown: ``a`` (left) and ``b`` (right); ``names`` stay hidden until the vote."""

    prompt: ArenaPrompt
    a: str
    b: str
    a_text: str
    b_text: str
    settings: dict = field(default_factory=dict)
    note: str = ""
    seconds: dict = field(default_factory=dict)

    @property
    def identical(self) -> bool:
        return self.a_text.strip() == self.b_text.strip()

    def vote(self, verdict: str) -> Vote:
        return make_vote(self.prompt.pair_prompt(), self.a, self.b, self.a_text, self.b_text, verdict,
                         source=self.prompt.source(), settings=self.settings)


class ArenaSystems:
    """The two systems ready to answer: an adapter is loaded once (on a copy of the model) and reused
    for every prompt; a predictions file is read when its answer is needed."""

    def __init__(self, loaded, specs: Sequence[SystemSpec], attached=None) -> None:
        self.loaded = loaded
        base_name = loaded.info.name if loaded is not None else ""
        self.specs, self.names, self.note = pair_systems(specs, base_name)
        self.attached = attached
        self._adapters: dict[str, object] = {}
        self.models = {n: s.model_name(base_name) for n, s in zip(self.names, self.specs)}

    def model_for(self, spec: SystemSpec, handle: TaskHandle | None = None):
        """The LoadedModel a system runs (the base, the attached run, or a cached adapter copy)."""
        if spec.kind == FILE:
            return None
        if self.loaded is None:
            raise InputError("The model is still loading.", "Try again in a moment, or compare files only.")
        if spec.kind != ADAPTER:
            return self.loaded
        attached_dir = self.attached.extras.get("adapter_dir", "") if self.attached is not None else ""
        if attached_dir and attached_dir == spec.adapter_dir:
            return self.attached
        if spec.adapter_dir not in self._adapters:
            self._adapters[spec.adapter_dir] = load_adapter_copy(self.loaded, spec.adapter_dir, handle)
        return self._adapters[spec.adapter_dir]


def _answer(systems: ArenaSystems, spec: SystemSpec, prompt: ArenaPrompt, settings, handle: TaskHandle,
            train) -> str:
    model = systems.model_for(spec, handle)
    if prompt.kind == TYPED:
        if spec.kind == FILE:
            raise InputError("A file of outputs only has answers to the bundled dialogues, not to typed text.",
                             "Use a bundled dialogue as the prompt, or another system.")
        if spec.kind == K_SHOT:
            raise InputError("k-shot prompts show worked dialogue summaries, which do not fit typed text.",
                             "Use a bundled dialogue, or the zero-shot system.")
        from playground.core.decoding.generation import generate_text
        from playground.core.prompting.summarize import uses_chat_template

        text = prompt.text
        if uses_chat_template(model):
            text = model.tokenizer.apply_chat_template([{"role": "user", "content": text}], tokenize=False,
                                                       add_generation_prompt=True)
        return generate_text(model, text, settings, handle.cancelled).strip()
    from playground.core.evaluation.datasets import load_split
    from playground.core.evaluation.run import _prepare  # the Evaluate tab's own way to run a system

    examples = load_split(prompt.split).examples
    index = prompt.index if 0 <= prompt.index < len(examples) else next(
        (i for i, ex in enumerate(examples) if ex.id == prompt.id), 0)
    if prompt.kind == TEMPLATE:
        chat = bool(model is not None and not model.is_encoder_decoder)
        spec = replace(spec, template=prompt.template, use_chat_template=chat)
    attached = model if spec.kind == ADAPTER else systems.attached
    prepared = _prepare(systems.loaded, spec, examples, train, settings, handle, attached)
    return prepared.predict(index, examples[index], handle.cancelled)


def play(systems: ArenaSystems, prompt: ArenaPrompt, *, temperature: float = DEFAULT_TEMPERATURE,
         max_new_tokens: int = DEFAULT_NEW_TOKENS, seed: int = 0, order_seed: int | None = None,
         handle: TaskHandle | None = None) -> Matchup | None:
    """Both systems answer ``prompt``; the order they are shown in is drawn at random.

    Parameters
    ----------
    temperature
        0 decodes greedily; above 0 samples (each side with its own seed, so one system answers twice
        in two ways).
    seed
        The sampling seed of this round (the left-hand system gets ``seed``, the right ``seed + 1``,
        whatever the shown order).
    order_seed
        Fixes the blind order (tests); None draws it from the system's randomness.
    handle
        Progress (answers done of 2) and Stop between tokens; a stopped round returns None.
    """
    import time

    from playground.core.decoding.generation import GenerationSettings

    handle = ensure_handle(handle)
    settings = GenerationSettings.make(max_new_tokens=max_new_tokens, do_sample=temperature > 0,
                                       temperature=temperature if temperature > 0 else 1.0, seed=seed, top_n=0)
    settings.validate()
    train = None
    if prompt.kind != TYPED and any(s.kind == K_SHOT for s in systems.specs):
        from playground.core.evaluation.datasets import load_split

        train = load_split("train").examples
    answers, seconds = [], {}
    report_step(handle, ANSWERING, 0, 2)
    for side, (spec, name) in enumerate(zip(systems.specs, systems.names)):
        began = time.perf_counter()
        text = _answer(systems, spec, prompt, settings.with_sampling(seed=seed + side), handle, train)
        if handle.cancelled():
            return None  # half an answer would be judged unfairly
        seconds[name] = time.perf_counter() - began
        answers.append(text)
        report_step(handle, ANSWERING, side + 1, 2)  # no name: which system is which stays hidden
    rng = random.Random(order_seed) if order_seed is not None else random.SystemRandom()
    left = rng.randrange(2)
    right = 1 - left
    described = {"temperature": temperature, "max_new_tokens": max_new_tokens, "seed": seed,
                 "models": dict(systems.models)}
    return Matchup(prompt, systems.names[left], systems.names[right], answers[left], answers[right],
                   described, systems.note, seconds)

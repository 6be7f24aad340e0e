"""A ReAct trace you can step through (issue 31 §3): Thought -> Action -> Observation -> ... -> finish.

ReAct ("reason + act") has the model alternate a **Thought** (free text), an **Action** (a tool and its
input, written ``Action: tool[input]``) and an **Observation** (the tool's real output, pasted back by
the program, never written by the model). The loop here runs one step per call (``next_step``), with a
step limit; each step records which tool the model wanted at the Action line and how sure it was
(``shares``: the probability of each tool name), and optionally **constrains** the Action line to a
valid tool call (a regex grammar through xgrammar, see ``writer.action_pattern``).

A format the parser cannot read ends the run plainly (``problem``: "the model wrote no Action line",
with the text it wrote); a tool error or a timeout is an Observation. ``edit_thought`` / ``edit_action``
rewrite a step and continue from there; the steps cut off are kept in ``branches``.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from playground.core.base.errors import InputError
from playground.core.reasoning.tools import FINISH, Tool, run_tool
from playground.core.reasoning.writer import Writer, action_pattern

RUNNING, FINISHED, STUCK, LIMIT = "running", "finished", "stuck", "step limit"
MAX_STEPS = 6
THOUGHT_TOKENS = 60
ACTION_TOKENS = 48
_ACTION = re.compile(r"^\s*([A-Za-z_]+)\s*\[(.*)\]\s*$", re.S)
_LOOSE = re.compile(r"^\s*([A-Za-z_]+)\s*[\[(:]\s*(.*?)\s*[\])]?\s*$", re.S)

EXAMPLE = ("Question: A box holds 12 eggs. How many eggs are in 7 boxes?\n"
           "Thought: I need 12 times 7.\nAction: calculator[12 * 7]\nObservation: 84\n"
           "Thought: I know the answer.\nAction: finish[84]")


@dataclass
class ReactStep:
    """One Thought / Action / Observation, and what the model wrote to get there."""

    thought: str
    tool: str | None = None
    tool_input: str = ""
    observation: str = ""
    raw: str = ""                                   # the model's own text for this step
    problem: str | None = None                      # a format the parser could not read
    shares: dict[str, float] = field(default_factory=dict)  # P(tool name) at the Action line
    constrained: bool = False
    edited: str = ""                                # "thought" or "action" when the learner wrote it
    tool_ok: bool = True
    seconds: float = 0.0

    @property
    def action_text(self) -> str:
        return f"{self.tool}[{self.tool_input}]" if self.tool else ""

    @property
    def wanted(self) -> tuple[str, float] | None:
        """The tool the model found likeliest at the Action line, and its share among the tools."""
        if not self.shares:
            return None
        total = sum(self.shares.values()) or 1.0
        name = max(self.shares, key=self.shares.get)
        return name, self.shares[name] / total

    def render(self) -> str:
        if self.tool is None:
            return f"Thought: {self.thought}\n"
        return f"Thought: {self.thought}\nAction: {self.action_text}\nObservation: {self.observation}\n"


def step_text(number: int, s: ReactStep) -> str:
    """One step as the CLI prints it (numbered from 1)."""
    lines = [f"Step {number}" + (f" (edited {s.edited})" if s.edited else "") + (" [constrained]" if s.constrained else ""),
             f"  Thought: {s.thought}"]
    if s.shares:
        name, share = s.wanted
        lines.append("  Tool choice at the Action line: " + ", ".join(f"{k} {v:.1%}" for k, v in s.shares.items())
                     + f" (wanted {name}, {share:.0%} of the tools' share)")
    if s.problem:
        lines.append(f"  Problem: {s.problem}\n  The model wrote: {s.raw!r}")
        return "\n".join(lines)
    lines.append(f"  Action: {s.action_text}")
    lines.append(f"  Observation: {s.observation}")
    return "\n".join(lines)


def parse_action(text: str, tool_names) -> tuple[str, str]:
    """``(tool, input)`` from ``calculator[3 * 4]`` (also ``calculator(3 * 4)``); ``InputError`` when unreadable."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    m = _ACTION.match(line) or _LOOSE.match(line)
    if not m or not m.group(2).strip():
        raise InputError(f"The Action line is not tool[input]: {line!r}.",
                         f"Write one of {', '.join(tool_names)} followed by its input in square brackets.")
    return m.group(1).strip().lower(), m.group(2).strip()


def react_prompt(question: str, tools: dict[str, Tool]) -> str:
    """The instruction, the tools, one worked example and the question (plain text; see ``ReactRun.prompt``)."""
    listing = "\n".join(f"- {t.name}[...]: {t.help}" for t in tools.values())
    return ("Answer the question with tools. Write a Thought, then an Action; the Observation is the "
            "tool's answer. Repeat until you know the answer, then use finish.\n"
            f"Tools:\n{listing}\n\nExample:\n{EXAMPLE}\n\nQuestion: {question.strip()}")


class ReactRun:
    """One question's trace, advanced a step at a time."""

    def __init__(self, question: str, writer: Writer, tools: dict[str, Tool], max_steps: int = MAX_STEPS,
                 constrain: bool = False, template=None) -> None:
        if not question or not question.strip():
            raise InputError("The question is empty.", "Type a question, or pick one from the bundled set.")
        if not 1 <= int(max_steps) <= 30:
            raise InputError(f"The step limit must be between 1 and 30 (got {max_steps}).", "Try 6.")
        self.question = question.strip()
        self.writer, self.tools = writer, tools
        self.max_steps, self.constrain = int(max_steps), constrain
        body = react_prompt(self.question, tools)
        # The model's chat template when it has one: the trace is the assistant's reply.
        self.prompt = template(body) if template else body + "\n"
        self.steps: list[ReactStep] = []
        self.branches: list[list[ReactStep]] = []
        self.status = RUNNING

    # --- reading ------------------------------------------------------------------------------------
    @property
    def answer(self) -> str | None:
        if self.status == FINISHED and self.steps:
            return self.steps[-1].tool_input
        return None

    def history(self, upto: int | None = None) -> str:
        return self.prompt + "".join(s.render() for s in self.steps[:upto])

    def transcript(self) -> str:
        lines = [step_text(i, s) for i, s in enumerate(self.steps, 1)]
        lines.append(self.status_line())
        return "\n".join(lines)

    def status_line(self) -> str:
        return f"Status: {self.status}" + (f" — answer: {self.answer}" if self.answer is not None else "")

    # --- stepping -----------------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self.status != RUNNING:
            raise InputError(f"The trace has ended ({self.status}).",
                             "Edit a step to continue from it, or start again.")

    def next_step(self) -> ReactStep:
        """The model writes one Thought and Action; the tool runs; the Observation is recorded."""
        self._check_open()
        return self._step(thought=None, action=None)

    def run_to_end(self, cancelled=None):
        """Steps until finish, a format problem, the step limit or ``cancelled()`` (yields each step)."""
        while self.status == RUNNING:
            if cancelled is not None and cancelled():
                return
            yield self.next_step()

    def edit_thought(self, index: int, thought: str) -> ReactStep:
        """Rewrite step ``index``'s Thought; the model writes a new Action after it, and the trace goes on."""
        if not thought.strip():
            raise InputError("The Thought is empty.", "Write what the model should think at this step.")
        self._branch(index)
        step = self._step(thought=thought.strip(), action=None)
        step.edited = "thought"
        return step

    def edit_action(self, index: int, action: str) -> ReactStep:
        """Rewrite step ``index``'s Action (``tool[input]``); the tool runs on it and the trace goes on."""
        tool, text = parse_action(action, list(self.tools))
        if tool not in self.tools:
            raise InputError(f"There is no tool called {tool!r}.", f"The tools are {', '.join(self.tools)}.")
        thought = self.steps[index].thought if 0 <= index < len(self.steps) else ""
        self._branch(index)
        step = self._step(thought=thought, action=(tool, text))
        step.edited = "action"
        return step

    def _branch(self, index: int) -> None:
        if not 0 <= index < len(self.steps):
            raise InputError(f"There is no step {index + 1} to edit.", "Pick a step of the trace.")
        self.branches.append(self.steps[index:])
        self.steps = self.steps[:index]
        self.status = RUNNING

    def _step(self, thought: str | None, action: tuple[str, str] | None) -> ReactStep:
        start = time.perf_counter()
        prefix = self.history()
        names = list(self.tools)
        raw = ""
        model_thought = thought is None
        if model_thought:
            stops = ["\nObservation", "Observation:"] + (["\nAction:"] if self.constrain else [])
            raw = self.writer.write(prefix + "Thought:", stops, THOUGHT_TOKENS + (0 if self.constrain else ACTION_TOKENS))
            thought, action_line = _split(raw)
        else:
            action_line = None
        step = ReactStep(thought=thought, raw=raw, constrained=self.constrain)
        at_action = f"{prefix}Thought: {thought}\nAction:"
        step.shares = self.writer.tool_shares(at_action, names)
        if action is None and (self.constrain or not model_thought):
            written = self.writer.write(at_action, ["\n"], ACTION_TOKENS, action_pattern(names) if self.constrain else None)
            step.raw = (raw + "\nAction:" + written) if raw else "Action:" + written
            action_line = written
        if action is None:
            if action_line is None:
                return self._stuck(step, "the model wrote no Action line", start)
            try:
                action = parse_action(action_line, names)
            except InputError as exc:
                return self._stuck(step, exc.message, start)
        step.tool, step.tool_input = action
        self._observe(step)
        step.seconds = time.perf_counter() - start
        self.steps.append(step)
        if step.tool == FINISH and step.tool_ok:
            self.status = FINISHED
        elif len(self.steps) >= self.max_steps:
            self.status = LIMIT
        return step

    def _observe(self, step: ReactStep) -> None:
        tool = self.tools.get(step.tool)
        if tool is None:
            step.observation = (f"Error: there is no tool called {step.tool!r}; "
                                f"the tools are {', '.join(self.tools)}.")
            step.tool_ok = False
            return
        result = run_tool(tool, step.tool_input)
        step.observation, step.tool_ok = result.text, result.ok

    def _stuck(self, step: ReactStep, problem: str, start: float) -> ReactStep:
        step.problem = problem
        step.seconds = time.perf_counter() - start
        self.steps.append(step)
        self.status = STUCK
        return step


def _split(raw: str) -> tuple[str, str | None]:
    """The Thought and the Action line (None when the model wrote no ``Action:``)."""
    at = raw.find("Action:")
    if at < 0:
        return raw.strip(), None
    thought = raw[:at].strip()
    rest = raw[at + len("Action:"):]
    return thought, rest.strip().splitlines()[0] if rest.strip() else ""

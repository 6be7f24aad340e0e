"""The ReAct tools (issue 31 §3): a calculator (the PAL sandbox), search over the Build tab's knowledge
base (the retriever), and ``finish``.

A tool takes the text inside ``Action: tool[...]`` and returns the text of the Observation. It never
raises into the loop: a refused expression, an empty search or a tool that hangs past its timeout
comes back as an Observation (``ToolResult.ok`` False) the model reads like any other.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

FINISH = "finish"
TOOL_HELP = {
    "calculator": "evaluates an arithmetic expression such as 12 * (3 + 4) / 2 (the PAL sandbox: no names, no imports)",
    "search": "searches the knowledge base (the Build tab's documents) and returns the best passage",
    FINISH: "gives the final answer and ends the trace",
}
DEFAULT_TIMEOUT_S = 10.0


@dataclass
class Tool:
    name: str
    help: str
    run: Callable[[str], str]
    timeout_s: float = DEFAULT_TIMEOUT_S


@dataclass
class ToolResult:
    text: str
    ok: bool = True
    seconds: float = 0.0
    timed_out: bool = False


def calculator(text: str) -> str:
    """The expression's value through the PAL sandbox (a refusal or an error raises, with its reason)."""
    from playground.core.reasoning.sandbox import evaluate_expression

    expr = text.strip().strip("`").strip()
    if not expr:
        raise ValueError("the calculator was given nothing to compute")
    value = evaluate_expression(expr)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}" if isinstance(value, float) else str(value)


class KnowledgeSearch:
    """Search over the bundled knowledge base (hybrid dense + BM25), the index built on first use."""

    def __init__(self, name: str | None = None, k: int = 1, max_chars: int = 400, handle=None) -> None:
        self.name, self.k, self.max_chars, self.handle = name, k, max_chars, handle
        self._index = None
        self._lock = threading.Lock()

    @property
    def index(self):
        with self._lock:
            if self._index is None:
                from playground.core.retrieval import ChunkSettings, RagIndex, load_bundled
                from playground.core.retrieval.store import default_index_folder

                base = load_bundled(self.name)
                self._index = RagIndex.open_or_build(default_index_folder(base.name), base.documents,
                                                     ChunkSettings(), handle=self.handle)
            return self._index

    def prepare(self) -> None:
        """Open or build the index (embedding the documents the first time): done before the tool's timeout runs."""
        _ = self.index

    def __call__(self, query: str) -> str:
        query = query.strip().strip('"').strip()
        if not query:
            raise ValueError("the search was given no words to look for")
        hits = self.index.search(query, method="hybrid", k=self.k)
        if not hits:
            return "Nothing found."
        parts = []
        for h in hits:
            text = " ".join(h.chunk.text.split())
            parts.append(text if len(text) <= self.max_chars else text[:self.max_chars].rsplit(" ", 1)[0] + " …")
        return " | ".join(parts)


def default_tools(search: Callable[[str], str] | None = None, timeout_s: float = DEFAULT_TIMEOUT_S) -> dict[str, Tool]:
    """calculator, search and finish; ``search`` defaults to the bundled knowledge base."""
    search = search or KnowledgeSearch()
    return {
        "calculator": Tool("calculator", TOOL_HELP["calculator"], calculator, timeout_s),
        "search": Tool("search", TOOL_HELP["search"], search, timeout_s),
        FINISH: Tool(FINISH, TOOL_HELP[FINISH], lambda text: text.strip(), timeout_s),
    }


def run_tool(tool: Tool, text: str) -> ToolResult:
    """Run ``tool`` on ``text`` in a worker thread; past ``tool.timeout_s`` the Observation says it timed out.

    A tool with a ``prepare()`` (the knowledge search builds its index on first use) is prepared first, untimed.

    A thread that hangs cannot be killed in Python: it is left as a daemon and its late answer dropped.
    """
    box: dict = {}
    prepare = getattr(tool.run, "prepare", None)
    if prepare is not None:  # a one-off set-up (the search index) is not the tool hanging: outside the timeout
        try:
            prepare()
        except Exception as exc:
            return ToolResult(f"Error: {_plain_error(exc)}", ok=False)

    def work() -> None:
        try:
            box["text"] = str(tool.run(text))
        except Exception as exc:  # a tool error is an Observation, never a crash
            box["error"] = _plain_error(exc)

    start = time.perf_counter()
    worker = threading.Thread(target=work, name=f"tool-{tool.name}", daemon=True)
    worker.start()
    worker.join(tool.timeout_s)
    seconds = time.perf_counter() - start
    if worker.is_alive():
        return ToolResult(f"Error: the {tool.name} tool did not answer within {tool.timeout_s:g} s (timed out).",
                          ok=False, seconds=seconds, timed_out=True)
    if "error" in box:
        return ToolResult(f"Error: {box['error']}", ok=False, seconds=seconds)
    return ToolResult(box.get("text", ""), ok=True, seconds=seconds)


def _plain_error(exc: Exception) -> str:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    hint = getattr(exc, "hint", None)
    return f"{message} {hint}".strip() if hint else message

"""Every prompt-lab run, kept in an SQLite database under the user data dir.

Each run is written in one transaction, so a crash or a kill loses at most the run in flight.
The schema carries a version; a database that is damaged or from a newer version of the app is
moved aside (never deleted) and a fresh one started, and the reason is kept for the UI to show.
"""

from __future__ import annotations

import html
import json
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from playground.core.base.paths import user_dirs

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    model TEXT NOT NULL,
    template TEXT NOT NULL,
    shots INTEGER NOT NULL,
    prompt TEXT NOT NULL,
    settings TEXT NOT NULL,
    output TEXT NOT NULL,
    reference TEXT NOT NULL DEFAULT '',
    scores TEXT NOT NULL DEFAULT '{}',
    dialogue_id TEXT NOT NULL DEFAULT '',
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    seconds REAL NOT NULL DEFAULT 0,
    label TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS runs_created ON runs(created);
"""


@dataclass
class Run:
    """One generation in the prompt lab: what was asked, with which settings, what came back."""

    model: str
    template: str
    shots: int
    prompt: str
    settings: dict
    output: str
    reference: str = ""
    scores: dict = field(default_factory=dict)
    dialogue_id: str = ""
    prompt_tokens: int = 0
    seconds: float = 0.0
    label: str = ""
    created: float = 0.0
    id: int | None = None


class History:
    """The run history. Open it once; it is safe to use from one thread at a time."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else user_dirs().data / "history.sqlite3"
        self.problem = ""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = self._open()
        except (sqlite3.DatabaseError, ValueError) as exc:
            aside = self._keep_aside()
            self.problem = (f"The run history could not be opened ({exc}). It was kept aside as "
                            f"{aside.name} and a new, empty history was started.")
            self._conn = self._open()

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            found = conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
            if found:
                row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
                version = int(row[0]) if row else 0
                if version > SCHEMA_VERSION:
                    raise ValueError(f"it was written by a newer version of the app (schema {version})")
                if version < SCHEMA_VERSION:
                    self._migrate(conn, version)
            else:
                conn.executescript(_SCHEMA)
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            conn.execute("SELECT count(*) FROM runs").fetchone()
            conn.execute("PRAGMA quick_check").fetchone()
        except BaseException:
            conn.close()
            raise
        return conn

    @staticmethod
    def _migrate(conn: sqlite3.Connection, version: int) -> None:
        # Version 0 (no meta row) is an empty file someone created: lay down the schema.
        conn.executescript(_SCHEMA)
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    def _keep_aside(self) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.stem}.broken-{stamp}{self.path.suffix}")
        for suffix in ("", "-wal", "-shm"):
            p = Path(str(self.path) + suffix)
            if p.exists():
                p.replace(Path(str(aside) + suffix))
        return aside

    def close(self) -> None:
        self._conn.close()

    # writing -----------------------------------------------------------------------------------
    def add(self, run: Run) -> int:
        """Save one run in a single transaction; returns its id."""
        run.created = run.created or time.time()
        with self._transaction() as c:
            cur = c.execute(
                "INSERT INTO runs (created, model, template, shots, prompt, settings, output, reference,"
                " scores, dialogue_id, prompt_tokens, seconds, label) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (run.created, run.model, run.template, run.shots, run.prompt, json.dumps(run.settings),
                 run.output, run.reference, json.dumps(run.scores), run.dialogue_id, run.prompt_tokens,
                 run.seconds, run.label))
            run.id = int(cur.lastrowid)
        return run.id

    def delete(self, run_ids: list[int]) -> int:
        with self._transaction() as c:
            cur = c.executemany("DELETE FROM runs WHERE id = ?", [(i,) for i in run_ids])
            return cur.rowcount

    def _transaction(self):
        conn = self._conn

        class _Tx:
            def __enter__(self_inner):
                conn.execute("BEGIN IMMEDIATE")
                return conn

            def __exit__(self_inner, exc_type, exc, tb):
                conn.execute("ROLLBACK" if exc_type else "COMMIT")
                return False

        return _Tx()

    # reading -----------------------------------------------------------------------------------
    def search(self, text: str = "", limit: int = 500) -> list[Run]:
        """Newest first; ``text`` matches the prompt, output, model, template or label."""
        sql = "SELECT * FROM runs"
        args: list = []
        if text.strip():
            like = f"%{text.strip()}%"
            sql += " WHERE prompt LIKE ? OR output LIKE ? OR model LIKE ? OR template LIKE ? OR label LIKE ?"
            args = [like] * 5
        sql += " ORDER BY created DESC, id DESC LIMIT ?"
        args.append(limit)
        return [self._row(r) for r in self._conn.execute(sql, args).fetchall()]

    def get(self, run_id: int) -> Run | None:
        row = self._conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return self._row(row) if row else None

    def count(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM runs").fetchone()[0])

    @staticmethod
    def _row(r) -> Run:
        (rid, created, model, template, shots, prompt, settings, output, reference, scores,
         dialogue_id, prompt_tokens, seconds, label) = r
        return Run(model=model, template=template, shots=shots, prompt=prompt, settings=json.loads(settings),
                   output=output, reference=reference, scores=json.loads(scores), dialogue_id=dialogue_id,
                   prompt_tokens=prompt_tokens, seconds=seconds, label=label, created=created, id=rid)


def _score_text(scores: dict) -> str:
    """'ROUGE-1 31.2, ROUGE-2 8.0, ROUGE-L 25.1 (0-100)': the app's one scale for scores (core/base/units.py)."""
    from playground.core.base.units import format_score

    names = {"rouge1": "ROUGE-1", "rouge2": "ROUGE-2", "rougeL": "ROUGE-L"}
    parts = [f"{names.get(k, k)} {format_score(v, k)}" for k, v in scores.items() if isinstance(v, (int, float))]
    return ", ".join(parts) + (" (0-100)" if parts else "")


def runs_to_markdown(runs: list[Run], title: str = "Prompt lab runs") -> str:
    """A Markdown handout of runs (a history export or a side-by-side comparison)."""
    out = [f"# {title}", ""]
    for r in runs:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created))
        out += [f"## {r.label or f'Run {r.id}'} — {r.template}, {r.shots}-shot", "",
                f"*{when} · {r.model} · {r.prompt_tokens} prompt tokens · {r.seconds:.1f} s*", ""]
        if r.scores:
            out += [f"**Scores:** {_score_text(r.scores)}", ""]
        out += ["**Prompt**", "", "```text", r.prompt, "```", "", "**Output**", "", "```text", r.output, "```", ""]
        if r.reference:
            out += ["**Reference**", "", "```text", r.reference, "```", ""]
        out += [f"Settings: `{json.dumps(r.settings, sort_keys=True)}`", ""]
    return "\n".join(out)


def runs_to_html(runs: list[Run], title: str = "Prompt lab runs") -> str:
    """A self-contained HTML page of runs, side by side when there are few."""
    e = html.escape
    cols = []
    for r in runs:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created))
        scores = f"<p><b>Scores:</b> {e(_score_text(r.scores))}</p>" if r.scores else ""
        ref = f"<h4>Reference</h4><pre>{e(r.reference)}</pre>" if r.reference else ""
        cols.append(
            f"<section><h3>{e(r.label or f'Run {r.id}')}: {e(r.template)}, {r.shots}-shot</h3>"
            f"<p class='meta'>{e(when)} · {e(r.model)} · {r.prompt_tokens} prompt tokens · {r.seconds:.1f} s</p>"
            f"{scores}<h4>Output</h4><pre>{e(r.output)}</pre>{ref}"
            f"<details><summary>Prompt</summary><pre>{e(r.prompt)}</pre></details>"
            f"<p class='meta'>Settings: {e(json.dumps(r.settings, sort_keys=True))}</p></section>")
    style = ("body{font-family:sans-serif;margin:2em;color:#222}main{display:flex;flex-wrap:wrap;gap:1em}"
             "section{flex:1 1 320px;border:1px solid #ccc;border-radius:6px;padding:1em}"
             "pre{white-space:pre-wrap;background:#f6f6f6;padding:.6em;border-radius:4px}.meta{color:#666;font-size:90%}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title><style>{style}</style>"
            f"</head><body><h1>{e(title)}</h1><main>{''.join(cols)}</main></body></html>")

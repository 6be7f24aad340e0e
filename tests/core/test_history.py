import sqlite3

from playground.core.prompting.history import History, Run, runs_to_html, runs_to_markdown


def make_run(i=0, **kw):
    base = dict(model="tiny", template="instruction", shots=i, prompt=f"prompt {i}", settings={"max_new_tokens": 5},
                output=f"output {i}", reference="ref", scores={"rouge1": 0.5}, prompt_tokens=10 + i, seconds=1.5)
    base.update(kw)
    return Run(**base)


def test_add_search_get_delete(tmp_path):
    h = History(tmp_path / "h.sqlite3")
    ids = [h.add(make_run(i)) for i in range(3)]
    assert h.count() == 3
    assert [r.id for r in h.search()] == ids[::-1]  # newest first
    assert [r.prompt for r in h.search("prompt 1")] == ["prompt 1"]
    got = h.get(ids[0])
    assert got.settings == {"max_new_tokens": 5} and got.scores == {"rouge1": 0.5}
    assert h.delete([ids[0]]) == 1
    assert h.get(ids[0]) is None and h.count() == 2


def test_history_survives_a_restart(tmp_path):
    h = History(tmp_path / "h.sqlite3")
    h.add(make_run(1, label="first"))
    h.close()
    again = History(tmp_path / "h.sqlite3")
    assert [r.label for r in again.search()] == ["first"]
    assert again.problem == ""


def test_corrupted_database_is_kept_aside(tmp_path):
    p = tmp_path / "h.sqlite3"
    p.write_bytes(b"this is not an sqlite database at all" * 100)
    h = History(p)
    assert "kept aside" in h.problem
    assert h.count() == 0
    h.add(make_run())
    aside = list(tmp_path.glob("h.broken-*.sqlite3"))
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not")


def test_newer_schema_is_kept_aside(tmp_path):
    p = tmp_path / "h.sqlite3"
    History(p).add(make_run())
    conn = sqlite3.connect(p)
    conn.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    conn.commit()
    conn.close()
    h = History(p)
    assert "newer version" in h.problem and h.count() == 0


def test_a_failed_write_leaves_earlier_runs(tmp_path):
    h = History(tmp_path / "h.sqlite3")
    h.add(make_run(1))
    bad = make_run(2, settings={"x": object()})  # not JSON-serialisable: the insert fails
    try:
        h.add(bad)
    except TypeError:
        pass
    assert h.count() == 1


def test_exports(tmp_path):
    runs = [make_run(0, label="zero-shot", created=1.0, id=1), make_run(2, label="two-shot", created=2.0, id=2)]
    md = runs_to_markdown(runs, "Comparison")
    assert md.startswith("# Comparison") and "## zero-shot" in md and "ROUGE-1 50.0" in md and "0.500" not in md  # the app's 0-100 scale
    page = runs_to_html(runs, "Comparison")
    assert page.count("<section>") == 2 and "http" not in page and "two-shot" in page
    assert "ROUGE-1 50.0" in page

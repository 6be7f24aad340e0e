import json

from playground.core.base.paths import atomic_write_text, user_dirs
from playground.core.base.settings import Settings
from playground.core.base.settings_schema import SETTINGS_VERSION, WindowSection


def test_user_dirs_follow_playground_home(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_HOME", str(tmp_path))
    d = user_dirs()
    assert d.config == tmp_path / "config" and d.cache == tmp_path / "cache"


def test_settings_roundtrip(tmp_path):
    s = Settings(tmp_path / "s.json")
    s.set("generation", {"top_k": 7})
    s.save()
    assert Settings(tmp_path / "s.json").get("generation") == {"top_k": 7}
    assert json.loads((tmp_path / "s.json").read_text())["version"] == SETTINGS_VERSION


def test_corrupt_settings_are_kept_aside(tmp_path):
    p = tmp_path / "s.json"
    p.write_text("{not json")
    s = Settings(p)
    assert s.get("x") is None
    assert "kept aside" in s.load_problem
    assert (tmp_path / "s.json.broken").read_text() == "{not json"


def test_atomic_write_leaves_no_temp_files(tmp_path):
    atomic_write_text(tmp_path / "a.txt", "one")
    atomic_write_text(tmp_path / "a.txt", "two")
    assert (tmp_path / "a.txt").read_text() == "two"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def _write(path, values, version=1):
    path.write_text(json.dumps({"version": version, "values": values}))


def test_wrong_types_fall_back_reported_once_and_not_written_back(tmp_path):
    p = tmp_path / "s.json"
    _write(p, {"generation": "fast", "theme": ["dark"], "zoom": "big",
               "sampling": {"top_k": "many", "temperature": 0.5}, "recent_folders": ["/a", 3],
               "welcome_seen": True, "someone_elses_key": {"x": 1}})
    s = Settings(p)
    # each bad value falls back: the section reads its default there (a version 1 file: migrated first)
    window = s.section(WindowSection)
    assert s.get("generation", {}) == {} and window.theme == "system" and window.zoom == 1.0
    assert window.recent_folders == []
    assert s.get("sampling") == {"temperature": 0.5}  # the good field of a section stays
    assert window.welcome_seen is True and s.get("someone_elses_key") == {"x": 1}
    problem = s.load_problem
    for name in ("generation", "theme", "zoom", "sampling.top_k", "recent_folders"):
        assert problem.count(name) == 1, name  # named once each
    assert "welcome_seen" not in problem
    s.save()
    saved = json.loads(p.read_text())["values"]
    assert "generation" not in saved and "theme" not in saved["window"] and saved["sampling"] == {"temperature": 0.5}
    assert saved["someone_elses_key"] == {"x": 1}
    assert Settings(p).load_problem == ""  # the next start is clean


def test_booleans_are_not_numbers_and_numbers_must_be_finite(tmp_path):
    p = tmp_path / "s.json"
    p.write_text('{"version": 2, "values": {"window": {"current_tab": true, "zoom": NaN, "high_contrast": 1}}}')
    s = Settings(p)
    assert s.get("window") == {}
    assert "current_tab" in s.load_problem and "zoom" in s.load_problem and "high_contrast" in s.load_problem


def test_start_up_survives_wrong_types(qapp, tmp_path):
    """Issue 20 item 11: valid JSON with wrong types must not break the window or the tabs."""
    from playground.qt.context import AppContext
    from playground.qt.main_window import MainWindow

    p = tmp_path / "s.json"
    _write(p, {"generation": "fast", "theme": ["dark"], "sampling": [1], "inside": "x", "zoom": "2",
               "model": 5, "current_tab": "first", "window_geometry": 7, "recent_folders": "here"})
    ctx = AppContext(settings=Settings(p))
    try:
        window = MainWindow(ctx)
        window.restore_view()
        window.build_tabs()
        assert window.tabs.count() >= 5  # every tab was built
        assert window.theme == "system"
        assert "generation" in ctx.settings.load_problem
    finally:
        ctx.runner.shutdown(wait=True)


def test_a_file_without_version_is_migrated(tmp_path):
    p = tmp_path / "s.json"
    p.write_text(json.dumps({"theme": "dark", "zoom": 1.5}))  # version 0: values at the top level
    s = Settings(p)
    window = s.section(WindowSection)
    assert window.theme == "dark" and window.zoom == 1.5 and s.load_problem == ""


def test_a_newer_file_is_kept_aside(tmp_path):
    p = tmp_path / "s.json"
    _write(p, {"theme": "dark"}, version=99)
    s = Settings(p)
    assert s.get("window") is None and "kept aside" in s.load_problem

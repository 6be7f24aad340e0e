import json

from playground.core.paths import atomic_write_text, user_dirs
from playground.core.settings import Settings


def test_user_dirs_follow_playground_home(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_HOME", str(tmp_path))
    d = user_dirs()
    assert d.config == tmp_path / "config" and d.cache == tmp_path / "cache"


def test_settings_roundtrip(tmp_path):
    s = Settings(tmp_path / "s.json")
    s.set("generation", {"top_k": 7})
    s.save()
    assert Settings(tmp_path / "s.json").get("generation") == {"top_k": 7}
    assert json.loads((tmp_path / "s.json").read_text())["version"] == 1


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

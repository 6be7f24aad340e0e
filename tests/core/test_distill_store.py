"""The saved students a run leaves, as other tabs find them (list_students)."""

from __future__ import annotations

import os

from playground.core.distill.store import list_students, student_dir


def _fake_student(folder):
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"")


def test_list_students_newest_run_first_soft_before_hard(tmp_path):
    old, new = tmp_path / "20261206-0700", tmp_path / "20261206-0800"
    for run in (old, new):
        _fake_student(student_dir(run, "soft"))
    _fake_student(student_dir(new, "hard"))
    (tmp_path / "20261206-0900" / "soft" / "model").mkdir(parents=True)  # unfinished: no weights
    os.utime(old, (1, 1))
    assert list_students(tmp_path) == [student_dir(new, "soft"), student_dir(new, "hard"), student_dir(old, "soft")]


def test_list_students_without_runs_is_empty(tmp_path):
    assert list_students(tmp_path / "nothing") == []

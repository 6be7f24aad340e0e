"""Exporting a notebook into a folder that cannot be written says so plainly: the folder, why, and what to
do; never a raw errno or the temporary file's name (issue 29, item 19)."""

from __future__ import annotations

import errno
import os
import tempfile

import pytest
from PySide6.QtCore import Qt

from playground.core.base.errors import PlaygroundError
from playground.core.labs.notebook import build_notebook, write_notebook
from tests.qt.test_labs_panel import window  # noqa: F401  (the main window on the tiny Llama)


def _unwritable(monkeypatch, folder, code: int) -> None:
    """Make ``folder`` refuse new files: chmod where that binds, and, as root (where it does not), the error the
    operating system gives a non-root user (or a read-only disk) on creating the temporary file in it."""
    os.chmod(folder, 0o555)
    probe = folder / ".probe"
    try:
        probe.write_text("x")
    except OSError:
        return  # the folder really is read-only for us
    probe.unlink()
    real = tempfile.mkstemp

    def refuse(*args, dir=None, **kwargs):
        if dir is not None and os.path.samefile(dir, folder):
            name = os.path.join(str(dir), f"{kwargs.get('prefix', '')}k2j4h9{kwargs.get('suffix', '')}")
            raise OSError(code, os.strerror(code), name) if code != errno.EACCES else \
                PermissionError(code, os.strerror(code), name)
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", refuse)


@pytest.mark.bad_input("notebook export into a folder that cannot be written")
@pytest.mark.parametrize("code, why", [(errno.EACCES, "no permission"), (errno.EROFS, "read-only")])
def test_writing_a_notebook_where_it_cannot_be_written_says_the_folder_and_what_to_do(tmp_path, monkeypatch,
                                                                                     code, why, bad_input):
    folder = tmp_path / "handouts"
    folder.mkdir()
    _unwritable(monkeypatch, folder, code)
    nb = build_notebook({"kind": "local", "ref": "x"}, [{"kind": "evaluation", "predictions": ["a"],
                                                         "references": ["a"]}])
    with pytest.raises(PlaygroundError) as caught:
        write_notebook(nb, folder / "lab.ipynb")
    said = f"{caught.value.message} {caught.value.hint}"
    bad_input(said)
    assert str(folder) in caught.value.message and why in caught.value.message
    assert "Errno" not in said and ".tmp" not in said and "k2j4h9" not in said
    assert "folder you can write to" in caught.value.hint
    os.chmod(folder, 0o755)


def test_the_export_dialog_into_a_read_only_folder_shows_a_plain_message(qtbot, window, tmp_path,  # noqa: F811
                                                                         monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    gen = window.panel("GeneratePanel")
    window.tabs.setCurrentIndex(window.panels.index(gen))
    gen.prompt_edit.setPlainText("The sea is")
    gen.max_tokens.setValue(3)
    with qtbot.waitSignal(gen.sig_generation_finished, timeout=30000):
        qtbot.mouseClick(gen.generate_button, Qt.MouseButton.LeftButton)

    folder = tmp_path / "read-only"
    folder.mkdir()
    _unwritable(monkeypatch, folder, errno.EACCES)
    target = folder / "playground-experiments.ipynb"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "Jupyter notebook (*.ipynb)"))
    window.export_notebook_dialog()
    title, message, hint = window.last_error
    assert title == "The notebook could not be saved"
    assert str(folder) in message and "Errno" not in message and ".tmp" not in message
    assert "folder you can write to" in hint
    assert not target.exists() and os.listdir(folder) == []  # nothing half-written left behind
    os.chmod(folder, 0o755)

"""The wizard's JobDraft without a model: typed fields, shared state announced by key, checking at
Start, lenient loading, and bound rows that follow it both ways."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QWidget

from playground.core.base.errors import InputError


@pytest.fixture
def draft(qapp):
    from playground.qt.finetune.draft import JobDraft

    return JobDraft()


def test_the_draft_says_which_key_changed_and_only_when_it_did(draft):
    seen = []
    draft.sig_changed.connect(seen.append)
    draft.set("method.lora.rank", 4)
    draft.set("method.lora.rank", 4)  # the same value: nothing to say
    preview = object()
    draft.preview = preview
    draft.preview = preview
    draft.busy = True
    draft.measured = ("lora", 10, "(test)")
    assert seen == ["method.lora.rank", "preview", "busy", "measured"]
    assert draft.config.method.lora.rank == 4 and draft.preview is preview and draft.busy


def test_validate_checks_a_copy_and_names_the_setting(draft, tmp_path, monkeypatch):
    from playground.core.finetune import runs

    monkeypatch.setattr(runs, "runs_root", lambda: tmp_path / "runs")
    draft.set("training.learning_rate", "fast")  # a draft may hold what validate refuses
    with pytest.raises(InputError, match="training.learning_rate"):
        draft.validate()
    draft.set("training.learning_rate", 0.01)
    cfg = draft.validate()
    assert cfg is not draft.config and cfg.learning_rate == 0.01
    assert cfg.output.dir == str(tmp_path / "runs" / "unnamed") and draft.config.output.dir == ""


def test_loading_ignores_unknown_keys_and_falls_back_on_a_broken_draft(draft):
    draft.load({"method": {"name": "full"}, "from_an_old_version": 1})
    assert draft.config.method.name == "full" and draft.config.evaluation.test_examples == 10
    draft.load({"training": {"epochs": "many"}})  # the wrong type: the wizard's defaults
    assert draft.config.method.name == "lora" and draft.config.training.epochs == 1.0


def test_rows_from_the_config_fields_follow_the_draft_both_ways(qtbot, draft):
    from playground.qt.binding import add_rows
    from playground.qt.finetune.method_forms import lora_box, training_box

    host = QWidget()
    form = QFormLayout(host)
    qtbot.addWidget(host)
    rows = add_rows(form, draft, "training.max_steps")
    box, lora, _ = lora_box(draft)
    train, _, rate, _, _ = training_box(draft)
    for w in (box, train):
        form.addRow(w)
    assert rate.text() == "auto"  # the field's value is shown, even one the box reads back the same
    steps = rows["training.max_steps"]
    assert steps.toolTip() == draft.field("training.max_steps").metadata["help"]
    assert steps.text() == "off (epochs decide)"  # 0 means: the epochs decide
    steps.lineEdit().selectAll()
    qtbot.keyClicks(steps, "12")
    qtbot.keyClick(steps, Qt.Key.Key_Tab)
    assert draft.config.training.max_steps == 12
    rate.clear()
    qtbot.keyClicks(rate, "2e-4")
    assert draft.config.training.learning_rate == pytest.approx(2e-4)
    layers = lora["method.lora.target_modules"]
    qtbot.keyClicks(layers, "q_proj, v_proj")
    assert draft.config.method.lora.target_modules == ["q_proj", "v_proj"]
    draft.load({"method": {"lora": {"rank": 3, "target_modules": "auto"}}, "training": {"learning_rate": "auto"}})
    assert lora["method.lora.rank"].value() == 3 and layers.text() == "" and rate.text() == "auto"

"""The adapter attached in the model bar comes back after a restart (its switch as it was), and a run
whose folder went is said and forgotten, the base model kept."""

from __future__ import annotations

import shutil

import pytest
import torch

from playground.core.base.settings import Settings
from playground.core.base.settings_schema import AdapterSection
from playground.core.finetune.attach import named_for_run
from playground.qt.context import AppContext
from playground.qt.model_bar import ModelBar


@pytest.fixture
def lora_run(lora_run_and_model):
    return lora_run_and_model


def _logits(model, ids):
    with torch.no_grad():
        return model(input_ids=ids).logits


def _attach(ctx, base, run_dir, peft_model) -> None:
    """What the Result page's 'Use in playground' does with a run in memory."""
    trained = type(base)(model=peft_model, tokenizer=base.tokenizer, info=base.info, source=base.source, extras={})
    ctx.set_adapter(named_for_run(base, trained, run_dir / "adapter", run_dir, "lora"), on=True)


def _restart(qapp, old: AppContext, loaded) -> AppContext:
    """What a new start does: read the settings file, load the last model, then restore the adapter."""
    old.settings.save()  # as the window does when it closes
    old.runner.shutdown(wait=True)
    ctx = AppContext(settings=Settings(old.settings.path))
    ctx._on_loaded(loaded)  # the model load finished
    return ctx


def test_attached_adapter_is_attached_again_after_a_restart(qtbot, qapp, context_with_tiny_llama, tiny_llama,
                                                            lora_run):
    run_dir, peft_model = lora_run
    ctx = context_with_tiny_llama
    _attach(ctx, tiny_llama, run_dir, peft_model)
    ctx.use_adapter(False)  # the learner switched back to the base before quitting
    saved = ctx.settings.get("adapter")
    assert saved["dir"] == str(run_dir / "adapter") and saved["on"] is False and saved["name"] == "lora-run-3"

    again = _restart(qapp, ctx, tiny_llama)
    bar = ModelBar(again)
    qtbot.addWidget(bar)
    assert bar.adapter_check.text() == "No adapter"
    notices, status = [], []
    again.sig_notice.connect(notices.append)
    # what the status bar is told, in order: the notice must come after the busy message is cleared
    again.sig_busy.connect(lambda m, _f: status.append(("busy", m)))
    again.sig_notice.connect(lambda m: status.append(("notice", m)))
    task = again.restore_adapter()
    assert task is not None
    qtbot.waitUntil(lambda: again.session.adapter is not None and bool(notices), timeout=30000)
    assert status[0][0] == "busy" and "Attaching the adapter lora-run-3" in status[0][1]
    assert status[-1][0] == "notice"
    try:
        adapter = again.session.adapter
        assert adapter.extras["adapter_dir"] == str(run_dir / "adapter")
        assert again.session.adapter_on is False and again.session.current is tiny_llama
        assert bar.adapter_check.isEnabled() and not bar.adapter_check.isChecked()
        assert bar.adapter_check.text() == "Adapter: lora-run-3"
        assert notices and "lora-run-3" in notices[0] and "off" in notices[0]
        # The model that came back is the trained one: the same logits as before the restart, not the base's.
        ids = torch.tensor([[1, 5, 9, 14]])
        assert torch.allclose(_logits(adapter.model, ids), _logits(peft_model, ids), atol=1e-5)
        assert not torch.allclose(_logits(adapter.model, ids), _logits(tiny_llama.model, ids), atol=1e-3)
        bar.adapter_check.click()  # the switch works as before
        assert again.session.current is adapter and again.settings.get("adapter")["on"] is True
    finally:
        again.runner.shutdown(wait=True)


def test_a_run_folder_that_went_is_said_and_forgotten(qtbot, qapp, context_with_tiny_llama, tiny_llama, lora_run):
    run_dir, peft_model = lora_run
    ctx = context_with_tiny_llama
    _attach(ctx, tiny_llama, run_dir, peft_model)
    shutil.rmtree(run_dir)

    again = _restart(qapp, ctx, tiny_llama)
    try:
        with qtbot.waitSignal(again.sig_notice, timeout=30000) as blocker:
            again.restore_adapter()
        assert "lora-run-3" in blocker.args[0] and "could not be attached again" in blocker.args[0]
        assert "not in" in blocker.args[0] and "base model is in use" in blocker.args[0]
        assert again.session.adapter is None and again.session.current is tiny_llama
        assert again.settings.section(AdapterSection).dir == ""
        assert again.restore_adapter() is None  # forgotten: the next start does not try again
    finally:
        again.runner.shutdown(wait=True)


def test_another_model_drops_the_remembered_adapter(qtbot, qapp, context_with_tiny_llama, tiny_llama, tiny_t5,
                                                    lora_run):
    run_dir, peft_model = lora_run
    ctx = context_with_tiny_llama
    _attach(ctx, tiny_llama, run_dir, peft_model)
    assert ctx.settings.get("adapter")["dir"]
    ctx._on_loaded(tiny_t5)  # the learner loaded another model: the adapter trained for the old one goes
    assert ctx.settings.section(AdapterSection).dir == "" and ctx.session.adapter is None
    assert ctx.restore_adapter() is None

"""Issue 29, newcomer finding: switching to the encoder and back dropped the attached adapter without a
word. The status bar now says the adapter was detached, why, and how to attach it again."""

from __future__ import annotations


from playground.core.models.sources import ModelSource
from tests.qt.shown import main_window
from tests.screens import keep_screenshot


def test_loading_another_model_says_the_adapter_was_detached(qtbot, context_with_tiny_llama, tiny_adapter,
                                                             tiny_bert_dir, tiny_llama_dir):
    ctx = context_with_tiny_llama
    window = main_window(qtbot, ctx)
    window.resize(1300, 850)
    assert window.model_bar.adapter_check.text() == "Adapter: run-7"
    with qtbot.waitSignal(ctx.sig_notice, timeout=60000):
        ctx.load_model(ModelSource("local", str(tiny_bert_dir)), device="cpu")  # as "Change model…" does
    said = window.statusBar().currentMessage()
    assert "run-7" in said and "detached" in said and "tiny-llama" in said
    assert "Use in playground" in said  # what brings it back
    assert ctx.session.adapter is None and window.model_bar.adapter_check.text() == "No adapter"
    keep_screenshot(window, "adapter-detached-notice.png")

    # Loading a model when no adapter is attached says nothing of the kind.
    notices = []
    ctx.sig_notice.connect(notices.append)
    task = ctx.load_model(ModelSource("local", str(tiny_llama_dir)), device="cpu")
    with qtbot.waitSignal(task.sig_finished, timeout=60000):
        pass
    assert not any("detached" in n for n in notices)

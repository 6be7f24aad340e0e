"""The model bar's memory figure says what is held (issue 35): the model, a precision copy beside the model
as loaded, the attached fine-tuned copy, a kept result, then "other"; the keeper gives back a dropped copy."""

import copy
import gc
import weakref

import pytest

from playground.core.base.units import format_bytes
from playground.qt.model_bar import ModelBar
from tests.qt.shown import shown


@pytest.fixture(autouse=True)
def _no_copies_named_by_earlier_tests():
    """Result pages of earlier tests (Align, Fine-tune) named the copies they kept, and a copy can outlive
    its page (a queued result still refers to it): these tests count only the copies they make."""
    from playground.core.base.memory import holdings, release_unused, unhold

    release_unused()
    for _label, obj in holdings():
        unhold(obj)


def _labels(bar):
    # an encoder an earlier test loaded may still be alive (a search index keeps it): the bar rightly names it,
    # and these tests are about the other parts
    return [h.label for h in bar.held if h.label != "encoder"]


def _weights(model):
    return sum({t.untyped_storage().data_ptr(): t.untyped_storage().nbytes()
                for t in list(model.parameters()) + list(model.buffers())}.values())


def test_the_bar_lists_the_model_a_precision_copy_and_an_attached_copy(qtbot, context_with_tiny_llama, tiny_llama):
    from playground.core.lifecycle.precision import at_precision

    ctx = context_with_tiny_llama
    bar = shown(qtbot, ModelBar(ctx), 1200, 40)
    assert _labels(bar) == ["model", "other"]
    assert bar.held[0].bytes == _weights(tiny_llama.model)
    other = bar.held[-1]
    assert other.label == "other"
    assert bar.memory_label.text().startswith(f"In memory: model {format_bytes(bar.held[0].bytes)} · ")
    assert bar.memory_label.text().endswith(f" · other {format_bytes(other.bytes)}")
    assert "In memory" in bar.toolTip() and "the weights of the model every tab uses" in bar.memory_label.toolTip()

    bf16 = at_precision(tiny_llama, "bf16")
    ctx.session.set(bf16)
    ctx.sig_model_changed.emit(bf16)
    assert _labels(bar) == ["precision copy", "model", "other"]
    assert bar.held[0].bytes < bar.held[1].bytes  # half the bytes (the buffers stay FP32)
    assert bar.held_text().startswith(f"precision copy {format_bytes(bar.held[0].bytes)}, model ")

    ctx.session.set(tiny_llama)
    ctx.sig_model_changed.emit(tiny_llama)
    adapted = copy.deepcopy(tiny_llama)
    ctx.set_adapter(adapted, on=False)
    assert _labels(bar) == ["model", "fine-tuned copy (off)", "other"]
    ctx.use_adapter(True)
    assert _labels(bar) == ["model", "fine-tuned copy", "other"]
    assert "fine-tuned copy" in bar.toolTip()


def test_a_kept_result_is_named_and_the_keeper_frees_it_once_dropped(qtbot, context_with_tiny_llama, tiny_llama):
    from playground.core.base.memory import hold
    from playground.core.base.runtime import quiet_loading

    ctx = context_with_tiny_llama
    bar = shown(qtbot, ModelBar(ctx), 1200, 40)

    class Page:  # a page keeping a run's model, referring back to itself as Qt pages and peft models do
        def __init__(self, model):
            self.model, self.me = model, self

    with quiet_loading():  # frozen, as everything alive after a model load is
        page = Page(copy.deepcopy(tiny_llama.model))
    hold("fine-tune result", page.model)
    bar.refresh_memory()
    assert _labels(bar) == ["model", "fine-tune result", "other"]
    dead = weakref.ref(page.model)
    del page
    gc.collect()
    assert dead() is not None  # frozen in a cycle: a plain collection never frees it
    with qtbot.waitSignal(ctx.memory.sig_released, timeout=5000):
        ctx.memory.release_now()
    assert dead() is None
    assert _labels(bar) == ["model", "other"]  # the bar read the figure again


def test_the_keeper_waits_while_a_task_runs(qtbot, context_with_tiny_llama):
    import threading

    ctx = context_with_tiny_llama
    gate = threading.Event()
    task = ctx.runner.submit("hold on", lambda h: gate.wait(30))
    before = ctx.memory.releases
    ctx.memory.release_now()  # a load might be pausing the collector: nothing is done now
    assert ctx.memory.releases == before
    gate.set()
    qtbot.waitUntil(lambda: task.finished, timeout=10000)
    qtbot.waitUntil(lambda: not ctx.runner.active, timeout=10000)
    ctx.memory.release_now()
    assert ctx.memory.releases == before + 1


def test_a_finished_run_lets_go_of_what_its_work_and_hooks_captured(qtbot, app_context):
    """A slot keeps its last task (for ``outcome()``), not the model its closures captured."""
    from playground.qt.task_slot import TaskSlot

    class Big:  # stands for a model or a stepper a page's closures refer to
        pass

    slot = TaskSlot(app_context.runner)
    big = Big()
    got = []
    with qtbot.waitSignal(slot.sig_busy_changed, timeout=10000, check_params_cb=lambda busy: not busy):
        slot.start("work", lambda h, b=big: id(b), on_done=lambda r, b=big: got.append(r),
                   on_finished=lambda task, b=big: got.append(task.outcome))
    assert got == [id(big), "done"] and slot.outcome() == "done"
    dead = weakref.ref(big)
    del big
    gc.collect()
    assert dead() is None


def test_a_model_replaced_by_a_tasks_result_is_given_back_once_the_runner_is_idle(qtbot, context_with_tiny_llama,
                                                                                  tiny_llama):
    """'Use this precision' sets the model from its task's result, while the task still counts as running."""
    from playground.core.lifecycle.precision import at_precision
    from playground.qt.task_slot import TaskSlot

    ctx = context_with_tiny_llama
    ctx.sig_model_changed.emit(tiny_llama)  # the model every tab has (the keeper notes it)
    bf16 = at_precision(tiny_llama, "bf16")
    ctx.session.set(bf16)
    ctx.sig_model_changed.emit(bf16)
    qtbot.waitUntil(lambda: not ctx.memory.pending, timeout=5000)
    dead = weakref.ref(bf16.model)
    del bf16

    def use(loaded):
        ctx.session.set(loaded)
        ctx.sig_model_changed.emit(loaded)

    slot = TaskSlot(ctx.runner)
    before = ctx.memory.releases
    with qtbot.waitSignal(ctx.memory.sig_released, timeout=10000):
        slot.start("use fp32", lambda h: at_precision(ctx.session.base, "fp32"), on_done=use)  # instant: no long work
    assert ctx.session.base is tiny_llama and ctx.memory.releases == before + 1
    gc.collect()
    assert dead() is None


def test_a_release_due_when_new_work_starts_happens_after_that_work(qtbot, app_context):
    """A sweep ends (a release is due in a moment), and the learner starts something at once."""
    import threading

    keeper = app_context.memory
    keeper._pending.start()  # noqa: SLF001 (what the end of a long job does)
    gate = threading.Event()
    before = keeper.releases
    task = app_context.runner.submit("next job", lambda h: gate.wait(30))
    assert not keeper.pending  # the collector must not run beside a starting load
    gate.set()
    with qtbot.waitSignal(keeper.sig_released, timeout=10000):
        qtbot.waitUntil(lambda: task.finished, timeout=10000)
    assert keeper.releases == before + 1


def test_the_keepers_collection_runs_outside_its_timers_slot_and_stops_with_the_runner(qtbot, app_context,
                                                                                         monkeypatch):
    """A full collection may delete Qt objects only garbage held; it runs from the event loop's next turn,
    with none of the keeper's own slots on the stack, and never after the runner shut down."""
    import inspect

    import playground.core.base.memory as memory

    stacks = []
    monkeypatch.setattr(memory, "release_unused", lambda: stacks.append([f.function for f in inspect.stack()]))
    keeper = app_context.memory
    keeper._full = True  # noqa: SLF001 (a model was replaced: the next release is a full one)
    keeper._pending.start()  # noqa: SLF001 (what the end of a long job does)
    with qtbot.waitSignal(keeper.sig_released, timeout=10000):
        pass
    assert len(stacks) == 1 and "_deferred_release" in stacks[0]
    assert "_release_when_worth_it" not in stacks[0]

    app_context.runner.shutdown(wait=True)
    keeper._full = True  # noqa: SLF001
    keeper._pending.start()  # noqa: SLF001 (a timer started before the window closed)
    qtbot.wait(600)
    keeper.release_now()
    assert len(stacks) == 1 and not keeper.pending

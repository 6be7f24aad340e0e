"""The task slot (one run per panel, late results dropped, failures in the message line) and
pause / resume in the runner's Task."""

import threading

from playground.core.base.errors import InputError
from playground.core.base.handle import TaskHandle
from playground.qt.task_slot import TaskSlot


def _held(release: threading.Event, items=(1, 2, 3)):
    """A generator task that yields ``items`` and then holds until ``release`` (or Stop)."""
    def work(handle):
        for item in items:
            yield item
        while not release.wait(0.01):
            if handle.cancelled():
                return
        yield "late"
    return work


def test_start_supersedes_and_drops_late_results(qtbot, app_context):
    said, seen, finished = [], [], []
    slot = TaskSlot(app_context.runner, said.append, on_item=seen.append,
                    on_finished=lambda t: finished.append(t.name))
    release = threading.Event()
    first = slot.start("first", _held(release, items=("a",)))
    qtbot.waitUntil(lambda: seen == ["a"], timeout=5000)
    with qtbot.waitSignal(first.sig_finished, timeout=5000):
        second = slot.start("second", lambda h: (x for x in ("b", "c")))
        release.set()
    qtbot.waitUntil(lambda: second.finished, timeout=5000)
    assert first.outcome == "cancelled"  # the first run was stopped by the second start
    assert "late" not in seen
    assert seen == ["a", "b", "c"]
    assert finished == ["second"]  # a superseded run does not report for the slot
    assert not slot.busy


def test_done_and_busy_signals(qtbot, app_context):
    busy, done = [], []
    slot = TaskSlot(app_context.runner, on_done=done.append)
    slot.sig_busy_changed.connect(busy.append)
    slot.start("answer", lambda h: 6 * 7)
    assert slot.busy
    qtbot.waitUntil(lambda: not slot.busy, timeout=5000)
    assert done == [42]
    assert busy == [True, False]
    assert slot.outcome() == "done"


def test_failure_lands_in_the_message_line_by_default(qtbot, app_context):
    said = ["old message"]

    def bad(handle):
        raise InputError("The file is empty.", "Choose another file.")

    slot = TaskSlot(app_context.runner, said.append)
    slot.start("bad", bad)
    assert said[-1] == ""  # a start clears the previous message
    qtbot.waitUntil(lambda: not slot.busy, timeout=5000)
    assert said[-1] == "The file is empty. Choose another file."
    assert slot.outcome() == "failed"


def test_own_failure_hook_replaces_the_message(qtbot, app_context):
    said, failures = [], []
    slot = TaskSlot(app_context.runner, said.append)
    slot.start("bug", lambda h: 1 / 0, on_failed=lambda m, h: failures.append(m))
    qtbot.waitUntil(lambda: not slot.busy, timeout=5000)
    assert said == [""]
    assert len(failures) == 1 and "division" in failures[0]


def test_unknown_hook_is_refused(app_context):
    slot = TaskSlot(app_context.runner)
    try:
        slot.start("x", lambda h: None, on_sucess=print)
    except TypeError as exc:
        assert "on_sucess" in str(exc)
    else:
        raise AssertionError("a misspelt hook must not pass silently")


def test_stop_cancels_the_run(qtbot, app_context):
    seen = []
    slot = TaskSlot(app_context.runner, on_item=seen.append)
    slot.start("held", _held(threading.Event()))
    qtbot.waitUntil(lambda: len(seen) == 3, timeout=5000)
    slot.stop()
    qtbot.waitUntil(lambda: not slot.busy, timeout=5000)
    assert slot.outcome() == "cancelled"
    assert seen == [1, 2, 3]


def _steps_until_stop(handle):
    """Work with a graceful ending: steps until a stop is asked for, then saves and returns.

    After three steps it waits for the stop instead of stepping on: a loop yielding as fast as it can
    sends the GUI thread tens of thousands of items a second, and PySide6 6.12 then aborts
    ("bool_dealloc") inside a queued emit, a crash no real task comes near.
    """
    step = 0
    idle = threading.Event()
    while not handle.stop_requested():
        handle.wait_while_paused()
        if step >= 3:
            idle.wait(0.01)  # the worker waits for the Stop; the test itself never sleeps
            continue
        step += 1
        yield step
    yield f"saved at step {step}"


def test_graceful_stop_lets_the_run_save_and_end_normally(qtbot, app_context):
    seen, done = [], []
    slot = TaskSlot(app_context.runner, on_item=seen.append, on_done=done.append)
    task = slot.start("steps", _steps_until_stop)
    qtbot.waitUntil(lambda: len(seen) >= 3, timeout=5000)
    slot.stop(graceful=True)
    qtbot.waitUntil(lambda: not slot.busy, timeout=5000)
    assert slot.outcome() == "done" and done == [None]
    assert not task.handle.cancelled()
    steps = [x for x in seen if isinstance(x, int)]
    assert steps == list(range(1, len(steps) + 1))
    assert seen[-1] == f"saved at step {steps[-1]}"  # its last word came after its last step


def test_graceful_stop_wakes_a_paused_run(qtbot, app_context):
    seen = []
    slot = TaskSlot(app_context.runner, on_item=seen.append)
    task = slot.start("steps", _steps_until_stop)
    qtbot.waitUntil(lambda: len(seen) >= 1, timeout=5000)
    with qtbot.waitSignal(task.sig_paused, timeout=5000):
        slot.pause()
    with qtbot.waitSignal(task.sig_resumed, timeout=5000):
        slot.stop(graceful=True)
    qtbot.waitUntil(lambda: task.finished, timeout=5000)
    assert task.outcome == "done" and str(seen[-1]).startswith("saved at step")
    slot.pause()  # nothing left to pause
    assert not slot.paused


def test_pause_parks_a_generator_between_items(qtbot, app_context):
    gate = threading.Event()
    produced = []

    def counting(handle):
        for i in range(100):
            produced.append(i)
            yield i
            if i == 2:
                gate.wait(5)  # the test asks for the pause while item 2 is being handled

    seen, parked = [], []
    slot = TaskSlot(app_context.runner, on_item=seen.append)
    slot.sig_paused_changed.connect(parked.append)
    task = slot.start("count", counting)
    qtbot.waitUntil(lambda: len(produced) == 3, timeout=5000)
    with qtbot.waitSignal(task.sig_paused, timeout=5000):
        slot.pause()
        gate.set()
    assert slot.paused and parked == [True]
    held_at = len(produced)
    qtbot.waitUntil(lambda: len(seen) == held_at, timeout=5000)
    # The pause came while item 3 was being made: it is delivered, then the worker parks.
    assert held_at == 4 and seen == [0, 1, 2, 3]
    assert not task.finished
    with qtbot.waitSignal(task.sig_resumed, timeout=5000):
        slot.resume()
    qtbot.waitUntil(lambda: task.finished, timeout=5000)
    assert seen == list(range(100))
    assert parked == [True, False]
    assert task.outcome == "done"


def test_stop_while_paused_ends_the_run(qtbot, app_context):
    def steps(handle):
        for i in range(1000):
            handle.raise_if_cancelled()  # a core function's step boundary parks while paused
            if i == 1:
                handle.pause()  # as if the user pressed Pause during step 1
        return "never"

    slot = TaskSlot(app_context.runner)
    with qtbot.waitSignal(slot.sig_paused_changed, timeout=5000) as blocker:
        task = slot.start("steps", steps)
    assert blocker.args == [True] and not task.finished
    slot.stop()
    qtbot.waitUntil(lambda: task.finished, timeout=5000)
    assert task.outcome == "cancelled"


def test_handle_parks_only_when_paused():
    handle = TaskHandle()
    parked = []
    handle._on_parked = parked.append
    assert handle.wait_while_paused() is False and parked == []
    handle.pause()
    assert handle.paused()
    t = threading.Thread(target=handle.wait_while_paused)
    t.start()
    while not parked:
        t.join(0.01)
    handle.resume()
    t.join(5)
    assert not t.is_alive() and parked == [True, False]
    handle.cancel()
    handle.pause()  # a cancelled handle is never paused again: Stop wins
    assert not handle.paused()


def test_a_closed_owner_stops_its_run_and_hears_nothing(qtbot, app_context):
    from PySide6.QtWidgets import QWidget

    owner = QWidget()
    seen = []
    slot = TaskSlot(app_context.runner, seen.append, on_item=seen.append, parent=owner)
    task = slot.start("held", _held(threading.Event()))
    qtbot.waitUntil(lambda: seen == ["", 1, 2, 3], timeout=5000)
    with qtbot.waitSignal(task.sig_finished, timeout=5000):
        owner.deleteLater()  # the panel closes while its run is held
    assert task.outcome == "cancelled"
    assert seen == ["", 1, 2, 3]

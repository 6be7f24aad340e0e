import threading

from playground.core.base.errors import InputError


def test_result_returns_on_gui_thread(qtbot, app_context):
    gui = threading.get_ident()
    seen = {}

    def work(handle):
        seen["worker"] = threading.get_ident()
        handle.report(0.5, "half")
        return 42

    task = app_context.runner.submit("answer", work)
    done = []
    task.sig_done.connect(lambda r: done.append((r, threading.get_ident())))
    progress = []
    task.sig_progress.connect(lambda p, m: progress.append((p, m)))
    qtbot.waitUntil(lambda: task.finished, timeout=5000)
    assert done == [(42, gui)]
    assert seen["worker"] != gui
    assert progress == [(0.5, "half")]
    assert task.outcome == "done"


def test_generator_items_arrive_in_order(qtbot, app_context):
    task = app_context.runner.submit("count", lambda h: (i for i in range(50)))
    items = []
    task.sig_item.connect(items.append)
    with qtbot.waitSignal(task.sig_finished, timeout=5000):
        pass
    assert items == list(range(50))


def test_errors_become_plain_messages(qtbot, app_context):
    def bad(handle):
        raise InputError("The file is empty.", "Choose another file.")

    task = app_context.runner.submit("bad", bad)
    with qtbot.waitSignal(task.sig_failed, timeout=5000) as blocker:
        pass
    assert blocker.args == ["The file is empty.", "Choose another file."]
    assert task.outcome == "failed"


def test_unexpected_errors_do_not_crash(qtbot, app_context):
    task = app_context.runner.submit("bug", lambda h: 1 / 0)
    with qtbot.waitSignal(task.sig_failed, timeout=5000) as blocker:
        pass
    assert "division" in blocker.args[0] and "ZeroDivisionError" in blocker.args[1]


def test_cancel_stops_a_generator_between_items(qtbot, app_context):
    def slow(handle):
        for i in range(1000):
            if i >= 3:
                handle.wait_cancelled(5)  # held after three items until the test cancels
            yield i

    task = app_context.runner.submit("slow", slow)
    items = []
    task.sig_item.connect(items.append)
    qtbot.waitUntil(lambda: len(items) >= 3, timeout=5000)
    with qtbot.waitSignal(task.sig_cancelled, timeout=2000):
        task.cancel()
    assert task.outcome == "cancelled"
    assert len(items) < 1000


def test_failed_model_load_keeps_current_model(qtbot, context_with_tiny_llama, tmp_path):
    from playground.core.models.sources import ModelSource

    ctx = context_with_tiny_llama
    before = ctx.session.current
    errors = []
    ctx.sig_error.connect(lambda *a: errors.append(a))
    with qtbot.waitSignal(ctx.sig_model_load_failed, timeout=10000) as blocker:
        ctx.load_model(ModelSource("local", str(tmp_path / "nope")))
    assert "does not exist" in blocker.args[0]
    assert ctx.session.current is before
    assert errors and errors[0][0] == "The model could not be loaded"


def test_work_ending_after_its_task_object_is_gone_raises_nothing(qtbot, app_context):
    """The app quits while work runs on: when it ends, the deleted Qt objects are not emitted on."""
    import asyncio

    import shiboken6

    from playground.qt.runner import ensure_loop

    errors = []
    loop = ensure_loop()
    old_handler = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    release = threading.Event()
    runner = app_context.runner
    try:
        task = runner.submit("slow", lambda h: release.wait(5) and 1)
        qtbot.waitUntil(lambda: bool(runner.active), timeout=5000)
        shiboken6.delete(task)  # what closing the window does to a task still running
        release.set()
        qtbot.waitUntil(lambda: not runner._tasks, timeout=5000)
        qtbot.wait(50)  # let the finishing coroutine's last callbacks run
    finally:
        loop.set_exception_handler(old_handler)
    assert not [e for e in errors if isinstance(e.get("exception"), RuntimeError)], errors
    assert isinstance(loop, asyncio.AbstractEventLoop)

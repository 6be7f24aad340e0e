"""The task handle's two Stops: a cancel tears the work down, a graceful stop lets it finish its step."""

import threading

import pytest

from playground.core.base.errors import Cancelled
from playground.core.base.handle import TaskHandle


def test_a_graceful_stop_is_not_a_cancel():
    handle = TaskHandle()
    assert not handle.stop_requested() and not handle.cancelled()
    handle.request_stop()
    assert handle.stop_requested() and not handle.cancelled()
    handle.raise_if_cancelled()  # work that knows only cancel runs on


def test_a_cancel_is_a_stop_too():
    handle = TaskHandle()
    handle.cancel()
    assert handle.stop_requested() and handle.cancelled()


def test_a_graceful_stop_wakes_a_paused_worker_and_is_never_paused_again():
    handle = TaskHandle()
    parked = []
    handle._on_parked = parked.append
    handle.pause()
    worker = threading.Thread(target=handle.wait_while_paused)
    worker.start()
    while not parked:
        worker.join(0.01)
    handle.request_stop()
    worker.join(5)
    assert not worker.is_alive() and parked == [True, False]
    handle.pause()
    assert not handle.paused()


def test_the_view_for_parts_with_nothing_to_save_ends_on_a_graceful_stop():
    handle = TaskHandle()
    reported = []
    part = handle.ending_on_stop()
    handle._on_progress = lambda p, m: reported.append((p, m))  # set after the view: it still counts
    part.report(0.5, "half")
    assert reported == [(0.5, "half")]
    assert not part.cancelled()
    part.raise_if_cancelled()
    handle.request_stop()
    assert part.cancelled() and part.wait_cancelled(0) and not handle.cancelled()
    with pytest.raises(Cancelled):
        part.raise_if_cancelled()

"""The Fine-tune Data step on a big file (issue 29, item 14): counts while reading, and Stop."""

from __future__ import annotations

import csv

from PySide6.QtCore import Qt


def test_a_big_file_shows_counts_while_it_is_read_and_stops(qtbot, wizard, tmp_path):
    panel = wizard
    data = panel.data_page
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    path = tmp_path / "big.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["dialogue", "summary"])
        w.writerows([f"A: lunch at {i}?\nB: yes.", f"They meet at {i}."] for i in range(40_000))
    data.open_file(str(path))
    status = data.look.status_label
    qtbot.waitUntil(lambda: "of 40,000 rows" in status.text(), timeout=60_000)
    assert status.text().startswith("Tokenized ") and data.stop_button.isVisible()
    assert data.stop_button.text() == "Stop reading"
    qtbot.mouseClick(data.stop_button, Qt.MouseButton.LeftButton)
    assert data.task is None and "Stopped reading" in status.text()
    assert data.stop_button.text() == "Read the data again" and data.stop_button.isVisible()
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    assert panel.current == 1 and "stopped" in panel.nav_message.text()
    assert data.task is None and "Stopped reading" in status.text()  # Next did not start reading again
    qtbot.mouseClick(data.stop_button, Qt.MouseButton.LeftButton)  # read it again, to the end
    qtbot.waitUntil(lambda: data.preview is not None and data.task is None, timeout=120_000)
    assert sum(len(sp.lines) for sp in data.preview.splits.values()) == 40_000
    assert not data.stop_button.isVisible()

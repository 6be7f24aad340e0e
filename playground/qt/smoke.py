"""`playground --smoke-test`: start the GUI, load the model, generate through the GUI, open every
tab, exit 0. Used by CI and by the installers' checks."""

from __future__ import annotations

import os
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication


def seconds_since_process_start() -> float | None:
    """Wall time since this process was started (the frozen app's bootloader included).

    The ``[smoke N s]`` clock starts only when the app's module is imported, after Python itself
    and the bundle's archive are up; launch time is what a user waits for.
    """
    try:  # Linux: both figures count from boot (psutil adds the boot time, rounded to 1 s)
        with open("/proc/self/stat") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        pass
    try:
        import psutil
    except ImportError:
        return None
    try:
        return time.time() - psutil.Process().create_time()
    except (OSError, psutil.Error):  # the figure is optional
        return None


class SmokeTest:
    def __init__(self, window, started: float, timeout_s: float = 900) -> None:
        self.window = window
        self.started = started
        self.exit_code = 1
        self.log: list[str] = []
        self._timeout = QTimer()
        self._timeout.setSingleShot(True)
        self._timeout.timeout.connect(lambda: self._finish(False, f"timed out after {timeout_s:.0f} s"))
        self._timeout.start(int(timeout_s * 1000))
        ctx = window.context
        ctx.sig_model_changed.connect(self._on_model)
        ctx.sig_model_load_failed.connect(lambda m, h: self._finish(False, f"model load failed: {m} {h}"))

    def _say(self, text: str) -> None:
        line = f"[smoke {time.perf_counter() - self.started:6.2f}s] {text}"
        self.log.append(line)
        print(line, flush=True)

    def on_first_paint(self) -> None:
        since_launch = seconds_since_process_start()
        extra = f" ({since_launch:.2f} s after launch)" if since_launch is not None else ""
        self._say(f"first paint{extra}")

    def _on_model(self, loaded) -> None:
        if getattr(self, "_model_seen", False):
            return
        self._model_seen = True
        self._say(f"model loaded: {loaded.info.summary()}")
        gen = self.window.panel("GeneratePanel")
        self.window.tabs.setCurrentWidget(gen)
        gen.prompt_edit.setPlainText("Write one sentence about the sea.")
        gen.max_tokens.setValue(8)
        gen.mode.setCurrentIndex(0)
        gen.sig_generation_finished.connect(self._on_generated)
        gen.generate_button.click()

    def _on_generated(self, text: str) -> None:
        gen = self.window.panel("GeneratePanel")
        if not text.strip() or gen.tokens == 0:
            self._finish(False, f"generation produced nothing ({gen.message_label.text()})")
            return
        self._say(f"generated {gen.tokens} tokens: {text.strip()!r}")
        for i in range(self.window.tabs.count()):
            self.window.tabs.setCurrentIndex(i)
            QApplication.processEvents()
            self._say(f"opened tab {self.window.tabs.tabText(i)}")
        try:  # the bundled encoder ships in the app too: it must load offline
            from playground.core.models.encoder import sentence_similarity

            score = sentence_similarity("The sea is calm today.", "Today the ocean is quiet.")
        except Exception as exc:  # noqa: BLE001 - any failure is the smoke test's answer
            self._finish(False, f"the bundled encoder did not load: {exc}")
            return
        self._say(f"bundled encoder loaded: paraphrase similarity {score:.2f}")
        self._finish(True, "ok")

    def _finish(self, ok: bool, why: str) -> None:
        self._timeout.stop()
        self.exit_code = 0 if ok else 1
        self._say(("PASSED: " if ok else "FAILED: ") + why)
        self.window.close()
        QApplication.instance().quit()

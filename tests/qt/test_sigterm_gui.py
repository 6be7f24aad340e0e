"""Issue 29, item 8 (GUI): SIGTERM while the app trains is handled like Ctrl+C in the CLI: the training
ends its step and writes a checkpoint, the settings are saved and the app closes (exit code 0)."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.cli.test_finetune_cli import write_data, write_job

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import sys
    job, tiny = sys.argv[1], sys.argv[2]

    import playground.core.models.loading as loading
    from playground.core.models.sources import ModelSource

    real_load = loading.load_model
    # The app opens on the tiny model, not the bundled one (its first conversion takes a minute).
    loading.load_model = lambda source, *a, **kw: real_load(ModelSource("local", tiny), *a, **kw)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    import playground.qt.app as app_module
    from playground.core.finetune import StepEvent, load_config, run_finetune

    def start_training():
        window = next((w for w in QApplication.topLevelWidgets() if hasattr(w, "context")), None)
        if window is None or window.context.session.current is None:
            # After the app's model load: two threads importing transformers' lazy modules at once
            # can fail ("cannot import name 'CONFIG_MAPPING'"), which is not what this test is about.
            QTimer.singleShot(100, start_training)
            return
        cfg = load_config(job)
        # As the Fine-tune tab's Train page starts a run: through the runner, with the task's handle.
        task = window.context.runner.submit("fine-tune run", lambda handle: run_finetune(cfg, handle))
        seen = []

        def on_item(ev):
            if isinstance(ev, StepEvent) and not seen:
                seen.append(ev)
                print("TRAINING", flush=True)

        task.sig_item.connect(on_item)

    QTimer.singleShot(0, start_training)
    code = app_module.main([])
    print("MAIN RETURNED", code, flush=True)
""")


def _wait_for_line(proc, text: str, timeout: float) -> str:
    """stdout read until a line holds ``text`` (the whole output so far is returned)."""
    seen = ""
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while text not in seen and time.monotonic() < deadline and proc.poll() is None:
        if selector.select(timeout=1.0):
            seen += proc.stdout.readline()
    return seen


def test_sigterm_while_training_stops_with_a_checkpoint_and_closes(tmp_path, tiny_llama_dir):
    write_data(tmp_path / "data")
    job = write_job(tmp_path / "job.toml", tiny_llama_dir, steps=100000, save_every=0)
    env = {**os.environ, "PLAYGROUND_HOME": str(tmp_path / "home"), "QT_QPA_PLATFORM": "offscreen",
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(job), str(tiny_llama_dir)], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out = _wait_for_line(proc, "TRAINING", timeout=180)
        assert "TRAINING" in out, out
        proc.send_signal(signal.SIGTERM)  # as `kill PID`, a logout or a service stop would
        rest, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out += rest
    assert proc.returncode in (0, 143), (proc.returncode, out, err[-3000:])
    assert "SIGTERM" in err and "checkpoint" in err, err[-3000:]
    checkpoints = sorted((tmp_path / "run" / "checkpoints").glob("step-*/state.json"))
    assert checkpoints, (out, err[-3000:])  # the step was not lost
    assert (tmp_path / "home").rglob("settings*.json"), "the settings were saved"

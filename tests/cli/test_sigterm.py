"""Issue 29, item 8 (CLI): SIGTERM (a logout, a service stop, `kill`) mid-training stops like Ctrl+C:
after the current step, with a checkpoint and the command that resumes it (finetune and align)."""

from __future__ import annotations

import os
import signal

import pytest

from playground.cli.main import main
from tests.cli.test_finetune_cli import write_data, write_job


@pytest.fixture
def sigterm_guard():
    """Until the command installs its own handler, a SIGTERM fails the test instead of killing pytest."""
    def unhandled(signum, frame):
        raise RuntimeError("SIGTERM reached a handler that does not stop the run cleanly")

    previous = signal.signal(signal.SIGTERM, unhandled)
    yield
    signal.signal(signal.SIGTERM, previous)


def _terminated_at_first(step_type, real):
    def run(*args, **kwargs):
        sent = False
        for ev in real(*args, **kwargs):
            yield ev
            if isinstance(ev, step_type) and not sent:
                sent = True
                os.kill(os.getpid(), signal.SIGTERM)  # as `kill PID` would, mid-run
    return run


@pytest.mark.bad_input("finetune: SIGTERM mid-training")
def test_sigterm_mid_finetune_stops_after_the_step_with_a_checkpoint(tiny_llama_dir, tmp_path, capsys,
                                                                     monkeypatch, sigterm_guard, bad_input):
    import playground.core.finetune as ft

    write_data(tmp_path / "data")
    job = write_job(tmp_path / "job.toml", tiny_llama_dir, steps=6, save_every=0)
    monkeypatch.setattr(ft, "run_finetune", _terminated_at_first(ft.StepEvent, ft.run_finetune))
    assert main(["finetune", str(job), "--quiet"]) == 130
    err = capsys.readouterr().err
    bad_input(err.strip().splitlines()[-2] + " " + err.strip().splitlines()[-1])
    run = tmp_path / "run"
    assert f"Continue with: playground finetune --resume {run}" in err
    assert (run / "checkpoints" / "step-000001" / "state.json").is_file()
    assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL  # the test's handler is back


@pytest.mark.bad_input("align: SIGTERM mid-training")
def test_sigterm_mid_align_stops_after_the_step_with_a_checkpoint(tiny_llama_dir, tmp_path, capsys,
                                                                  monkeypatch, sigterm_guard, bad_input):
    import playground.core.align.job as align_job
    from playground.core.align.events import AlignStepEvent
    from tests.cli.test_align_cli import _job

    monkeypatch.setattr(align_job, "run_align", _terminated_at_first(AlignStepEvent, align_job.run_align))
    out = tmp_path / "run"
    assert main(["align", str(_job(tmp_path, tiny_llama_dir, "grpo", steps=4)), "--output", str(out),
                 "--quiet"]) == 130
    err = capsys.readouterr().err
    bad_input(" ".join(err.strip().splitlines()[-2:]))
    assert f"Continue with: playground align --resume {out}" in err
    assert "Stopped at step 1" in err

"""Issue 29, item 20: `evaluate --adapter` on a run still training says the run is still going (and
on one that stopped early, how to resume it), not "is not an adapter folder"."""

from __future__ import annotations

import json

import pytest

from playground.cli.main import main


def _run_at_step_2(folder):
    from playground.core.finetune.config import FinetuneConfig

    folder.mkdir()
    (folder / "job.toml").write_text(FinetuneConfig().to_toml(), encoding="utf-8")
    ckpt = folder / "checkpoints" / "step-000002"
    (ckpt / "model").mkdir(parents=True)
    (ckpt / "state.json").write_text(json.dumps({"step": 2}), encoding="utf-8")
    return folder


@pytest.mark.bad_input("evaluate --adapter on a run still training")
def test_a_run_still_training_is_named_as_such(tmp_path, tiny_llama_dir, capsys, bad_input):
    from playground.core.finetune.lock import RunLock

    run = _run_at_step_2(tmp_path / "run")
    with RunLock(run):  # the run's own lock, as a training process holds it
        assert main(["evaluate", "--adapter", str(run / "adapter"), "--model", str(tiny_llama_dir),
                     "--limit", "1"]) == 2
    err = capsys.readouterr().err
    bad_input(err)
    assert "The run run is still going (its newest checkpoint is at step 2)" in err
    assert "is not an adapter folder" not in err
    assert f"--adapter {run / 'checkpoints' / 'step-000002' / 'model'}" in err


@pytest.mark.bad_input("evaluate --adapter on a run that stopped before saving")
def test_a_stopped_run_says_how_to_resume_it(tmp_path, tiny_llama_dir, capsys, bad_input):
    run = _run_at_step_2(tmp_path / "run")
    assert main(["evaluate", "--adapter", str(run / "adapter"), "--model", str(tiny_llama_dir), "--limit", "1"]) == 2
    err = capsys.readouterr().err
    bad_input(err)
    assert "The run run did not finish (its newest checkpoint is at step 2)" in err
    assert f"playground finetune --resume {run}" in err


def test_the_gui_path_says_it_too(tmp_path, tiny_llama):
    from playground.core.base.errors import InputError
    from playground.core.evaluation.run import load_adapter_copy
    from playground.core.finetune.lock import RunLock

    run = _run_at_step_2(tmp_path / "run")
    with RunLock(run), pytest.raises(InputError, match="is still going"):
        load_adapter_copy(tiny_llama, run / "adapter")

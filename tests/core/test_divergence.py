"""Divergence between steps: a huge learning rate stops the run with what to change, keeps the last
good checkpoint and saves nothing non-finite (issue 20, item 1); blown-up weights are not a good
checkpoint (issue 29, item 11)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_finetune_train import data_dir, make_config  # noqa: E402,F401  (the module's fixture)

from playground.core.finetune import CheckpointEvent, DoneEvent, StepEvent, run_finetune  # noqa: E402
from playground.core.finetune.divergence import DivergedError, divergence, nonfinite_parameters  # noqa: E402
from playground.core.finetune.layout import RunFolder  # noqa: E402


def test_the_check_names_nan_infinite_and_a_loss_far_above_its_start():
    assert divergence(2.6, None) is None and divergence(3.5, 2.6, 1.0) is None
    assert "NaN" in divergence(math.nan, 2.6)
    assert "gradients became infinite" in divergence(2.5, 2.6, math.inf)
    assert "rose from 2.600" in divergence(24.0, 2.6)
    assert divergence(7.7, 2.6) is None  # below 3x the start


def run_until_error(cfg):
    steps = []
    with pytest.raises(DivergedError) as err:
        for ev in run_finetune(cfg):
            if isinstance(ev, StepEvent):
                steps.append(ev)
    return steps, err.value


@pytest.mark.bad_input("finetune: learning_rate = 1e30 (the weights blow up at the first step)")
@pytest.mark.parametrize("method", ["lora", "full"])
def test_a_huge_rate_stops_the_run_and_keeps_none_of_its_weights(method, tiny_llama_dir, data_dir, tmp_path,
                                                                 bad_input):
    from playground.core.base.errors import PlaygroundError

    cfg = make_config(tiny_llama_dir, data_dir, tmp_path / "run", method, steps=8, save_every=1)
    cfg.training.learning_rate = 1e30
    cfg.training.max_grad_norm = 0.0  # no clipping, as a learner may set it
    steps = []
    with pytest.raises(PlaygroundError) as err:
        for ev in run_finetune(cfg):
            if isinstance(ev, StepEvent):
                steps.append(ev)
    bad_input(err.value)
    run = RunFolder(tmp_path / "run")
    assert all(math.isfinite(s.loss) for s in steps)  # no NaN step was ever reported as done
    # Step 1 moved the weights to ~1e30 (finite): that checkpoint is refused, not kept as "good".
    assert "blown up" in err.value.message and "last good checkpoint" not in err.value.message
    assert "learning_rate" in err.value.hint
    assert not run.report_json.exists() and not run.artifact(method).exists()
    assert run.status() == "failed" and "blown up" in run.failure()["message"]
    assert run.latest_checkpoint() is None


@pytest.mark.bad_input("finetune: the loss turns NaN after two good steps")
def test_a_nan_loss_stops_the_run_keeps_the_good_checkpoint_and_saves_no_result(tiny_llama_dir, data_dir,
                                                                                tmp_path, monkeypatch, bad_input):
    import torch

    import playground.core.finetune.loop as loop

    real, calls = loop.completion_loss_sum, []

    def nan_after_two_steps(*args, **kwargs):  # 2 micro-batches a step: NaN from step 3 on
        s, n = real(*args, **kwargs)
        calls.append(1)
        return (s * float("nan"), n) if len(calls) > 4 else (s, n)

    monkeypatch.setattr(loop, "completion_loss_sum", nan_after_two_steps)
    cfg = make_config(tiny_llama_dir, data_dir, tmp_path / "run", "lora", steps=8, save_every=1)
    steps, err = run_until_error(cfg)
    bad_input(err)
    run = RunFolder(tmp_path / "run")
    assert len(steps) == 2 and all(math.isfinite(s.loss) for s in steps)
    assert "at step 3" in err.message and "learning_rate" in err.hint
    assert not run.report_json.exists() and not run.artifact("lora").exists()
    assert run.status() == "failed" and "diverged" in run.failure()["message"]
    kept = run.latest_checkpoint()
    assert kept is not None and f"The last good checkpoint is kept: {kept}." in err.message
    from safetensors.torch import load_file

    for f in kept.rglob("*.safetensors"):
        assert all(torch.isfinite(t).all() for t in load_file(f).values()), f


@pytest.mark.bad_input("finetune: learning_rate = 10 (the loss climbs far above its start)")
def test_a_loss_far_above_its_start_stops_the_run(tiny_llama_dir, data_dir, tmp_path, bad_input):
    cfg = make_config(tiny_llama_dir, data_dir, tmp_path / "run", "full", steps=12)
    cfg.training.learning_rate = 10.0
    steps, err = run_until_error(cfg)
    bad_input(err)
    assert steps, "the first step is the reference"
    assert "far above" in err.message or "NaN" in err.message or "infinite" in err.message
    assert not (tmp_path / "run" / "report.json").exists() and not (tmp_path / "run" / "model").exists()


def test_a_sound_run_is_not_stopped(tiny_llama_dir, data_dir, tmp_path):
    evs = list(run_finetune(make_config(tiny_llama_dir, data_dir, tmp_path / "run", "lora", steps=4)))
    assert isinstance(evs[-1], DoneEvent)


def test_nonfinite_weights_are_never_saved(tiny_llama):
    import torch

    from playground.core.base.errors import PlaygroundError
    from playground.core.finetune.divergence import refuse_nonfinite

    model = tiny_llama.model
    p = next(model.parameters())
    old = p.detach().clone()
    try:
        with torch.no_grad():
            p[0, 0] = float("nan")
        assert nonfinite_parameters(model) == [next(model.named_parameters())[0]]
        with pytest.raises(PlaygroundError, match="nothing was saved"):
            refuse_nonfinite(model, "adapter/")
    finally:
        with torch.no_grad():
            p.copy_(old)
    assert nonfinite_parameters(model) == []

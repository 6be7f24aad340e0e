"""Issue 29, items 9, 10 and 11 (core): a full disk while saving says where and how much space it
needs; a run that failed in setup does not block its retry; an absurd learning rate is warned about
before the first step, and blown-up weights are never saved nor called a good checkpoint."""

from __future__ import annotations

import errno
import json

import pytest

from playground.core.base.errors import InputError, PlaygroundError
from playground.core.finetune import DoneEvent, StageEvent, StepEvent, run_finetune
from playground.core.finetune.layout import RunFolder
from tests.core.test_finetune_train import data_dir, make_config  # noqa: F401  (data_dir: a fixture)


def _safetensor_full_disk(*args, **kwargs):
    from safetensors import SafetensorError

    raise SafetensorError('Error while serializing: IoError(Os { code: 28, kind: StorageFull, message: '
                          '"No space left on device" })')


def _oserror_full_disk(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.bad_input("finetune: the disk fills while saving (SafetensorError / OSError ENOSPC)")
@pytest.mark.parametrize("save", [_safetensor_full_disk, _oserror_full_disk], ids=["SafetensorError", "ENOSPC"])
def test_a_full_disk_names_the_folder_and_the_space_needed(tiny_llama_dir, data_dir, tmp_path, monkeypatch,
                                                           save, bad_input):
    import playground.core.finetune.job as job

    monkeypatch.setattr(job, "save_trained", save)
    out = tmp_path / "run"
    cfg = make_config(tiny_llama_dir, data_dir, out, steps=2, save_every=1)
    with pytest.raises(PlaygroundError) as err:
        list(run_finetune(cfg))
    bad_input(err.value)
    msg = err.value.message
    assert msg.startswith(f"The disk is full: saving the trained weights to {out} failed. They need about ")
    assert "is free there" in msg and "Something went wrong" not in str(err.value)
    assert "Free that much space" in err.value.hint
    failed = RunFolder(out).failure()
    assert failed["message"] == msg and failed["hint"]  # the runs list shows why, with what to do


@pytest.mark.bad_input("finetune: a retry after a run that failed in setup")
def test_a_run_that_failed_in_setup_does_not_block_its_retry(tiny_llama_dir, data_dir, tmp_path, bad_input):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"dialogue": "#Person1#: hi", "summary": \n', encoding="utf-8")
    out = tmp_path / "run"
    cfg = make_config(tiny_llama_dir, data_dir, out, steps=1)
    cfg.data.source = str(bad)
    with pytest.raises(InputError) as err:
        list(run_finetune(cfg))
    bad_input(err.value)
    assert sorted(p.name for p in out.iterdir()) == ["failed.json", "job.toml"]  # what setup left
    fixed = make_config(tiny_llama_dir, data_dir, out, steps=1)  # the data fixed; no overwrite asked for
    assert isinstance(list(run_finetune(fixed))[-1], DoneEvent)
    assert RunFolder(out).status() == "finished" and not (out / "failed.json").exists()


def test_a_folder_with_more_than_a_failed_setup_is_still_refused(tiny_llama_dir, data_dir, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "job.toml").write_text("", encoding="utf-8")
    (out / "failed.json").write_text(json.dumps({"message": "x", "step": 0}), encoding="utf-8")
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match="already exists"):
        list(run_finetune(make_config(tiny_llama_dir, data_dir, out, steps=1)))
    assert (out / "notes.txt").read_text() == "mine"


@pytest.mark.bad_input("finetune: learning_rate = 1e30")
def test_an_absurd_rate_is_warned_about_and_its_weights_are_never_kept(tiny_llama_dir, data_dir, tmp_path,
                                                                        bad_input):
    out = tmp_path / "run"
    cfg = make_config(tiny_llama_dir, data_dir, out, steps=3, save_every=1)
    cfg.training.learning_rate = 1e30
    events = []
    with pytest.raises(PlaygroundError) as err:
        for ev in run_finetune(cfg):
            events.append(ev)
    warnings = [e for e in events if isinstance(e, StageEvent) and e.stage == "warning"]
    assert warnings and events.index(warnings[0]) < next(i for i, e in enumerate(events) if isinstance(e, StepEvent))
    assert "1e+30 is 3,333,333,333,333,333" in warnings[0].message and "usual rate for LoRA" in warnings[0].message
    bad_input(err.value)
    assert "blown up" in err.value.message and "last good checkpoint" not in err.value.message
    assert "usual 0.0003" in err.value.hint
    assert RunFolder(out).list_checkpoints() == []  # nothing of the 1e30 weights is kept


def test_a_divergence_does_not_call_a_blown_up_checkpoint_good(tmp_path):
    import torch
    from safetensors.torch import save_file

    from playground.core.finetune.divergence import diverged_error
    from playground.core.finetune.safety import vet_divergence

    run = RunFolder(tmp_path / "run")
    for step, value in ((1, 0.5), (2, 1e30)):
        ckpt = run.checkpoint(step)
        (ckpt / "model").mkdir(parents=True)
        save_file({"w": torch.full((2, 2), value)}, str(ckpt / "model" / "adapter_model.safetensors"))
        (ckpt / "state.json").write_text("{}", encoding="utf-8")
    err = vet_divergence(diverged_error("the loss became infinite", 3, 1e30, str(run.checkpoint(2))), run)
    assert "last good checkpoint" not in err.message
    assert "Its newest checkpoint (step-000002) holds blown-up weights (values up to 1e+30)" in err.message
    assert err.step == 3
    import shutil

    shutil.rmtree(run.checkpoint(2))  # a sane newest checkpoint keeps the message as it was
    ok = diverged_error("the loss became infinite", 3, 0.1, str(run.checkpoint(1)))
    assert vet_divergence(ok, run) is ok

"""Bad settings and faults get plain words (issue 20, items 6, 8, 9, 10 and 12): symlink loops, NaN
settings, unwritable or full disks, wrong types in a job file, the Hub without network."""

from __future__ import annotations

import errno
import math
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_finetune_train import data_dir, make_config  # noqa: E402,F401  (the module's fixture)

from playground.core.base.errors import InputError, ModelLoadError, PlaygroundError, write_error  # noqa: E402
from playground.core.finetune import run_finetune  # noqa: E402
from playground.core.finetune.config import FinetuneConfig  # noqa: E402
from playground.core.finetune.layout import RunFolder  # noqa: E402
from playground.core.models.sources import ModelSource  # noqa: E402


@pytest.mark.bad_input("--model: a symlink loop (absolute and relative)")
@pytest.mark.parametrize("relative", [False, True])
def test_a_symlink_loop_as_the_model_says_so(tmp_path, monkeypatch, relative, bad_input):
    from playground.core.models.loading import load_model

    monkeypatch.chdir(tmp_path)
    os.symlink("loop-b", tmp_path / "loop-a")
    os.symlink("loop-a", tmp_path / "loop-b")
    source = ModelSource.parse("loop-a" if relative else str(tmp_path / "loop-a"))
    assert source.kind == "local"  # not taken for an offline Hub id
    with pytest.raises(ModelLoadError) as err:
        load_model(source, device="cpu")
    bad_input(err.value)
    assert "leads back to itself (a loop)" in err.value.message


@pytest.mark.bad_input("settings: NaN or infinite temperature / top-p")
@pytest.mark.parametrize("temperature, top_p", [(math.nan, 1.0), (math.inf, 1.0), (0.7, math.nan)])
def test_non_finite_generation_settings_are_refused(temperature, top_p, bad_input):
    from playground.core.decoding.generation import GenerationSettings
    from playground.core.decoding.sampling import SamplingSettings

    with pytest.raises(InputError) as err:
        GenerationSettings.make(do_sample=True, temperature=temperature, top_p=top_p).validate()
    bad_input(err.value)
    assert "must be a number" in err.value.message
    with pytest.raises(InputError, match="must be a number"):
        SamplingSettings(temperature=temperature, top_p=top_p).validate()


@pytest.mark.bad_input("playground generate --temperature nan")
def test_the_cli_refuses_nan_at_the_edge(capsys, bad_input):
    from playground.cli.main import main

    with pytest.raises(SystemExit) as stop:
        main(["generate", "--prompt", "hi", "--temperature", "nan"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    bad_input(err.strip().splitlines()[-1])
    assert "'nan' is not a finite number" in err


@pytest.mark.bad_input("job file: a wrong type (target_modules = 5, max_steps = \"ten\", learning_rate = inf)")
@pytest.mark.parametrize("section, key, value, words", [
    ("method.lora", "target_modules", 5, "must be \"auto\" or a list of layer names"),
    ("training", "max_steps", "ten", "must be a whole number"),
    ("training", "learning_rate", math.inf, "not a number that can be used"),
    ("training", "gradient_checkpointing", 1, "must be true or false"),
])
def test_a_wrong_type_in_a_job_file_names_the_key_and_the_type(section, key, value, words, bad_input):
    data: dict = {}
    node = data
    for part in section.split("."):
        node = node.setdefault(part, {})
    node[key] = value
    with pytest.raises(InputError) as err:
        FinetuneConfig.from_dict(data, "job.toml")
    text = bad_input(err.value)
    assert f"'{section}.{key}'" in text and words in text and "(TypeError)" not in text


@pytest.mark.bad_input("finetune: the output folder is on a read-only disk")
def test_an_unwritable_output_folder_says_so(tiny_llama_dir, data_dir, tmp_path, monkeypatch, bad_input):
    import playground.core.finetune.job as job

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / "run"))

    monkeypatch.setattr(job, "atomic_write_text", read_only)
    with pytest.raises(PlaygroundError) as err:
        list(run_finetune(make_config(tiny_llama_dir, data_dir, tmp_path / "run", steps=1)))
    text = bad_input(err.value)
    assert "read-only disk" in text and "[Errno" not in text


@pytest.mark.bad_input("finetune: the disk fills up while a checkpoint is written")
def test_a_full_disk_at_a_checkpoint_says_where_and_that_the_last_checkpoint_is_safe(
        tiny_llama_dir, data_dir, tmp_path, monkeypatch, bad_input):
    import torch

    import playground.core.finetune.checkpoint as ckpt

    real_save, calls = torch.save, []

    def fill_up(obj, f, *args, **kwargs):
        calls.append(f)
        if len(calls) >= 2:  # the second checkpoint hits the full disk
            raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 64 vs 0")
        return real_save(obj, f, *args, **kwargs)

    assert ckpt.save_checkpoint  # it imports torch when called: patch torch.save itself
    monkeypatch.setattr(torch, "save", fill_up)
    cfg = make_config(tiny_llama_dir, data_dir, tmp_path / "run", steps=4, save_every=1)
    with pytest.raises(PlaygroundError) as err:
        list(run_finetune(cfg))
    text = bad_input(err.value)
    run = RunFolder(tmp_path / "run")
    assert "The disk is full" in text and str(run.path) in text
    assert f"The last checkpoint is safe: {run.checkpoint(1)}" in text and "enforce fail" not in text
    assert run.latest_checkpoint() == run.checkpoint(1)


def test_write_error_leaves_other_errors_alone():
    assert write_error(ValueError("x"), "a", "b") is None
    assert "disk is full" in str(write_error(OSError(errno.ENOSPC, "No space left on device"), "the report", "/x"))


@pytest.mark.bad_input("Hub id with no network (Hub not set offline)")
def test_no_network_gives_the_offline_message_not_the_hubs_text(monkeypatch, bad_input):
    import huggingface_hub

    from playground.core.models import sources as model_sources

    from huggingface_hub.errors import LocalEntryNotFoundError

    def no_network(*args, **kwargs):
        if kwargs.get("local_files_only"):
            raise FileNotFoundError("not cached")
        try:  # what huggingface_hub raises when the Hub cannot be reached and nothing is cached
            raise OSError("[Errno -3] Temporary failure in name resolution")
        except OSError as cause:
            raise LocalEntryNotFoundError("An error happened while trying to locate the files on the Hub and we "
                                          "cannot find the appropriate snapshot folder.") from cause

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", no_network)
    with pytest.raises(ModelLoadError) as err:
        model_sources.download_from_hub("someone/some-model")
    bad_input(err.value)
    assert "cannot be reached (offline)" in err.value.message

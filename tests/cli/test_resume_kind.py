"""Issue 29, item 16: `--resume` on the other command's run says which run it is and which command
resumes it (align on a fine-tuning run, and the reverse)."""

from __future__ import annotations

import pytest

from playground.cli.main import main


def _finetune_run(folder):
    from playground.core.finetune.config import FinetuneConfig

    folder.mkdir()
    cfg = FinetuneConfig()
    cfg.output.dir = str(folder)
    (folder / "job.toml").write_text(cfg.to_toml(), encoding="utf-8")
    return folder


def _align_run(folder):
    from playground.core.align.config import AlignConfig

    folder.mkdir()
    cfg = AlignConfig()
    cfg.output.dir = str(folder)
    (folder / "job.toml").write_text(cfg.to_toml(), encoding="utf-8")
    return folder


@pytest.mark.bad_input("align --resume on a fine-tuning run, finetune --resume on an align run")
def test_resume_on_the_other_commands_run_names_the_right_command(tmp_path, capsys, bad_input):
    ft = _finetune_run(tmp_path / "ft")
    assert main(["align", "--resume", str(ft)]) == 2
    err = capsys.readouterr().err
    bad_input(err)
    assert f"{ft} is a fine-tuning run, not an align run" in err
    assert f"Resume it with: playground finetune --resume {ft}" in err
    assert "Unknown setting" not in err

    al = _align_run(tmp_path / "al")
    assert main(["finetune", "--resume", str(al)]) == 2
    err = capsys.readouterr().err
    bad_input(err)
    assert f"{al} is an align run, not a fine-tuning run" in err
    assert f"Resume it with: playground align --resume {al}" in err


def test_run_kind_reads_the_job_file(tmp_path):
    from playground.core.finetune.layout import run_kind

    assert run_kind(_finetune_run(tmp_path / "ft")) == "finetune"
    assert run_kind(_align_run(tmp_path / "al")) == "align"
    assert run_kind(tmp_path / "none") == ""

"""`playground distill job.toml`: the job file's conventions (relative paths, --output, --resume,
another command's run refused), the table printed and the students saved."""

from __future__ import annotations

import pytest

from playground.cli.main import main
from tests.core.distill_helpers import save_tiny_teacher, write_dialogues


def write_job(path, teacher, steps=2, out="run", extra=()):
    lines = ["[model]", f'source = "{teacher}"', 'device = "cpu"',
             "[distill]", "temperature = 2.0", "alpha = 0.5", "compare_hard = false",
             "[data]", 'source = "data/train.jsonl"', 'validation = "data/validation.jsonl"',
             'test = "data/test.jsonl"', "max_length = 64",
             "[training]", f"max_steps = {steps}", "learning_rate = 0.003", "micro_batch_size = 2",
             "gradient_accumulation_steps = 1", "save_every = 0", "warmup_ratio = 0.0",
             "[evaluation]", "test_examples = 0", "before = false",
             "[output]", f'dir = "{out}"', *extra]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def teacher(tmp_path_factory, bundled_tokenizer):
    return save_tiny_teacher(tmp_path_factory.mktemp("teacher"), bundled_tokenizer)


def test_distill_job_file_trains_prints_and_saves(teacher, tmp_path, capsys):
    from transformers import AutoModelForCausalLM

    write_dialogues(tmp_path / "data")
    job = write_job(tmp_path / "job.toml", teacher)
    assert main(["distill", str(job)]) == 0
    out = capsys.readouterr().out
    assert "Student, soft targets" in out and "perplexity" in out
    folder = tmp_path / "run" / "soft" / "model"  # relative to the job file's folder
    assert AutoModelForCausalLM.from_pretrained(str(folder)).config.num_hidden_layers == 2
    assert (tmp_path / "run" / "report.md").is_file()
    # the folder is taken: refused without --overwrite, in plain words
    assert main(["distill", str(job)]) == 2
    assert "already exists" in capsys.readouterr().err
    # a finished run does not resume; a fine-tuning command does not take it
    assert main(["distill", "--resume", str(tmp_path / "run")]) == 2
    assert "already finished" in capsys.readouterr().err
    assert main(["finetune", "--resume", str(tmp_path / "run")]) == 2
    assert "is a distillation run" in capsys.readouterr().err


@pytest.mark.bad_input("playground distill with T <= 0 in the job file")
def test_bad_temperature_in_job_file(teacher, tmp_path, capsys, bad_input):
    write_dialogues(tmp_path / "data")
    job = write_job(tmp_path / "job.toml", teacher)
    job.write_text(job.read_text().replace("temperature = 2.0", "temperature = 0.0"))
    assert main(["distill", str(job)]) == 2
    err = capsys.readouterr().err
    bad_input(err)
    assert "temperature T must be above 0" in err and not (tmp_path / "run").exists()

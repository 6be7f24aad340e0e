"""`playground finetune`: a job file, a bad data row, kill -9 then --resume, and 2 processes under
`accelerate launch` on the CPU."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from playground.cli.main import main
from tests.cli.stepped_child import kill_at_step

ROOT = Path(__file__).resolve().parents[2]


def write_data(folder: Path, n_train: int = 24) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, n in (("train", n_train), ("validation", 4), ("test", 2)):
        rows = [{"dialogue": f"#Person1#: Tea at {i % 4}?\n#Person2#: Sure.", "summary": "They plan tea."}
                for i in range(n)]
        (folder / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return folder


def write_job(path: Path, model_dir: Path, steps: int, save_every: int, out: str = "run", **extra) -> Path:
    lines = [
        "[model]", f'source = "{model_dir}"', 'device = "cpu"',
        "[data]", 'source = "data/train.jsonl"', 'validation = "data/validation.jsonl"',
        'test = "data/test.jsonl"', "max_length = 64",
        "[method]", 'name = "lora"',
        "[method.lora]", "dropout = 0.1",
        "[training]", f"max_steps = {steps}", "learning_rate = 0.02", "micro_batch_size = 1",
        "gradient_accumulation_steps = 2", "eval_every = 0", f"save_every = {save_every}", "warmup_ratio = 0.0",
        "[evaluation]", f"test_examples = {extra.get('test_examples', 0)}", "max_new_tokens = 4", "before = false",
        "[output]", f'dir = "{out}"',
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def child_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_a_corrupted_row_stops_the_job_with_its_line(tiny_llama_dir, tmp_path, capsys):
    data = write_data(tmp_path / "data")
    lines = (data / "train.jsonl").read_text().splitlines()
    lines[4] = '{"dialogue": "#Person1#: hi", "summary": '
    (data / "train.jsonl").write_text("\n".join(lines) + "\n")
    job = write_job(tmp_path / "job.toml", tiny_llama_dir, steps=2, save_every=0)
    assert main(["finetune", str(job)]) == 2
    err = capsys.readouterr().err
    assert "Line 5 of train.jsonl is not valid JSON" in err


def test_kill_9_mid_training_then_resume_finishes_like_an_uninterrupted_run(tiny_llama_dir, tmp_path, capsys):
    write_data(tmp_path / "data")
    job = write_job(tmp_path / "job.toml", tiny_llama_dir, steps=10, save_every=2)
    # The job runs in a child process that, after each step, waits for a line on its stdin: the
    # kill lands mid-run, at a step the test chose.
    script = ("import sys\n"
              "from playground.core.finetune import StepEvent, load_config, run_finetune\n"
              "for ev in run_finetune(load_config(sys.argv[1])):\n"
              "    if isinstance(ev, StepEvent):\n"
              "        print('step', ev.step, flush=True)\n"
              "        sys.stdin.readline()\n")
    child = subprocess.Popen([sys.executable, "-c", script, str(job)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env=child_env(), cwd=ROOT)
    kill_at_step(child, 5)  # step 4's checkpoint is complete before step 5 starts
    assert child.returncode == -signal.SIGKILL
    run = tmp_path / "run"
    assert (run / "checkpoints" / "step-000004" / "state.json").is_file()
    assert not (run / "report.json").exists()

    assert main(["finetune", "--resume", str(run)]) == 0
    err = capsys.readouterr().err
    assert "Resuming at step 4" in err
    report = json.loads((run / "report.json").read_text())
    assert report["training"]["steps"] == 10
    resumed = [c[1] for c in report["curves"]["train_loss"]]

    write_job(tmp_path / "job2.toml", tiny_llama_dir, steps=10, save_every=0, out="whole")
    assert main(["finetune", str(tmp_path / "job2.toml")]) == 0
    whole = json.loads((tmp_path / "whole" / "report.json").read_text())
    assert resumed == pytest.approx([c[1] for c in whole["curves"]["train_loss"]], abs=1e-6)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_on_the_cpu_under_accelerate_launch(tiny_llama_dir, tmp_path):
    write_data(tmp_path / "data", n_train=16)
    job = write_job(tmp_path / "job.toml", tiny_llama_dir, steps=3, save_every=2, test_examples=1)
    env = child_env() | {"ACCELERATE_USE_CPU": "true", "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
           "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
           "--main_process_port", str(free_port()), "-m", "playground", "finetune", str(job)]
    done = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2 process(es)" in done.stderr
    assert done.stderr.count("Done. Trained weights") == 1  # only the main process prints and writes
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["training"]["processes"] == 2 and report["training"]["steps"] == 3
    # 2 processes x 2 micro-batches of 1 example per step: 4 examples a step.
    assert report["training"]["tokens_seen"] > 0
    assert (tmp_path / "run" / "adapter" / "adapter_model.safetensors").is_file()
    assert report["rouge"]["after"] is not None


def test_ctrl_c_once_stops_after_the_step_with_a_checkpoint(tiny_llama_dir, tmp_path, monkeypatch, capsys):
    import playground.core.finetune as ft

    write_data(tmp_path / "data")
    job = write_job(tmp_path / "job.toml", tiny_llama_dir, steps=6, save_every=0)
    monkeypatch.chdir(tmp_path)
    real, handles = ft.run_finetune, []

    def interrupted(cfg, handle, resume=False):
        handles.append(handle)
        for ev in real(cfg, handle, resume):
            yield ev
            if isinstance(ev, ft.StepEvent) and ev.step == 2:
                signal.raise_signal(signal.SIGINT)  # the person presses Ctrl+C once

    monkeypatch.setattr(ft, "run_finetune", interrupted)
    assert main(["finetune", str(job), "--quiet"]) == 130
    # a graceful stop: the job saved step 2 and ended itself, nothing was torn down
    assert handles[0].stop_requested() and not handles[0].cancelled()
    assert (tmp_path / "run" / "checkpoints" / "step-000002" / "state.json").is_file()
    err = capsys.readouterr().err
    assert "Stopping after this step" in err and "Stopped at step 2" in err and "--resume" in err

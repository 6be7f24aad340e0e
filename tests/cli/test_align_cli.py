"""`playground align` on a tiny random Llama: each method for two steps, resume, bad input."""

from __future__ import annotations

import json

import pytest

from playground.cli.main import main
from tests.cli.stepped_child import kill_at_step

FAST = """
[model]
source = "{model}"
[data]
max_prompt_tokens = 48
max_train_examples = 8
test = "test.jsonl"
[training]
max_steps = {steps}
save_every = {save_every}
monitor_examples = 1
learning_rate = 0.01
[method]
name = "{method}"
group_size = 2
max_new_tokens = 6
{more}
"""


def _job(tmp_path, tiny_llama_dir, method, steps=2, save_every=0, more=""):
    from playground.core.align.preferences import bundled_preferences

    # four held-out pairs (the bundled 60 would make the reward model's accuracy and probe slow)
    (tmp_path / "test.jsonl").write_text("".join(
        json.dumps({"prompt": p.prompt, "chosen": p.chosen, "rejected": p.rejected}) + "\n"
        for p in bundled_preferences("test")[:4]))
    path = tmp_path / f"{method}.toml"
    path.write_text(FAST.format(model=tiny_llama_dir, method=method, steps=steps, save_every=save_every, more=more))
    return path


@pytest.mark.parametrize("method", ["grpo", "rloo", "ppo", "dpo", "reward_model"])
def test_each_method_runs_two_steps(tmp_path, tiny_llama_dir, method, capsys):
    out = tmp_path / "run"
    assert main(["align", str(_job(tmp_path, tiny_llama_dir, method)), "--output", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["method"] == method and report["steps"] == 2
    err = capsys.readouterr().err
    assert f"Model: {tiny_llama_dir}" in (out / "report.md").read_text()
    if method == "reward_model":
        assert (out / "reward_head.safetensors").is_file() and "held-out accuracy" in err
        return
    assert len(report["per_step"]) == 2 and "step 2/2 reward" in err
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(str(tiny_llama_dir))
    PeftModel.from_pretrained(base, str(out / "adapter"))  # the saved adapter loads with peft
    if method == "dpo":
        assert "margin" in report["per_step"][0] and report["samples_after"]
    else:
        assert (out / "samples.csv").read_text().startswith("step,completion,reward")
        assert report["monitor"][0]["step"] == 0 and report["monitor"][-1]["step"] == 2
        assert (out / "curves.png").read_bytes()[:4] == b"\x89PNG"
        assert "Filmstrip" in (out / "report.md").read_text()


def test_a_full_reward_model_on_the_encoder_writes_its_trained_encoder(tmp_path, tiny_llama_dir, capsys):
    out = tmp_path / "run"
    job = _job(tmp_path, tiny_llama_dir, "reward_model", more='reward_mode = "full"')
    assert main(["align", str(job), "--output", str(out), "--quiet"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["mode"] == "full" and report["backbone"] == "encoder" and len(report["losses"]) == 2
    assert (out / "encoder" / "model.safetensors").is_file() and (out / "reward_head.safetensors").is_file()


def test_resume_gives_the_same_next_rewards(tmp_path, tiny_llama_dir):
    from playground.core.align.config import load_align_config
    from playground.core.align.events import AlignStepEvent
    from playground.core.align.job import run_align
    from playground.core.finetune.events import StoppedEvent

    job = _job(tmp_path, tiny_llama_dir, "grpo", steps=3, save_every=0)
    whole = load_align_config(job)
    whole.output.dir = str(tmp_path / "whole")
    straight = [e.reward_mean for e in run_align(whole) if isinstance(e, AlignStepEvent)]

    part = load_align_config(job)
    part.output.dir = str(tmp_path / "part")
    gen = run_align(part)
    for ev in gen:
        if isinstance(ev, AlignStepEvent) and ev.step == 1:
            break
    gen.close()  # as the GUI's Stop does: a checkpoint of step 1 is written
    assert (tmp_path / "part" / "checkpoints" / "step-000001" / "state.json").is_file()
    assert main(["align", "--resume", str(tmp_path / "part"), "--quiet"]) == 0
    report = json.loads((tmp_path / "part" / "report.json").read_text())
    resumed = [r["reward_mean"] for r in report["per_step"]]
    assert resumed == pytest.approx(straight, abs=1e-6)


def test_bad_jobs_get_plain_messages(tmp_path, tiny_llama_dir, capsys):
    assert main(["align", str(_job(tmp_path, tiny_llama_dir, "grpo", more="beta = -1.0"))]) == 2
    assert "method.beta cannot be negative" in capsys.readouterr().err
    assert main(["align", str(_job(tmp_path, tiny_llama_dir, "sft"))]) == 2
    assert "method.name must be one of" in capsys.readouterr().err
    bad = tmp_path / "prefs.jsonl"
    bad.write_text('{"prompt": "p", "chosen": "a"}\n')
    job = _job(tmp_path, tiny_llama_dir, "dpo").read_text().replace("[data]", f'[data]\nsource = "{bad}"')
    (tmp_path / "bad.toml").write_text(job)
    assert main(["align", str(tmp_path / "bad.toml"), "--output", str(tmp_path / "r")]) == 2
    assert "lacks the column(s) rejected" in capsys.readouterr().err


def test_grpo_on_two_processes_under_accelerate_launch(tmp_path, tiny_llama_dir):
    import os
    import socket
    import subprocess
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # group_size 2: each process samples 1 completion a prompt; a length reward tells them apart
    job = _job(tmp_path, tiny_llama_dir, "grpo", more='rewards = ["length"]\ntarget_words = 2')
    env = dict(os.environ) | {"ACCELERATE_USE_CPU": "true", "OMP_NUM_THREADS": "1",
                              "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
           "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
           "--main_process_port", str(port), "-m", "playground", "align", str(job), "--output", str(tmp_path / "run")]
    done = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "(2 processes)" in done.stderr and done.stderr.count("Done. Saved") == 1  # the main process speaks
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["processes"] == 2 and report["steps"] == 2 and len(report["per_step"]) == 2
    first = report["per_step"][0]
    assert len(first["samples"]) == 1 and len(first["advantages"]) == 1  # the main process's share of the group
    assert first["kl"] == 0.0 and report["per_step"][1]["kl"] > 0.0
    assert (tmp_path / "run" / "adapter" / "adapter_model.safetensors").is_file()


def test_kill_9_mid_run_then_resume_samples_as_an_uninterrupted_run(tmp_path, tiny_llama_dir):
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    from playground.core.align.config import load_align_config
    from playground.core.align.events import AlignStepEvent
    from playground.core.align.job import run_align

    job = _job(tmp_path, tiny_llama_dir, "grpo", steps=3, save_every=1)
    whole = load_align_config(job)
    whole.output.dir = str(tmp_path / "whole")
    straight = [e.reward_mean for e in run_align(whole) if isinstance(e, AlignStepEvent)]
    root = str(Path(__file__).resolve().parents[2])
    # The child waits for a line after each step, so the kill lands at the step the test chose.
    script = ("import sys\n"
              "from playground.core.align.config import load_align_config\n"
              "from playground.core.align.events import AlignStepEvent\n"
              "from playground.core.align.job import run_align\n"
              "cfg = load_align_config(sys.argv[1]); cfg.output.dir = sys.argv[2]\n"
              "for ev in run_align(cfg):\n"
              "    if isinstance(ev, AlignStepEvent):\n"
              "        print('step', ev.step, flush=True)\n"
              "        sys.stdin.readline()\n")
    env = dict(os.environ) | {"PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    child = subprocess.Popen([sys.executable, "-c", script, str(job), str(tmp_path / "killed")],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    kill_at_step(child, 2)  # step 1's checkpoint is complete before step 2 starts
    assert child.returncode == -signal.SIGKILL
    assert (tmp_path / "killed" / "checkpoints" / "step-000001" / "state.json").is_file()
    assert not (tmp_path / "killed" / "report.json").exists()
    assert main(["align", "--resume", str(tmp_path / "killed"), "--quiet"]) == 0
    report = json.loads((tmp_path / "killed" / "report.json").read_text())
    assert [r["reward_mean"] for r in report["per_step"]] == pytest.approx(straight, abs=1e-6)


def test_out_of_memory_is_said_plainly_and_recorded(tmp_path, tiny_llama_dir, monkeypatch, capsys):
    import torch

    import playground.core.align.steps as steps

    def oom(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(steps, "online_step", oom)
    out = tmp_path / "run"
    assert main(["align", str(_job(tmp_path, tiny_llama_dir, "grpo")), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "ran out of memory at step 1" in err and "method.group_size" in err and "Traceback" not in err
    failed = json.loads((out / "failed.json").read_text())
    assert "out of memory" in failed["message"] and not (out / "adapter").exists()


def test_a_reward_preset_by_name_over_the_job_file(tmp_path, tiny_llama_dir, capsys):
    out = tmp_path / "run"
    job = _job(tmp_path, tiny_llama_dir, "grpo", steps=1)
    assert main(["align", str(job), "--preset", "rouge_l+positivity", "--output", str(out), "--quiet"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["rewards"] == ["rouge_l", "positivity"] and report["weights"] == [1.0, 0.5]
    assert 'rewards = ["rouge_l", "positivity"]' in (out / "job.toml").read_text()  # --resume keeps it
    with pytest.raises(SystemExit):
        main(["align", str(job), "--preset", "nope"])
    assert "invalid choice: 'nope'" in capsys.readouterr().err


@pytest.mark.bad_input("DPO on pairs whose chosen and rejected are the same text")
def test_dpo_on_pairs_whose_two_texts_are_the_same_names_dpo_and_what_to_change(tmp_path, tiny_llama_dir, capsys,
                                                                               bad_input):
    same = tmp_path / "same.jsonl"
    same.write_text("".join(json.dumps({"prompt": f"p{i}", "chosen": "a", "rejected": "a"}) + "\n" for i in range(3)))
    job = _job(tmp_path, tiny_llama_dir, "dpo").read_text().replace("[data]", f'[data]\nsource = "{same}"')
    (tmp_path / "same.toml").write_text(job)
    assert main(["align", str(tmp_path / "same.toml"), "--output", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    bad_input(err)
    assert "DPO needs at least two" in err and "reward model" not in err
    assert "chosen and rejected" in err and "data.source" in err


def test_grpo_with_trls_default_loss_type_runs_and_says_so(tmp_path, tiny_llama_dir, capsys):
    from playground.cli.main import build_parser

    out = tmp_path / "run"
    job = _job(tmp_path, tiny_llama_dir, "grpo", more='loss_type = "dapo"')
    assert main(["align", str(job), "--output", str(out), "--quiet"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["loss_type"] == "dapo" and "- Loss: dapo (each token weighs the same" in (out / "report.md").read_text()
    assert main(["align", str(_job(tmp_path, tiny_llama_dir, "grpo", more='loss_type = "bnpo"'))]) == 2
    assert "method.loss_type must be one of grpo, dapo" in capsys.readouterr().err
    help_text = " ".join(build_parser()._subparsers._group_actions[0].choices["align"].format_help().split())
    assert "loss_type = 'grpo'" in help_text and "dapo: trl 1.16's default" in help_text

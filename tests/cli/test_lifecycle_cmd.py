import re

from playground.cli.main import main


def test_scaling_calc_prints_chinchilla_row(capsys):
    assert main(["scaling", "calc", "--params", "70e9", "--tokens", "1.4e12"]) == 0
    out = capsys.readouterr().out
    assert "5.88e+23 FLOPs" in out and "20.0 tokens per parameter" in out
    assert "Chinchilla fit" in out and "Replication fit" in out


def test_scaling_calc_from_gpu_hours(capsys):
    assert main(["scaling", "calc", "--gpu-hours", "1000", "--gpu-flops", "1e14"]) == 0
    assert "3.6e+20 FLOPs" in capsys.readouterr().out


def test_scaling_calc_refuses_zero_in_plain_words(capsys):
    assert main(["scaling", "calc", "--params", "0", "--tokens", "1e9"]) == 2
    assert "must be a positive number" in capsys.readouterr().err


def test_scaling_run_refuses_tiny_budget_and_unknown_size(capsys):
    assert main(["scaling", "run", "--flops", "1e6", "--sizes", "30k"]) == 2
    assert "too small" in capsys.readouterr().err
    assert main(["scaling", "run", "--sizes", "9B"]) == 2
    assert "Unknown size: 9B" in capsys.readouterr().err


def test_scaling_run_two_sizes_with_plot(tmp_path, capsys):
    png = tmp_path / "plot.png"
    assert main(["scaling", "run", "--flops", "4e9", "--sizes", "30k,95k", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"winner: (30k|95k) at [\d.]+ tokens per parameter", out)
    assert png.stat().st_size > 1000


def test_precision_command_on_a_tiny_model(tiny_llama_dir, capsys):
    assert main(["precision", "--model", str(tiny_llama_dir), "--formats", "fp32,int8", "--texts", "2",
                 "--new-tokens", "4", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"FP32\s+[\d.]+ [KMG]iB\s+[\d.]+\s+0\.0000\s+100\.0%", out)
    assert "INT8" in out and "input embedding stays FP32" in out


def test_precision_command_refuses_unknown_format(capsys):
    assert main(["precision", "--formats", "fp8"]) == 2
    assert "Unknown number format: fp8" in capsys.readouterr().err


def test_finetune_forgetting_and_the_forgetting_command(tiny_llama_dir, tmp_path, capsys, monkeypatch):
    from playground.core.lifecycle import forgetting_run as FR
    from tests.core.test_forgetting_run import SMALL

    monkeypatch.setattr(FR, "load_probes", lambda path=None: SMALL)
    cfg = FR.preset("lora", tmp_path / "run", steps=2, validation_examples=2)
    cfg.model.source, cfg.model.device = str(tiny_llama_dir), "cpu"
    cfg.data.max_train_examples, cfg.data.max_length = 4, 96
    cfg.training.gradient_accumulation_steps = 1
    job = tmp_path / "job.toml"
    job.write_text(cfg.to_toml())
    assert main(["finetune", str(job), "--quiet", "--forgetting"]) == 0
    out = capsys.readouterr().out
    assert "Forgetting check of run run (lora, learning rate 0.0003, 2 steps)" in out and "noise floor" in out
    assert (tmp_path / "run" / "forgetting.md").is_file()
    png = tmp_path / "f.png"
    assert main(["forgetting", str(tmp_path / "run"), "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^run\s+lora\s+3e-04\s+2\s+[\d.]+->[\d.]+\s+\d/1\s+\d/2", out, re.M)
    assert png.stat().st_size > 1000
    assert main(["forgetting", str(tmp_path)]) == 2
    assert "not a finished fine-tuning run" in capsys.readouterr().err

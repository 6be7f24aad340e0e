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
    assert re.search(r"FP32\s+[\d.]+\s+[\d.]+\s+0\.0000\s+100\.0%", out)
    assert "INT8" in out and "tied embedding" in out


def test_precision_command_refuses_unknown_format(capsys):
    assert main(["precision", "--formats", "fp8"]) == 2
    assert "Unknown number format: fp8" in capsys.readouterr().err

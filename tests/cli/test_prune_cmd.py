"""`playground prune` on the tiny Llama: the table with the dense model first; bad input said plainly."""

import re

import pytest

from playground.cli.main import main


def test_prune_layers_and_magnitude_print_the_table(tiny_llama_dir, capsys):
    assert main(["prune", "--model", str(tiny_llama_dir), "--method", "layers", "--sparsity", "50", "--texts", "2",
                 "--new-tokens", "4", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"Dense\s+[\d.]+M\s+[\d.]+ [KMG]iB\s+[\d.]+ [KMG]iB\s+[\d.]+\s+0\.0000\s+100\.0%", out)
    assert "Whole layers 50%" in out and "1 of 2 layers dropped" in out and "first order" in out
    assert main(["prune", "--model", str(tiny_llama_dir), "--method", "magnitude", "--sparsity", "30,70%",
                 "--texts", "2", "--new-tokens", "4", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "Unstructured, global 30%" in out and "Unstructured, global 70%" in out
    assert "(cut at |w| = " in out and "Zeros keep the dense size" in out


def test_prune_refuses_bad_sparsity_and_method_plainly(capsys):
    assert main(["prune", "--sparsity", "150"]) == 2
    assert "150% is outside 0-99%" in capsys.readouterr().err
    assert main(["prune", "--sparsity", "-5"]) == 2
    assert "-5% is outside 0-99%" in capsys.readouterr().err
    assert main(["prune", "--sparsity", "lots"]) == 2
    assert "not a number" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse names the methods
        main(["prune", "--method", "random"])
    assert "choose from 'magnitude', 'per-layer', 'heads', 'layers'" in capsys.readouterr().err

import json

import numpy as np

from playground.cli.main import main
from playground.core.attention import extract_attention

TEXT = "The animal didn't cross the street because it was too tired."


def test_attention_writes_heatmap_and_weights(capsys, tmp_path, tiny_llama_dir, tiny_llama):
    out, weights = tmp_path / "map.png", tmp_path / "weights.json"
    code = main(["attention", "--prompt", TEXT, "--layer", "1", "--head", "2", "--out", str(out),
                 "--json", str(weights), "--model", str(tiny_llama_dir)])
    assert code == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads(weights.read_text(encoding="utf-8"))
    expected = extract_attention(tiny_llama, TEXT)
    t = len(expected.tokens)
    assert data["layer"] == 1 and data["head"] == 2 and data["shape"] == [4, t, t]
    assert data["query_tokens"] == data["key_tokens"] == [p.label for p in expected.tokens]
    w = np.array(data["weights"])
    np.testing.assert_allclose(w, expected.maps["self"].weights[1], atol=1e-6)
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-5)
    assert "layer 1 · head 2" in capsys.readouterr().out


def test_default_is_last_layer_mean_of_heads(capsys, tmp_path, tiny_llama_dir):
    assert main(["attention", "--prompt", "Hello there", "--out", str(tmp_path / "m.png"),
                 "--model", str(tiny_llama_dir)]) == 0
    assert "layer 1 · mean of heads" in capsys.readouterr().out


def test_cross_attention_of_an_encoder_decoder(capsys, tmp_path, tiny_t5_dir):
    path = tmp_path / "cross.json"
    assert main(["attention", "--prompt", TEXT, "--map", "cross", "--target", "Das Tier", "--layer", "0",
                 "--out", str(tmp_path / "c.png"), "--json", str(path), "--model", str(tiny_t5_dir)]) == 0
    data = json.loads(path.read_text(encoding="utf-8"))
    heads, tgt, src = data["shape"]
    assert heads == 4 and tgt == len(data["query_tokens"]) and src == len(data["key_tokens"]) and tgt != src


def test_bad_inputs_are_plain_errors(capsys, tmp_path, tiny_llama_dir):
    base = ["--out", str(tmp_path / "x.png"), "--model", str(tiny_llama_dir)]
    assert main(["attention", "--prompt", " ", *base]) == 2
    assert "The prompt is empty" in capsys.readouterr().err
    assert main(["attention", "--prompt", "hi there", "--layer", "7", *base]) == 2
    assert "layers 0 to 1" in capsys.readouterr().err
    assert main(["attention", "--prompt", "word " * 300, *base]) == 2
    assert "context window is 256 tokens" in capsys.readouterr().err
    assert main(["attention", "--prompt", "word " * 250, "--memory-limit-mib", "1", *base]) == 2
    err = capsys.readouterr().err
    assert "more than the limit of 1.00 MiB" in err and "Traceback" not in err
    assert not (tmp_path / "x.png").exists()
    assert main(["attention", "--prompt", "word " * 250, "--memory-limit-mib", "1", "--downsample", *base]) == 0
    assert "downsampled" in capsys.readouterr().err

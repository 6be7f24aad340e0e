"""`--model encoder` in the CLI: listed by `models`, usable where an encoder applies, refused plainly elsewhere."""

from __future__ import annotations

from playground.cli.main import main


def test_models_lists_the_encoder(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "all-MiniLM-L6-v2" in out and "--model encoder" in out and "encoder-only" in out


def test_generate_with_the_encoder_says_it_does_not_generate(capsys):
    code = main(["generate", "--prompt", "Hello", "--model", "encoder"])
    assert code != 0
    err = capsys.readouterr().err
    assert "encoder-only" in err and "does not generate" in err


def test_attention_with_the_encoder_writes_a_full_square(tmp_path, capsys):
    import json

    out_png, out_json = tmp_path / "a.png", tmp_path / "a.json"
    code = main(["attention", "--model", "encoder", "--prompt", "The cat sat on the mat.",
                 "--out", str(out_png), "--json", str(out_json)])
    assert code == 0 and out_png.stat().st_size > 0
    data = json.loads(out_json.read_text())
    text = json.dumps(data)
    assert "all-MiniLM-L6-v2" in text

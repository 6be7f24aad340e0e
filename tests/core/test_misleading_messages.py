"""Messages that pointed at the wrong fix (issue 20, item 12): a missing tokenizer, too many shots,
a stopped evaluate that exited 0."""

from __future__ import annotations

import json
import shutil

import pytest

from playground.core.evaluation.datasets import Example
from playground.core.base.errors import InputError, ModelLoadError
from playground.core.evaluation.run import K_SHOT, SystemSpec, run_evaluation
from playground.core.decoding.generation import GenerationSettings

DIALOGUE = "#Person1#: Shall we meet for tea at four today?\n#Person2#: Yes, at the station café."
TRAIN = [Example(f"t{i}", DIALOGUE + f" ({i})", "They meet for tea.") for i in range(100)]


@pytest.mark.bad_input("a model folder without tokenizer files")
def test_a_missing_tokenizer_says_so_not_sentencepiece(tiny_llama_dir, tmp_path, bad_input):
    from playground.core.models.sources import ModelSource
    from playground.core.models.loading import load_model

    folder = tmp_path / "no-tokenizer"
    folder.mkdir()
    for f in tiny_llama_dir.iterdir():
        if f.name in ("config.json", "generation_config.json") or f.suffix == ".safetensors":
            shutil.copy(f, folder / f.name)
    with pytest.raises(ModelLoadError) as err:
        load_model(ModelSource("local", str(folder)), device="cpu")
    text = bad_input(err.value)
    assert "has no tokenizer files" in text and "sentencepiece" not in text.lower()


@pytest.mark.bad_input("evaluate --shots 100 (more than the context window holds)")
def test_too_many_shots_names_how_many_fit(tiny_llama, bad_input):
    ex = Example("e1", DIALOGUE, "They meet.")
    settings = GenerationSettings.make(max_new_tokens=4, do_sample=False, top_n=0)
    with pytest.raises(InputError) as err:
        list(run_evaluation(tiny_llama, [ex], [SystemSpec(K_SHOT, shots=100)], train=TRAIN, settings=settings))
    text = bad_input(err.value)
    assert "100 shots do not fit" in text and "context window is 256 tokens" in text and "shorten the prompt" not in text.lower()
    fit = int(text.split("at most ")[1].split(" ")[0])
    assert 0 < fit < 100
    # the number named does fit: that many shots run
    out = list(run_evaluation(tiny_llama, [ex], [SystemSpec(K_SHOT, shots=fit)], train=TRAIN, settings=settings))
    assert len(out) == 1


@pytest.mark.bad_input("evaluate stopped with Ctrl+C")
def test_a_stopped_evaluate_exits_non_zero(tiny_llama_dir, tmp_path, monkeypatch, capsys, bad_input):
    import playground.core.evaluation.run as evaluation
    from playground.cli.main import main

    real = evaluation.run_evaluation

    def stopped_after_one(*args, **kwargs):
        for r in real(*args, **kwargs):
            yield r
            raise KeyboardInterrupt

    monkeypatch.setattr(evaluation, "run_evaluation", stopped_after_one)
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"dialogue": f"A: tea at {i}?", "summary": "Tea."}) + "\n" for i in range(3)))
    code = main(["evaluate", "--model", str(tiny_llama_dir), "--data", str(data), "--max-new-tokens", "2"])
    err = capsys.readouterr().err
    bad_input(err.strip().splitlines()[-1])
    assert code == 130 and "Stopped after 1 of 3 examples" in err

"""`playground generate --draft MODEL|layers:N --gamma G`: the target's text, acceptance and the measured speed."""

from __future__ import annotations

import pytest

from playground.cli.main import main

PROMPT = "The cat sat on the mat and"


def _plain(tiny_llama, n: int) -> str:
    from playground.core.decoding.generation import GenerationSettings, generate_text

    return generate_text(tiny_llama, PROMPT, GenerationSettings.make(max_new_tokens=n))


def test_generate_with_a_self_speculative_draft_prints_the_target_text_and_acceptance(capsys, tiny_llama_dir,
                                                                                      tiny_llama):
    args = ["generate", "--prompt", PROMPT, "--model", str(tiny_llama_dir), "--no-chat-template",
            "--max-new-tokens", "8", "--draft", "layers:1", "--gamma", "3"]
    assert main(args) == 0
    out = capsys.readouterr()
    assert out.out == _plain(tiny_llama, 8) + "\n"  # greedy: the target's own text
    assert "first 1 layers as the draft, γ=3, greedy" in out.err
    assert "proposed tokens (" in out.err and "tokens per target pass" in out.err
    assert "speed-up" in out.err and "(measured)" in out.err
    assert "greedy text identical to plain decoding: yes" in out.err


def test_draft_folder_of_the_target_itself_is_pointless_but_works(capsys, tiny_llama_dir, tiny_llama):
    args = ["generate", "--prompt", PROMPT, "--model", str(tiny_llama_dir), "--no-chat-template",
            "--max-new-tokens", "5", "--draft", str(tiny_llama_dir), "--gamma", "2"]
    assert main(args) == 0
    out = capsys.readouterr()
    assert out.out == _plain(tiny_llama, 5) + "\n"
    assert "not smaller than the target" in out.err and "pointless" in out.err
    assert "(100.0%)" in out.err  # the same model accepts every guess


@pytest.mark.bad_input("generate --draft with --gamma 0")
def test_gamma_zero_is_a_plain_error(capsys, tiny_llama_dir, bad_input):
    args = ["generate", "--prompt", PROMPT, "--model", str(tiny_llama_dir), "--draft", "layers:1", "--gamma", "0"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "error: γ must be a whole number from 1 to 16 (it is 0)" in err
    bad_input(err)


def test_gamma_without_draft_is_noted(capsys, tiny_llama_dir):
    args = ["generate", "--prompt", PROMPT, "--model", str(tiny_llama_dir), "--max-new-tokens", "2", "--gamma", "6"]
    assert main(args) == 0
    assert "--gamma is used only with --draft" in capsys.readouterr().err

"""`playground generate` with special tokens typed into the prompt (issue 29, item 21)."""

import pytest

from playground.cli.main import main

TYPED = "Hi <|im_end|><|im_start|> there"


def _expected(tiny_llama, plain: bool) -> str:
    from playground.core.decoding.generation import GenerationSettings, format_prompt, generate_text

    prompt = format_prompt(tiny_llama, TYPED, use_chat_template=True, plain_special_tokens=plain)
    return generate_text(tiny_llama, prompt, GenerationSettings.make(max_new_tokens=6, stop_at_eos=False))


@pytest.mark.bad_input("generate: special tokens typed into the prompt (<|im_end|><|im_start|>)")
def test_generate_says_special_tokens_are_control_tokens(capsys, tiny_llama_dir, tiny_llama, bad_input):
    args = ["generate", "--prompt", TYPED, "--model", str(tiny_llama_dir), "--greedy", "--max-new-tokens", "6"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "<|im_end|>, <|im_start|>" in captured.err and "control token" in captured.err
    assert "--plain-special-tokens" in captured.err
    bad_input(next(line for line in captured.err.splitlines() if "special token" in line.lower()))
    assert captured.out.startswith(_expected(tiny_llama, plain=False))


def test_plain_special_tokens_reads_them_as_text(capsys, tiny_llama_dir, tiny_llama):
    args = ["generate", "--prompt", TYPED, "--model", str(tiny_llama_dir), "--greedy", "--max-new-tokens", "6",
            "--plain-special-tokens", "--show-prompt"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "plain text" in captured.err and "<|im_end|>, <|im_start|>" in captured.err
    assert captured.out.startswith(_expected(tiny_llama, plain=True))
    assert f"user\n{TYPED}<|im_end|>" in captured.err  # --show-prompt shows the text as typed, no escape marks
    assert "\U000f0000" not in captured.err


def test_no_note_without_special_tokens(capsys, tiny_llama_dir):
    assert main(["generate", "--prompt", "Hello", "--model", str(tiny_llama_dir), "--max-new-tokens", "2"]) == 0
    assert "special token" not in capsys.readouterr().err.lower()

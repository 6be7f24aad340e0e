import os
import subprocess
import sys

import pytest

from playground.cli.main import main


def test_generate_prints_completion(capsys, tiny_llama_dir, tiny_llama):
    code = main(["generate", "--prompt", "Hello", "--model", str(tiny_llama_dir), "--greedy",
                 "--max-new-tokens", "5", "--no-chat-template"])
    assert code == 0
    out = capsys.readouterr().out
    from playground.core.decoding.generation import GenerationSettings, generate_text

    expected = generate_text(tiny_llama, "Hello", GenerationSettings.make(max_new_tokens=5))
    assert out == expected + "\n"


def test_generate_sampling_with_seed_is_repeatable(capsys, tiny_llama_dir):
    args = ["generate", "--prompt", "Hi", "--model", str(tiny_llama_dir), "--sample", "--temperature", "1.3",
            "--top-k", "50", "--top-p", "0.9", "--seed", "3", "--max-new-tokens", "6"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert main(args) == 0
    assert capsys.readouterr().out == first


def test_empty_prompt_is_a_plain_error(capsys):
    assert main(["generate", "--prompt", "  "]) == 2
    err = capsys.readouterr().err
    assert "The prompt is empty" in err and "Traceback" not in err


def test_missing_model_folder_is_a_plain_error(capsys, tmp_path):
    assert main(["generate", "--prompt", "x", "--model", str(tmp_path / "none")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_models_lists_the_bundled_model(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "SmolLM2-135M-Instruct" in out and "Hugging Face cache" in out


@pytest.mark.bundled
def test_smoke_test_passes(bundled_dir, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-m", "playground", "--smoke-test"], capture_output=True,
                         text=True, timeout=600, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "PASSED" in out.stdout and "generated" in out.stdout
    assert "opened tab Generate" in out.stdout
    assert "s after launch)" in out.stdout  # first paint timed from the process start


def test_show_prompt_prints_what_the_model_receives(capsys, tiny_llama_dir, tiny_llama):
    code = main(["generate", "--prompt", "Once upon a time", "--model", str(tiny_llama_dir), "--greedy",
                 "--max-new-tokens", "2", "--show-prompt"])
    assert code == 0
    err = capsys.readouterr().err
    chat = tiny_llama.tokenizer.apply_chat_template([{"role": "user", "content": "Once upon a time"}],
                                                    tokenize=False, add_generation_prompt=True)
    assert f"as the model receives it ---\n{chat}\n--- end of prompt" in err
    assert main(["generate", "--prompt", "Once upon a time", "--model", str(tiny_llama_dir), "--greedy",
                 "--max-new-tokens", "2", "--show-prompt", "--no-chat-template"]) == 0
    assert "as the model receives it ---\nOnce upon a time\n--- end" in capsys.readouterr().err

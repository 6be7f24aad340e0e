"""`playground kv-cache` on the tiny Llama: the arithmetic, each pass with its cache measured, the timing
table; a context longer than the window said plainly before any work."""

from playground.cli.main import main


def test_kv_cache_prints_arithmetic_steps_and_timing(tiny_llama_dir, capsys):
    assert main(["kv-cache", "Hello there", "--model", str(tiny_llama_dir), "--device", "cpu", "--new-tokens", "3",
                 "--lengths", "8,16", "--repeats", "1", "--no-chat-template"]) == 0
    out = capsys.readouterr().out
    assert "2 (K and V) × 2 layers × 2 KV heads × 8 values × 4 bytes (float32) = 256 bytes" in out
    assert "Llama-3.1-70B" in out and "40.0 GiB" in out
    assert "Prefill:" in out and "Decode step 1" in out
    assert "with cache" in out and "slower by" in out


def test_kv_cache_refuses_a_context_longer_than_the_window(tiny_llama_dir, capsys):
    assert main(["kv-cache", "Hello", "--model", str(tiny_llama_dir), "--device", "cpu", "--lengths", "64,4096"]) == 2
    err = capsys.readouterr().err
    assert "longer than" in err and "context window of 256" in err

import sys
import types

from playground.core.base import about


def test_about_lines_name_versions_and_the_device_in_use():
    lines = about.about_lines("cpu", "float32")
    text = "\n".join(lines)
    assert lines[0].startswith("LLM Playground 0.") and "(run from source)" in lines[0]
    assert any(line.startswith("torch 2.") for line in lines)
    assert any(line.startswith("transformers ") and "not available" not in line for line in lines)
    assert "Device in use: cpu (float32)" in text


def test_about_says_installed_app_when_frozen(monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert "(installed app)" in about.about_lines()[0]


def test_torch_build_names_cuda_builds(monkeypatch):
    import torch

    assert about.torch_build() == "CPU build"  # this machine's torch is the CPU wheel
    monkeypatch.setattr(torch, "version", types.SimpleNamespace(cuda="12.8", hip=None))
    assert about.torch_build() == "CUDA 12.8 build"


def test_credits_name_the_bundled_models_their_licences_and_the_q4_1_gguf():
    from playground.core.models.bundled import find_bundled_gguf

    decoder, encoder = about.credits_lines()
    assert "SmolLM2-135M-Instruct" in decoder and "Apache-2.0 licence" in decoder
    assert f"Q4_1 GGUF file {find_bundled_gguf().name}" in decoder and "4-bit values stored in 32 bits" in decoder
    assert "all-MiniLM-L6-v2" in encoder and "Apache-2.0 licence" in encoder

import sys
import types

from playground.core import about


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

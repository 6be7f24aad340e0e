import pytest
import torch

from playground.core.models.device import pick_device, resolve_dtype, supported_dtypes
from playground.core.base.errors import PlaygroundError


def test_auto_picks_cpu_without_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert pick_device("auto") == "cpu"


def test_auto_prefers_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device("auto") == "cuda"


def test_cuda_asked_but_absent_is_explained(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(PlaygroundError) as err:
        pick_device("cuda")
    assert "no an NVIDIA GPU" not in err.value.message
    assert "NVIDIA GPU (CUDA)" in err.value.message
    assert "cpu" in err.value.hint


def test_dtypes_on_cpu():
    assert resolve_dtype("auto", "cpu") == torch.float32
    assert resolve_dtype("bf16", "cpu") == torch.bfloat16
    assert "float16" not in supported_dtypes("cpu")
    with pytest.raises(PlaygroundError):
        resolve_dtype("float16", "cpu")
    with pytest.raises(PlaygroundError):
        resolve_dtype("int3", "cpu")

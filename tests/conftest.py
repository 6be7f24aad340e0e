"""Shared fixtures. The environment is set before anything imports Qt or huggingface_hub:
offscreen Qt, no network for the Hub, and a private home so no test touches the real user dirs."""

from __future__ import annotations

import os
import tempfile

_SESSION_HOME = tempfile.mkdtemp(prefix="playground-tests-")
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ["PLAYGROUND_HOME"] = _SESSION_HOME
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Keep a stray Hub cache from the developer's machine out of the tests.
os.environ["HF_HOME"] = os.path.join(_SESSION_HOME, "hf-home")

import shutil
from pathlib import Path

import pytest

pytest_plugins = ["tests.bad_input_plugin"]

VOCAB = 49152  # the bundled tokenizer's vocabulary


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_SESSION_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def bundled_dir() -> Path:
    """The bundled SmolLM2 converted once per test session into the session's private cache."""
    from playground.core.models.bundled import ensure_bundled_cache

    return ensure_bundled_cache()


@pytest.fixture(scope="session")
def bundled_tokenizer(bundled_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(bundled_dir))


@pytest.fixture(scope="session")
def bundled_model(bundled_dir):
    """The real bundled model, loaded once (LoadedModel). Use sparingly: it is the slow path."""
    from playground.core.models.sources import ModelSource
    from playground.core.models.loading import load_model

    return load_model(ModelSource("bundled"), device="cpu")


def _save_tiny(model, tokenizer, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(folder), safe_serialization=True)
    tokenizer.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory, bundled_tokenizer) -> Path:
    """A 2-layer random Llama (hidden 32, 4 heads) with the bundled tokenizer, saved as a folder."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                      bos_token_id=bundled_tokenizer.bos_token_id, eos_token_id=bundled_tokenizer.eos_token_id,
                      pad_token_id=bundled_tokenizer.pad_token_id, tie_word_embeddings=True)
    model = LlamaForCausalLM(cfg)
    return _save_tiny(model, bundled_tokenizer, tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="session")
def tiny_t5_dir(tmp_path_factory, bundled_tokenizer) -> Path:
    """A 2-layer random T5 (d_model 32, 4 heads) with the bundled tokenizer, saved as a folder."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    torch.manual_seed(0)
    pad = bundled_tokenizer.pad_token_id
    cfg = T5Config(vocab_size=VOCAB, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_decoder_layers=2,
                   num_heads=4, pad_token_id=pad, eos_token_id=bundled_tokenizer.eos_token_id,
                   decoder_start_token_id=pad)
    model = T5ForConditionalGeneration(cfg)
    return _save_tiny(model, bundled_tokenizer, tmp_path_factory.mktemp("tiny-t5"))


@pytest.fixture(scope="session")
def tiny_mamba(tmp_path_factory, bundled_tokenizer):
    """A model with no attention at all (a 2-layer random Mamba, a state-space model)."""
    import torch
    from transformers import MambaConfig, MambaForCausalLM

    from playground.core.models.sources import ModelSource
    from playground.core.models.loading import load_model

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny-mamba")
    MambaForCausalLM(MambaConfig(vocab_size=49152, hidden_size=32, num_hidden_layers=2, state_size=4)) \
        .save_pretrained(str(folder))
    bundled_tokenizer.save_pretrained(str(folder))
    return load_model(ModelSource("local", str(folder)), device="cpu")


@pytest.fixture(scope="session")
def tiny_llama(tiny_llama_dir):
    """The tiny Llama loaded through the app's own loader (LoadedModel), shared by the session."""
    from playground.core.models.sources import ModelSource
    from playground.core.models.loading import load_model

    return load_model(ModelSource("local", str(tiny_llama_dir)), device="cpu")


@pytest.fixture(scope="session")
def tiny_t5(tiny_t5_dir):
    from playground.core.models.sources import ModelSource
    from playground.core.models.loading import load_model

    return load_model(ModelSource("local", str(tiny_t5_dir)), device="cpu")


def _tiny_bert(folder: Path, masked_lm: bool) -> Path:
    """A 2-layer random BERT (hidden 32, 4 heads) with the bundled encoder's WordPiece tokenizer."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForMaskedLM, BertModel

    from playground.core.models.encoder import find_bundled_encoder

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(str(find_bundled_encoder()))
    cfg = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                     num_attention_heads=4, max_position_embeddings=128, pad_token_id=tokenizer.pad_token_id)
    model = (BertForMaskedLM if masked_lm else BertModel)(cfg)
    return _save_tiny(model, tokenizer, folder)


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory) -> Path:
    """A tiny random BertModel (no head) with the MiniLM tokenizer, saved as a folder."""
    return _tiny_bert(tmp_path_factory.mktemp("tiny-bert"), masked_lm=False)


@pytest.fixture(scope="session")
def tiny_bert_mlm_dir(tmp_path_factory) -> Path:
    """A tiny random BertForMaskedLM (fills [MASK]) with the MiniLM tokenizer, saved as a folder."""
    return _tiny_bert(tmp_path_factory.mktemp("tiny-bert-mlm"), masked_lm=True)


@pytest.fixture(scope="session")
def bundled_encoder():
    """The real bundled MiniLM through the app's loader (LoadedModel); it loads in seconds."""
    from playground.core.models.sources import ModelSource
    from playground.core.models.loading import load_model

    return load_model(ModelSource("encoder"), device="cpu")


# --- Qt -----------------------------------------------------------------------------------------

@pytest.fixture
def app_context(qapp, tmp_path):
    """An AppContext with private settings; its worker threads are stopped after the test."""
    from playground.core.base.settings import Settings
    from playground.qt.context import AppContext

    ctx = AppContext(settings=Settings(tmp_path / "settings.json"))
    yield ctx
    ctx.runner.shutdown(wait=True)


@pytest.fixture
def context_with_tiny_llama(app_context, tiny_llama):
    """An AppContext whose session already holds the tiny Llama (panels see sig_model_changed)."""
    app_context.session.set(tiny_llama)
    return app_context


@pytest.fixture
def tiny_adapter(context_with_tiny_llama, tiny_llama):
    """A fine-tuned copy of the tiny Llama (other weights) attached to the session, switch off."""
    import copy
    from dataclasses import replace

    import torch

    model = copy.deepcopy(tiny_llama.model)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05, alpha=1.0)
    adapted = replace(tiny_llama, model=model, info=replace(tiny_llama.info, name=f"{tiny_llama.info.name} + run-7"),
                      extras={"adapter_dir": "/nowhere/run-7/adapter", "adapter_name": "run-7"})
    context_with_tiny_llama.set_adapter(adapted, on=False)
    return adapted


@pytest.fixture
def lora_run_and_model(tmp_path, tiny_llama):
    """A LoRA run folder on disk on the tiny Llama (non-zero weights, so the adapted model differs from the
    base), and the peft model it was saved from."""
    import copy

    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(3)
    model = get_peft_model(copy.deepcopy(tiny_llama.model),
                           LoraConfig(r=4, lora_alpha=64, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    run_dir = tmp_path / "runs" / "lora-run-3"
    model.save_pretrained(str(run_dir / "adapter"))
    model.eval()
    return run_dir, model

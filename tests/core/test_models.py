import json
import shutil

import pytest
import torch

from playground.core.base.errors import ModelLoadError, PlaygroundError
from playground.core.models.sources import ModelSource
from playground.core.models.loading import (
    DECODER_ONLY,
    ENCODER_DECODER,
    ModelSession,
    load_model,
)


def copy_model(src, dst):
    shutil.copytree(src, dst)
    return dst


def test_tiny_llama_info(tiny_llama):
    info = tiny_llama.info
    assert info.kind == DECODER_ONLY
    assert info.num_layers == 2 and info.num_heads == 4
    assert info.vocab_size == 49152 and info.context_window == 256
    assert info.parameters == sum(p.numel() for p in tiny_llama.model.parameters())
    assert info.memory_bytes >= info.parameters * 4
    assert info.device == "cpu" and info.dtype == "float32"
    assert info.has_chat_template  # the bundled tokenizer carries one


def test_tiny_t5_is_encoder_decoder(tiny_t5):
    assert tiny_t5.info.kind == ENCODER_DECODER
    assert tiny_t5.is_encoder_decoder


def test_bfloat16_load(tiny_llama_dir):
    loaded = load_model(ModelSource("local", str(tiny_llama_dir)), device="cpu", dtype="bfloat16")
    assert loaded.info.dtype == "bfloat16"
    assert loaded.info.memory_bytes < load_model(ModelSource("local", str(tiny_llama_dir))).info.memory_bytes


def test_source_parse(tmp_path):
    assert ModelSource.parse("").kind == "bundled"
    assert ModelSource.parse(str(tmp_path)).kind == "local"
    assert ModelSource.parse("google/flan-t5-small").kind == "hub"


# --- bad input: each a plain message ------------------------------------------------------------

def test_missing_folder(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_model(ModelSource("local", str(tmp_path / "nope")))


def test_folder_without_config(tmp_path):
    with pytest.raises(ModelLoadError, match="no config.json"):
        load_model(ModelSource("local", str(tmp_path)))


def test_folder_without_weights(tmp_path, tiny_llama_dir):
    d = copy_model(tiny_llama_dir, tmp_path / "m")
    for f in d.glob("*.safetensors"):
        f.unlink()
    with pytest.raises(ModelLoadError, match="no weight files"):
        load_model(ModelSource("local", str(d)))


def test_corrupted_safetensors(tmp_path, tiny_llama_dir):
    d = copy_model(tiny_llama_dir, tmp_path / "m")
    f = next(d.glob("*.safetensors"))
    data = f.read_bytes()
    f.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelLoadError, match="damaged"):
        load_model(ModelSource("local", str(d)))


def test_garbage_safetensors_header(tmp_path, tiny_llama_dir):
    d = copy_model(tiny_llama_dir, tmp_path / "m")
    next(d.glob("*.safetensors")).write_bytes(b"\xff" * 64)
    with pytest.raises(ModelLoadError, match="damaged"):
        load_model(ModelSource("local", str(d)))


def test_pickle_only_refused_unless_allowed(tmp_path, tiny_llama):
    d = tmp_path / "pickled"
    tiny_llama.model.save_pretrained(str(d), safe_serialization=False)
    tiny_llama.tokenizer.save_pretrained(str(d))
    if any(d.glob("*.safetensors")):  # this transformers always writes safetensors
        for f in d.glob("*.safetensors"):
            f.unlink()
        torch.save(tiny_llama.model.state_dict(), d / "pytorch_model.bin")
    with pytest.raises(ModelLoadError, match="pickle") as err:
        load_model(ModelSource("local", str(d)))
    assert "Allow pickle" in err.value.hint
    loaded = load_model(ModelSource("local", str(d), allow_pickle=True))
    ids = torch.tensor([[1, 2, 3]])
    assert torch.allclose(loaded.model(ids).logits, tiny_llama.model(ids).logits, atol=1e-5)


def test_remote_code_refused(tmp_path, tiny_llama_dir):
    d = copy_model(tiny_llama_dir, tmp_path / "m")
    cfg = json.loads((d / "config.json").read_text())
    cfg["auto_map"] = {"AutoModelForCausalLM": "modeling_custom.CustomModel"}
    (d / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelLoadError, match="remote code"):
        load_model(ModelSource("local", str(d)))


def test_unknown_architecture_refused(tmp_path, tiny_llama_dir):
    d = copy_model(tiny_llama_dir, tmp_path / "m")
    cfg = json.loads((d / "config.json").read_text())
    cfg["model_type"] = "my-secret-arch"
    (d / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelLoadError, match="remote code"):
        load_model(ModelSource("local", str(d)))


def test_hub_id_while_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError, match="offline") as err:
        load_model(ModelSource("hub", "someone/some-model-not-cached"))
    assert "Connect to the internet" in err.value.hint


def test_cuda_asked_but_absent(monkeypatch, tiny_llama_dir):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(PlaygroundError, match="CUDA"):
        load_model(ModelSource("local", str(tiny_llama_dir)), device="cuda")


def test_out_of_memory_while_loading(monkeypatch, tiny_llama_dir):
    from transformers import AutoModelForCausalLM

    def boom(*a, **k):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", boom)
    with pytest.raises(ModelLoadError, match="ran out of memory") as err:
        load_model(ModelSource("local", str(tiny_llama_dir)))
    assert "smaller model" in err.value.hint


def test_memory_precheck_refuses_huge_model(monkeypatch, tiny_llama_dir):
    import psutil

    class VM:
        available = 1000  # bytes

    monkeypatch.setattr(psutil, "virtual_memory", lambda: VM())
    with pytest.raises(ModelLoadError, match="needs about"):
        load_model(ModelSource("local", str(tiny_llama_dir)))


def test_failed_load_keeps_current_model(tmp_path, tiny_llama):
    session = ModelSession()
    session.set(tiny_llama)
    with pytest.raises(ModelLoadError):
        session.load(ModelSource("local", str(tmp_path / "missing")))
    assert session.current is tiny_llama


def test_empty_source_names_are_refused():
    with pytest.raises(ModelLoadError, match="No model was named"):
        load_model(ModelSource("hub", "  "))


def test_a_given_tokenizer_is_copied_not_read_again(monkeypatch, tiny_llama_dir, bundled_tokenizer):
    # A training job loading its own copy of the app's model takes the app's tokenizer: reading the
    # files again would hold the GIL ~110 ms and stall the GUI thread.
    import transformers

    def refuse(*_a, **_k):
        raise AssertionError("the tokenizer files were read again")

    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", refuse)
    loaded = load_model(ModelSource("local", str(tiny_llama_dir)), device="cpu", tokenizer=bundled_tokenizer)
    tok = loaded.tokenizer
    assert tok is not bundled_tokenizer
    assert tok("Hello there")["input_ids"] == bundled_tokenizer("Hello there")["input_ids"]
    before = bundled_tokenizer.padding_side
    tok.padding_side = "left" if before == "right" else "right"
    assert bundled_tokenizer.padding_side == before  # the job's padding side stays its own

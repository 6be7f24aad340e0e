"""Loading models and the one model session the whole app shares."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playground.core.base.units import format_bytes
from playground.core.base.errors import ModelLoadError, PlaygroundError
from playground.core.base.handle import TaskHandle, ensure_handle
from playground.core.models.sources import (
    ModelSource,
    download_from_hub,
    inspect_local_folder,
    resolve_cached_repo,
)

DECODER_ONLY = "decoder-only"
ENCODER_DECODER = "encoder-decoder"
ENCODER_ONLY = "encoder-only"
_TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "tokenizer.model", "spiece.model",
                    "sentencepiece.bpe.model", "tokenizer_config.json")


@dataclass
class ModelInfo:
    """What the model bar and every tab show about the loaded model."""

    name: str
    kind: str
    architecture: str
    parameters: int
    memory_bytes: int
    context_window: int
    vocab_size: int
    has_chat_template: bool
    device: str
    dtype: str
    num_layers: int
    num_heads: int
    folder: str = ""

    def summary(self) -> str:
        return (f"{self.name} · {self.kind} · {self.parameters / 1e6:.0f}M params · "
                f"{format_bytes(self.memory_bytes)} · {self.device} {self.dtype}")


@dataclass
class LoadedModel:
    """A model with its tokenizer, ready to use. Treat as read-only once built."""

    model: Any
    tokenizer: Any
    info: ModelInfo
    source: ModelSource
    extras: dict = field(default_factory=dict)

    @property
    def is_encoder_decoder(self) -> bool:
        return self.info.kind == ENCODER_DECODER

    @property
    def device(self) -> str:
        return self.info.device


def architecture_kind(config) -> str:
    """decoder-only, encoder-decoder or encoder-only, from a transformers config."""
    if getattr(config, "is_encoder_decoder", False):
        return ENCODER_DECODER
    archs = " ".join(getattr(config, "architectures", None) or [])
    if "CausalLM" in archs or "LMHead" in archs:
        return DECODER_ONLY
    if getattr(config, "is_decoder", False):
        return DECODER_ONLY
    if any(k in archs for k in ("MaskedLM", "ForSequenceClassification", "ForTokenClassification")) \
            or getattr(config, "model_type", "") in ("bert", "roberta", "distilbert", "electra", "deberta-v2"):
        return ENCODER_ONLY
    return DECODER_ONLY


TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "vocab.txt", "spiece.model",
                   "sentencepiece.bpe.model", "vocab.model")


def context_window(config, tokenizer) -> int:
    """How many tokens the model can look at, from the config (or the tokenizer as a fallback)."""
    for attr in ("max_position_embeddings", "n_positions", "max_sequence_length", "n_ctx", "seq_length"):
        value = getattr(config, attr, None)
        if isinstance(value, int) and value > 0:
            return value
    tml = getattr(tokenizer, "model_max_length", None)
    if isinstance(tml, int) and 0 < tml < 1_000_000:
        return tml
    # Relative-position models (T5) have no hard limit; 512 is what they were trained on.
    return 512


def describe_model(model, tokenizer, name: str, folder: str = "") -> ModelInfo:
    config = model.config
    params = sum(p.numel() for p in model.parameters())
    memory = sum(p.numel() * p.element_size() for p in model.parameters())
    memory += sum(b.numel() * b.element_size() for b in model.buffers())
    text_cfg = config.get_text_config() if hasattr(config, "get_text_config") else config
    layers = (getattr(text_cfg, "num_hidden_layers", None) or getattr(text_cfg, "num_layers", None)
              or getattr(text_cfg, "n_layer", 0))
    heads = (getattr(text_cfg, "num_attention_heads", None) or getattr(text_cfg, "num_heads", None)
             or getattr(text_cfg, "n_head", 0))
    param = next(model.parameters())
    return ModelInfo(
        name=name,
        kind=architecture_kind(config),
        architecture=(getattr(config, "architectures", None) or [type(model).__name__])[0],
        parameters=params,
        memory_bytes=memory,
        context_window=context_window(config, tokenizer),
        vocab_size=int(getattr(text_cfg, "vocab_size", None) or len(tokenizer)),
        has_chat_template=bool(getattr(tokenizer, "chat_template", None)),
        device=str(param.device),
        dtype=str(param.dtype).replace("torch.", ""),
        num_layers=int(layers or 0),
        num_heads=int(heads or 0),
        folder=folder,
    )


def resolve_source_folder(source: ModelSource, handle: TaskHandle | None = None) -> Path:
    """The local folder holding the model's files, converting or downloading as needed."""
    if source.kind in ("local", "cache", "hub") and not source.ref.strip():
        raise ModelLoadError("No model was named.", "Type a folder path or a model id, or choose the bundled model.")
    if source.kind == "bundled":
        from playground.core.models.bundled import ensure_bundled_cache

        return ensure_bundled_cache(handle)
    if source.kind == "encoder":
        from playground.core.models.encoder import find_bundled_encoder

        return find_bundled_encoder()
    if source.kind == "local":
        return Path(source.ref)
    if source.kind == "cache":
        folder = resolve_cached_repo(source.ref)
        if folder is None:
            raise ModelLoadError(f"'{source.ref}' is not in the Hugging Face cache any more.",
                                 "Choose another model or download it again.")
        return folder
    if source.kind == "hub":
        return download_from_hub(source.ref, handle, source.allow_pickle)
    raise ModelLoadError(f"Unknown kind of model source '{source.kind}'.")


def _check_memory(folder: Path) -> None:
    """Refuse early when the weights clearly cannot fit in the free memory."""
    try:
        import psutil
    except ImportError:
        return
    size = sum(f.stat().st_size for f in folder.glob("*.safetensors"))
    free = psutil.virtual_memory().available
    if size and size * 1.2 > free:
        from playground.core.finetune.memory import format_bytes

        raise ModelLoadError(
            f"This model needs about {format_bytes(size * 1.2)} of memory but only {format_bytes(free)} is free.",
            "Close other programs or choose a smaller model.",
        )


def load_model(source: ModelSource, device: str = "auto", dtype: str = "auto",
               handle: TaskHandle | None = None, tokenizer=None) -> LoadedModel:
    """Load a model and its tokenizer (see :func:`_load_model`), keeping other threads responsive."""
    from playground.core.base.runtime import quiet_loading

    with quiet_loading():
        return _load_model(source, device, dtype, handle, tokenizer)


def _load_model(source: ModelSource, device: str = "auto", dtype: str = "auto",
                handle: TaskHandle | None = None, tokenizer=None) -> LoadedModel:
    """Load a model and its tokenizer.

    Parameters
    ----------
    source
        Where the model comes from.
    device
        'auto' (CUDA, then MPS, then CPU), 'cuda', 'mps' or 'cpu'.
    dtype
        'auto', 'float32', 'float16' or 'bfloat16'.
    handle
        Progress and cancellation.
    tokenizer
        The tokenizer of the same model, already loaded (the app's, when a training job loads its
        own copy of the model): a shallow copy of it is used instead of reading the files again.
        Reading a fast tokenizer holds the GIL for the whole parse (about 110 ms for SmolLM2's
        49,152 tokens on a 2-core CPU), which stalls the GUI thread; the copy takes microseconds,
        shares the parsed vocabulary and keeps its own padding side.

    Raises
    ------
    ModelLoadError, PlaygroundError
        With a plain message; nothing about the previously loaded model changes.
    """
    from playground.core.models.device import pick_device, resolve_dtype

    handle = ensure_handle(handle)
    device = pick_device(device)
    torch_dtype = resolve_dtype(dtype, device)
    folder = resolve_source_folder(source, handle)
    handle.raise_if_cancelled()
    inspect_local_folder(folder, allow_pickle=source.allow_pickle or source.kind in ("bundled", "encoder"))
    _check_memory(folder)
    handle.report(0.92 if source.kind == "bundled" else 0.3, "Loading the weights...")

    import copy

    import torch
    from playground.core.models.imports import transformers_names

    (AutoConfig, AutoModel, AutoModelForCausalLM, AutoModelForMaskedLM, AutoModelForSeq2SeqLM,
     AutoTokenizer) = transformers_names("AutoConfig", "AutoModel", "AutoModelForCausalLM", "AutoModelForMaskedLM",
                                         "AutoModelForSeq2SeqLM", "AutoTokenizer")
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # the app shows its own progress

    if not any((folder / f).is_file() for f in TOKENIZER_FILES) and not any(folder.glob("*.tiktoken")):
        # Else transformers falls back to a slow tokenizer class and asks for sentencepiece.
        raise ModelLoadError(f"{folder.name} has no tokenizer files ({', '.join(TOKENIZER_FILES[:3])}...).",
                             "Copy the tokenizer files of the model it came from into the folder "
                             "(the same tokenizer must be used for training and for inference).")
    try:
        config = AutoConfig.from_pretrained(str(folder), trust_remote_code=False)
        kind = architecture_kind(config)
        cls = {ENCODER_DECODER: AutoModelForSeq2SeqLM, DECODER_ONLY: AutoModelForCausalLM}.get(kind, AutoModel)
        if kind == ENCODER_ONLY and "MaskedLM" in " ".join(getattr(config, "architectures", None) or []):
            cls = AutoModelForMaskedLM  # keep the head that fills in [MASK]
        has_st = any(folder.glob("*.safetensors"))
        model = cls.from_pretrained(str(folder), dtype=torch_dtype, trust_remote_code=False,
                                    use_safetensors=True if has_st else None)
        handle.raise_if_cancelled()
        if not any((folder / f).exists() for f in _TOKENIZER_FILES):
            # transformers 5 would build an empty tokenizer (a handful of special tokens) here.
            raise ModelLoadError(f"{folder.name} has no tokenizer files, so its text cannot be read.",
                                 "Copy the tokenizer files (tokenizer.json, or vocab.txt for BERT) into the folder.")
        try:
            tokenizer = (copy.copy(tokenizer) if tokenizer is not None
                         else AutoTokenizer.from_pretrained(str(folder), trust_remote_code=False))
        except Exception as exc:
            raise ModelLoadError(f"The tokenizer of {folder.name} cannot be loaded ({exc}).",
                                 "A model folder needs its tokenizer files (tokenizer.json or similar).") from None
        model.to(device)
        model.eval()
    except PlaygroundError:
        raise
    except (torch.OutOfMemoryError, MemoryError):
        raise ModelLoadError("The computer ran out of memory while loading this model.",
                             "Choose a smaller model, a lower precision (float16/bfloat16), or the CPU.") from None
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        if "out of memory" in str(exc).lower():
            raise ModelLoadError("The device ran out of memory while loading this model.",
                                 "Choose a smaller model or a lower precision.") from None
        raise ModelLoadError(f"The model in {folder.name} could not be loaded: {exc}") from None
    if tokenizer.pad_token is None and tokenizer.eos_token is not None:
        tokenizer.pad_token = tokenizer.eos_token
    info = describe_model(model, tokenizer, source.display_name, str(folder))
    handle.report(1.0, f"Loaded {info.name}.")
    return LoadedModel(model=model, tokenizer=tokenizer, info=info, source=source)


class ModelSession:
    """The one loaded model shared by every tab.

    Loading a new model replaces the current one only when the load succeeded, so a failed
    load leaves the model in use untouched.

    A fine-tuned version of the model (an adapter, or fully fine-tuned weights) can be attached
    with ``set_adapter``; ``use_adapter`` switches every tab between the base model and the
    fine-tuned one, since every tab reads ``current``. Loading another model drops the adapter.
    """

    def __init__(self) -> None:
        self._base: LoadedModel | None = None
        self._adapter: LoadedModel | None = None
        self._adapter_on = False
        self._lock = threading.Lock()

    @property
    def current(self) -> LoadedModel | None:
        """The model tabs use: the fine-tuned one while the adapter is on, else the base model."""
        if self._adapter_on and self._adapter is not None:
            return self._adapter
        return self._base

    @property
    def base(self) -> LoadedModel | None:
        """The loaded model without any adapter."""
        return self._base

    @property
    def adapter(self) -> LoadedModel | None:
        """The attached fine-tuned model (None when there is none)."""
        return self._adapter

    @property
    def adapter_on(self) -> bool:
        return self._adapter_on and self._adapter is not None

    def require(self) -> LoadedModel:
        loaded = self.current
        if loaded is None:
            raise PlaygroundError("No model is loaded yet.", "Wait for the model to finish loading, or load one from the Model menu.")
        return loaded

    def set(self, loaded: LoadedModel) -> None:
        with self._lock:
            self._base = loaded
            self._adapter = None
            self._adapter_on = False

    def set_adapter(self, adapted: LoadedModel | None, on: bool = True) -> None:
        """Attach a fine-tuned version of the base model (None detaches it) and switch to it when ``on``.

        Parameters
        ----------
        adapted
            The fine-tuned model as a LoadedModel; ``extras["adapter_dir"]`` names where it lives.
        on
            Use it right away.
        """
        with self._lock:
            self._adapter = adapted
            self._adapter_on = bool(on and adapted is not None)

    def use_adapter(self, on: bool) -> LoadedModel | None:
        """Switch between the fine-tuned model and the base model; returns the model now in use."""
        with self._lock:
            self._adapter_on = bool(on and self._adapter is not None)
        return self.current

    def load(self, source: ModelSource, device: str = "auto", dtype: str = "auto",
             handle: TaskHandle | None = None) -> LoadedModel:
        loaded = load_model(source, device=device, dtype=dtype, handle=handle)
        self.set(loaded)
        return loaded

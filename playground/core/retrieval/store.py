"""The index on disk: a faiss flat index of the chunk vectors, the chunks as JSON and a manifest
(format version, encoder, chunk settings, each document's content hash and rows), written atomically.

Why faiss: a maintained library (Meta), embedded (no server), with exact search (``IndexFlatIP``) and
approximate indexes (HNSW, IVF) behind one interface, and its own file format for the vectors.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from playground.core.base.errors import writing

#: The layout this code writes; a folder written by a newer version is rebuilt, with a note.
INDEX_VERSION = 1
MANIFEST = "manifest.json"
CHUNKS = "chunks.json"
VECTORS = "vectors.faiss"


@dataclass
class Saved:
    """What a folder holds, or why it cannot be used (``problem``: a plain sentence)."""

    manifest: dict = field(default_factory=dict)
    chunks: list = field(default_factory=list)
    vectors: object = None  # numpy [n, d] float32
    problem: str = ""


def read_saved(folder: Path) -> Saved:
    """The saved index in ``folder``; ``problem`` says why there is none to reuse (missing, newer, damaged)."""
    import faiss
    import numpy as np

    from playground.core.retrieval.chunking import Chunk

    mpath = folder / MANIFEST
    if not mpath.exists():
        why = ("No index was saved there yet" if not folder.exists() or not any(folder.iterdir())
               else "The index folder holds no manifest (it was deleted or never finished)")
        return Saved(problem=f"{why}: every chunk is embedded now.")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
        version = int(manifest.get("version", 0))
    except (OSError, ValueError, TypeError):
        return Saved(problem="The saved index's manifest cannot be read (damaged): the index is built again.")
    if version > INDEX_VERSION:
        return Saved(problem=f"The saved index was written by a newer version of LLM Playground (format {version}; "
                             f"this one reads format {INDEX_VERSION}): the index is built again in this version's "
                             "format.")
    try:
        chunks = [Chunk(**c) for c in json.loads((folder / CHUNKS).read_text(encoding="utf-8"))]
        flat = faiss.read_index(str(folder / VECTORS))
        vectors = flat.reconstruct_n(0, flat.ntotal) if flat.ntotal else np.zeros((0, flat.d), "float32")
    except Exception:  # a missing or damaged file: nothing of it can be trusted
        return Saved(problem="Part of the saved index is missing or damaged: the index is built again.")
    if len(chunks) != len(vectors):
        return Saved(problem="The saved index's chunks and vectors do not match: the index is built again.")
    return Saved(manifest, chunks, np.ascontiguousarray(vectors, dtype="float32"))


def write_saved(folder: Path, manifest: dict, chunks: list, vectors) -> None:
    """Write chunks, vectors and (last) the manifest, each to a temporary file first, then renamed."""
    import faiss

    folder.mkdir(parents=True, exist_ok=True)
    with writing("the index", folder, "The documents themselves are untouched."):
        flat = faiss.IndexFlatIP(int(manifest["dimension"]))
        if len(vectors):
            flat.add(vectors)
        tmp_vec = folder / (VECTORS + ".tmp")
        faiss.write_index(flat, str(tmp_vec))
        tmp_chunks = folder / (CHUNKS + ".tmp")
        tmp_chunks.write_text(json.dumps([c.to_dict() for c in chunks], ensure_ascii=False), encoding="utf-8")
        tmp_man = folder / (MANIFEST + ".tmp")
        tmp_man.write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
        # The manifest goes last: a crash in between leaves a manifest whose counts do not match,
        # which read_saved refuses (and the index is rebuilt), never a silently wrong index.
        old = folder / MANIFEST
        if old.exists():
            old.unlink()
        os.replace(tmp_vec, folder / VECTORS)
        os.replace(tmp_chunks, folder / CHUNKS)
        os.replace(tmp_man, folder / MANIFEST)


def default_index_folder(name: str, source: str | Path | None = None) -> Path:
    """Where the app keeps the index of a knowledge base: the user cache, one folder per base (a folder of
    the learner's own files by its name and a short hash of its full path, so two 'notes' folders differ)."""
    import hashlib

    from playground.core.base.paths import user_dirs

    key = name
    if source is not None:
        full = str(Path(source).resolve())
        key = f"{Path(full).name or 'documents'}-{hashlib.sha256(full.encode()).hexdigest()[:8]}"
    return user_dirs().cache / "rag" / key

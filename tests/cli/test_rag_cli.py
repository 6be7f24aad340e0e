"""`playground rag index / ask / eval`: the same core calls as the Build tab, printed."""

from __future__ import annotations

import pytest

from playground.cli.main import main


def write_docs(folder):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ferry.md").write_text("# The ferry\n\nThe ferry Corran Bell sails from Hallowick to Kestrany at "
                                     "07:15 and 16:30.", encoding="utf-8")
    (folder / "bus.txt").write_text("The Loop bus calls at thirteen stops around the island.", encoding="utf-8")
    return folder


def test_index_then_reopen_embeds_nothing(tmp_path, capsys):
    docs = write_docs(tmp_path / "docs")
    store = tmp_path / "index"
    assert main(["rag", "index", str(docs), "--index-folder", str(store)]) == 0
    out = capsys.readouterr().out
    assert "2 documents (" in out and "2 chunks (chunks of 128 tokens, 32 overlapping)" in out
    assert "Embedded 2 chunks, reused 0 from disk" in out
    assert main(["rag", "index", str(docs), "--index-folder", str(store)]) == 0
    out = capsys.readouterr().out
    assert "Reopened the saved index: 2 documents unchanged (nothing embedded)." in out
    assert "Embedded 0 chunks, reused 2 from disk" in out


def test_ask_lists_the_chunks_with_scores_and_the_k_note(tmp_path, capsys):
    docs = write_docs(tmp_path / "docs")
    code = main(["rag", "ask", "When does the ferry leave Hallowick?", "--docs", str(docs), "--index-folder",
                 str(tmp_path / "index"), "--k", "5", "--method", "bm25", "--no-answer"])
    assert code == 0
    out = capsys.readouterr().out
    assert "Top 1 chunks by BM25 (keywords) (Only 2 chunks exist, so k = 5 returns all 2.):" in out
    assert "1. [ferry#0] score " in out and "bus#0" not in out  # BM25: only chunks sharing a word


def test_ask_answers_with_and_without_retrieval(tmp_path, tiny_llama_dir, capsys):
    docs = write_docs(tmp_path / "docs")
    code = main(["rag", "ask", "Which ferry sails from Hallowick?", "--docs", str(docs), "--index-folder",
                 str(tmp_path / "index"), "--k", "1", "--model", str(tiny_llama_dir), "--max-new-tokens", "4",
                 "--show-prompt"])
    assert code == 0
    out = capsys.readouterr().out
    assert "Without retrieval: " in out and "With 1 chunks (hybrid, k=1): " in out
    assert "The ferry Corran Bell sails from Hallowick" in out.split("----- prompt -----")[1]
    assert "of the context window" in out


@pytest.mark.bad_input("rag index on an empty folder")
def test_index_of_an_empty_folder_is_a_plain_error(tmp_path, capsys, bad_input):
    (tmp_path / "empty").mkdir()
    assert main(["rag", "index", str(tmp_path / "empty"), "--index-folder", str(tmp_path / "i")]) == 2
    err = capsys.readouterr().err
    assert "holds no .txt, .md or .pdf file" in err
    bad_input(err)


@pytest.mark.bad_input("rag with overlap as large as the chunk size")
def test_overlap_not_smaller_than_the_size_is_a_plain_error(tmp_path, capsys, bad_input):
    docs = write_docs(tmp_path / "docs")
    code = main(["rag", "index", str(docs), "--chunk-size", "64", "--chunk-overlap", "64",
                 "--index-folder", str(tmp_path / "i")])
    assert code == 2
    err = capsys.readouterr().err
    assert "must be smaller than the chunk size" in err
    bad_input(err)


def test_eval_prints_what_evaluate_retrieval_computes(tmp_path, capsys):
    from playground.core.retrieval import ChunkSettings, RagIndex, evaluate_retrieval, load_bundled

    store = tmp_path / "index"
    assert main(["rag", "eval", "--ks", "1,3", "--limit", "8", "--index-folder", str(store)]) == 0
    out = capsys.readouterr().out
    base = load_bundled()
    index = RagIndex.open_or_build(store, base.documents, ChunkSettings())
    assert index.embedded_chunks == 0
    expected = evaluate_retrieval(index, base.questions[:8], (1, 3)).table()
    assert expected in out
    assert "8 questions" in out and "recall@1" in out and "Hybrid (RRF)" in out

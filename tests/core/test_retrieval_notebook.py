"""A retrieval experiment exported to a notebook reruns offline (faiss, bm25s, transformers; not the app)
and finds the same chunks with the same scores, builds the same prompt and gives the same greedy answers."""

from __future__ import annotations

import nbformat
import pytest

from playground.core.base.errors import InputError
from playground.core.labs.notebook import build_notebook
from playground.core.retrieval import (
    ChunkSettings,
    Document,
    RagIndex,
    answer_settings,
    build_prompt,
    generate_answer,
)
from playground.core.retrieval.notebook import rag_experiment
from tests.core.test_notebook import model_ref, run_script

DOCS = [Document("ferry", "Ferry", "ferry.md", "The ferry Corran Bell sails from Hallowick to Kestrany at 07:15. "
                 "In winter the last ferry leaves Velmouth at 16:30.", 100),
        Document("museum", "Museum", "museum.md", "The Museum of the Sea sits in the old customs house. Its curator "
                 "is Ilse Varga, who came from Ostervik in 2009.", 100),
        Document("bus", "Bus", "bus.md", "The Loop bus calls at thirteen stops, the ferry pier among them.", 60)]


@pytest.mark.parametrize("method", ["hybrid", "dense"])
def test_the_rag_notebook_reproduces_the_app(tiny_llama, tiny_llama_dir, tmp_path, method):
    settings = ChunkSettings(size=16, overlap=4)
    index = RagIndex.open_or_build(None, DOCS, settings)
    question = "Who is the curator of the museum?"
    hits = index.search(question, method, k=3)
    answer = generate_answer(tiny_llama, build_prompt(question, hits, tiny_llama), answer_settings(6))
    without = generate_answer(tiny_llama, build_prompt(question, [], tiny_llama), answer_settings(6))
    exp = rag_experiment(DOCS, settings, question, method, 3, hits, answer, without, max_new_tokens=6)
    nb = build_notebook(model_ref(tiny_llama, tiny_llama_dir), [exp])
    nbformat.validate(nb)
    got = run_script(nb, tmp_path)["rag"]
    assert got["n_chunks"] == len(index.chunks)
    assert [cid for cid, _ in got["hits"]] == [h.chunk.id for h in hits]
    assert [s for _, s in got["hits"]] == pytest.approx([h.score for h in hits], abs=1e-4)
    assert got["prompt"] == build_prompt(question, hits, tiny_llama).text
    assert got["answer"] == answer and got["answer_without"] == without


def test_an_empty_rag_experiment_is_refused_plainly():
    with pytest.raises(InputError, match="no retrieval experiment"):
        build_notebook({"kind": "local", "ref": "x"}, [{"kind": "rag", "documents": [], "question": ""}])

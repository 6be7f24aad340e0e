"""The bundled knowledge base (resources/knowledge/kestrany): its files hold together on their own.

Read straight from the files, without the retrieval core, so a broken document or question is
caught here whatever the core does with it.
"""

import json
import re

import pytest

from playground.core.base.paths import resources_dir

BASE = resources_dir() / "knowledge" / "kestrany"


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


@pytest.fixture(scope="module")
def documents() -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted((BASE / "documents").glob("*.md"))}


@pytest.fixture(scope="module")
def questions() -> list[dict]:
    return json.loads((BASE / "questions.json").read_text(encoding="utf-8"))


def test_documents_are_many_short_titled_markdown_files(documents):
    assert 40 <= len(documents) <= 80
    assert not [p.name for p in (BASE / "documents").iterdir() if p.suffix != ".md"]
    for stem, text in documents.items():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", stem), stem
        first, _, body = text.partition("\n")
        assert first.startswith("# ") and first[2:].strip(), stem
        assert 80 <= len(body.split()) <= 250, (stem, len(body.split()))
    titles = [t.partition("\n")[0] for t in documents.values()]
    assert len(titles) == len(set(titles))


def test_every_question_has_a_short_answer_found_in_its_passage(documents, questions):
    assert len(questions) >= 30
    assert all(set(q) == {"id", "question", "answer", "passage_id"} for q in questions)
    ids = [q["id"] for q in questions]
    assert len(ids) == len(set(ids))
    assert len({_norm(q["question"]) for q in questions}) == len(questions)
    for q in questions:
        where = f"{q['id']}: {q['question']}"
        assert q["question"].strip().endswith("?"), where
        assert q["passage_id"] in documents, where
        assert q["answer"].strip() and len(q["answer"].split()) <= 4, where  # short, so exact match means something
        assert _norm(q["answer"]) in _norm(documents[q["passage_id"]]), where


def test_the_passages_spread_over_the_base(questions):
    assert len({q["passage_id"] for q in questions}) >= 30


def test_the_readme_says_what_it_is_and_its_licence():
    text = (BASE / "README.md").read_text(encoding="utf-8")
    assert "original" in text and "Apache-2.0" in text

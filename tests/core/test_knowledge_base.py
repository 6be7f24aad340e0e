"""The bundled knowledge base (resources/knowledge/kestrany): its files hold together on their own.

Read straight from the files, without the retrieval core, so a broken document or question is
caught here whatever the core does with it.
"""

import json
import re

import pytest

from playground.core.base.paths import resources_dir

BASE = resources_dir() / "knowledge" / "kestrany"
SETTING_KEYS = {"chunk_size", "overlap", "method", "k"}


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


def test_presets_name_existing_questions_and_known_settings(documents, questions):
    presets = json.loads((BASE / "presets.json").read_text(encoding="utf-8"))
    by_id = {q["id"]: q for q in questions}
    assert len(presets) >= 6 and len({p["name"] for p in presets}) == len({p["key"] for p in presets}) == len(presets)
    for p in presets:
        assert set(p) - {"fix"} in ({"key", "name", "sentence", "question_id", "settings"},
                                    {"key", "name", "sentence", "question", "settings"})
        assert set(p.get("fix", {})) <= SETTING_KEYS and p.get("fix", {}) != p["settings"], p["name"]
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", p["key"]), p["key"]
        assert p["sentence"].strip() and set(p["settings"]) <= SETTING_KEYS, p["name"]
        if "question_id" in p:
            assert p["question_id"] in by_id, p["name"]
        assert p["settings"].get("method", "dense") in ("dense", "bm25", "hybrid")
        size, overlap = p["settings"].get("chunk_size", 128), p["settings"].get("overlap", 32)
        assert 0 <= overlap < size and p["settings"].get("k", 4) >= 1
    free = [p["question"] for p in presets if "question" in p]
    assert free and all(_norm(f) not in {_norm(q["question"]) for q in questions} for f in free)


def test_the_split_fact_preset_points_at_a_long_sentence_with_both_halves(documents, questions):
    """The chunk-too-small preset needs its answer far from the name the question asks about."""
    presets = json.loads((BASE / "presets.json").read_text(encoding="utf-8"))
    (split,) = [p for p in presets if p["settings"].get("chunk_size", 128) < 64]
    q = {q["id"]: q for q in questions}[split["question_id"]]
    text = documents[q["passage_id"]]
    name_at = text.index("Margaret Ives")
    answer_at = text.index(f"brought {q['answer']} ")
    assert answer_at - name_at > 4 * split["settings"]["chunk_size"]  # characters: a 32-token chunk holds ~130


def test_the_not_in_the_documents_preset_really_is_not_answered(documents):
    presets = json.loads((BASE / "presets.json").read_text(encoding="utf-8"))
    (free,) = [p for p in presets if "question" in p]
    assert "telephone" in free["question"]
    assert not any(re.search(r"(tele)?phone number|\+?\d{3,}[ -]\d{3,}", t) for t in documents.values())


def test_the_readme_says_what_it_is_and_its_licence():
    text = (BASE / "README.md").read_text(encoding="utf-8")
    assert "original" in text and "Apache-2.0" in text

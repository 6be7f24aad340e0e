"""Lab 4, 'Ground a model in documents': its file loads, its steps happen in the Build tab, and each check
ticks only when the Build tab's rag.* events (the payloads playground/qt/build emits) say the step was done."""

from playground.core.labs import CHECKS, LabState, load_labs, run_check
from playground.core.labs.state import BUILD_EVENTS, EVENTS

RAG_EVENTS = {"rag.indexed", "rag.asked", "rag.compared", "rag.attributed", "rag.preset", "rag.evaluated"}


def grounding_lab():
    labs, problems = load_labs()
    assert problems == []
    (lab,) = [lab for lab in labs if lab.id == "grounding"]
    return lab


def test_the_lab_file_loads_with_a_distinct_check_per_step_in_the_build_tab():
    lab = grounding_lab()
    assert lab.title.startswith("Lab 4") and "documents" in lab.title.lower()
    assert len(lab.steps) >= 6
    checks = [s.check for s in lab.steps]
    assert len(set(checks)) == len(checks) and all(c in CHECKS and c.startswith("rag_") for c in checks)
    for step in lab.steps:
        assert step.tab == "Build" and step.control and step.do and step.look and step.question and step.explain


def test_the_build_events_are_known_and_marked_as_the_build_tabs():
    # the Build tab's retrieval events; its other sections (reasoning, structured output, ReAct) add theirs
    assert RAG_EVENTS <= BUILD_EVENTS and RAG_EVENTS <= set(EVENTS)
    assert {e for e in BUILD_EVENTS if e.startswith("rag.")} == RAG_EVENTS


def test_the_checks_say_plainly_when_no_build_tab_reports_and_tick_when_it_does():
    lab = grounding_lab()
    s = LabState()
    for step in lab.steps:
        result = run_check(step.check, s)
        assert not result.passed and "Build tab is not in this build" in result.detail
    s.watching(["rag.indexed", "rag.asked"])
    assert s.build_available
    assert not any(run_check(step.check, s).passed for step in lab.steps)
    assert "Build tab is not" not in run_check("rag_index_built", s).detail


def test_each_check_follows_the_events_the_build_tab_sends():
    s = LabState()
    s.watching(sorted(RAG_EVENTS))
    index = {"base": "kestrany", "documents": 64, "chunks": 128, "size": 128, "overlap": 32, "embedded": 128,
             "approximate": False}
    assert s.record("rag.indexed", index)
    assert run_check("rag_index_built", s).passed and not run_check("rag_rechunked", s).passed
    s.record("rag.indexed", dict(index, embedded=0))  # reopened with the same chunking: not a new cut
    assert not run_check("rag_rechunked", s).passed
    s.record("rag.indexed", dict(index, size=32, overlap=0, chunks=420))
    assert run_check("rag_rechunked", s).passed

    asked = {"question": "Who is the curator of the Museum of the Sea?", "question_id": "q13", "method": "dense",
             "k": 4, "hits": ["museum-of-the-sea#0"], "gold_rank": 1}
    s.record("rag.asked", dict(asked, question_id=None, question="my own question"))
    assert not run_check("rag_bundled_question_asked", s).passed  # a free question has no gold to compare
    s.record("rag.asked", asked)
    assert run_check("rag_bundled_question_asked", s).passed and not run_check("rag_methods_compared", s).passed
    s.record("rag.asked", dict(asked, question="another question", method="bm25"))
    assert not run_check("rag_methods_compared", s).passed  # two methods, but not on the same question
    s.record("rag.asked", dict(asked, method="hybrid"))
    assert run_check("rag_methods_compared", s).passed

    scores = {"exact_match": 1.0, "token_f1": 1.0, "rouge_l": 1.0}
    s.record("rag.compared", {"question_id": "q13", "k": 4, "method": "dense", "without": None, "with": scores})
    assert not run_check("rag_with_and_without", s).passed  # stopped before the answer without retrieval
    s.record("rag.compared", {"question_id": "q13", "k": 4, "method": "dense", "without": scores, "with": scores})
    assert run_check("rag_with_and_without", s).passed

    s.record("rag.attributed", {"question_id": "q13", "chunks": 0, "top_chunk": None, "top_drop": None})
    assert not run_check("rag_answer_attributed", s).passed
    s.record("rag.attributed", {"question_id": "q13", "chunks": 4, "top_chunk": "museum-of-the-sea#0",
                                "top_drop": 3.2, "gold_doc": "museum-of-the-sea"})
    assert run_check("rag_answer_attributed", s).passed

    s.record("rag.preset", {"name": "split-fact"})
    s.record("rag.preset", {"name": "split-fact"})
    assert not run_check("rag_failure_provoked", s).passed  # the same preset twice is one failure seen
    s.record("rag.preset", {"name": "too-many-chunks"})
    assert run_check("rag_failure_provoked", s).passed

    assert not run_check("rag_quality_measured", s).passed
    s.record("rag.evaluated", {"recall": {"dense": {1: 0.8}}, "mrr": {"dense": 0.85}, "accuracy": None})
    assert run_check("rag_quality_measured", s).passed
    assert all(run_check(step.check, s).passed for step in grounding_lab().steps)

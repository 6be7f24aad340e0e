"""The Evaluate similarity column against a direct transformers computation with the bundled encoder."""

from __future__ import annotations

import csv
import io

import pytest
import torch

from playground.core.evaluation.datasets import Example
from playground.core.models.encoder import ENCODER_NAME, find_bundled_encoder
from playground.core.evaluation.report import render_html, results_csv
from playground.core.evaluation.run import FILE, SystemSpec, run_evaluation, score_results
from playground.core.evaluation.metrics import format_table

EXAMPLES = [
    Example("a", "#Person1#: Shall we meet on Friday?\n#Person2#: Fine.", "They will meet on Friday."),
    Example("b", "#Person1#: Did you buy milk?\n#Person2#: No.", "Person2 did not buy milk."),
    Example("c", "#Person1#: Is it raining?\n#Person2#: Yes.", "It is raining outside."),
]
PREDS = ["The two of them agree to get together at the end of the week.",  # paraphrase, low ROUGE
         "Person2 did not buy milk.",  # exact copy
         "Bananas are yellow."]  # unrelated


def _direct(a: str, b: str) -> float:
    """Cosine of mean-pooled vectors, written out with plain transformers."""
    from transformers import AutoModel, AutoTokenizer

    folder = str(find_bundled_encoder())
    tok, model = AutoTokenizer.from_pretrained(folder), AutoModel.from_pretrained(folder)
    vecs = []
    for text in (a, b):
        enc = tok(text, return_tensors="pt")
        with torch.no_grad():
            vecs.append(model(**enc).last_hidden_state[0].mean(0))
    return float(torch.nn.functional.cosine_similarity(vecs[0], vecs[1], dim=0))


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    path = tmp_path_factory.mktemp("sim") / "p.csv"
    path.write_text("guess\n" + "\n".join(f'"{p}"' for p in PREDS) + "\n", encoding="utf-8")
    return list(run_evaluation(None, EXAMPLES, [SystemSpec(FILE, predictions_path=str(path), predictions_column="guess")]))


def test_similarity_column_equals_direct_transformers(results):
    label = "p.csv:guess"
    for r, pred in zip(results, PREDS):
        assert r.similarity[label] == pytest.approx(_direct(pred, r.example.reference), abs=1e-4)
    assert results[1].similarity[label] == pytest.approx(1.0, abs=1e-4)
    # the course's point: the paraphrase is far above the unrelated output on meaning, not on ROUGE
    assert results[0].similarity[label] > results[2].similarity[label] + 0.2
    assert results[0].scores[label]["rougeL"].fmeasure < 0.3


def test_report_table_csv_and_html_carry_it_and_name_the_encoder(results):
    label = "p.csv:guess"
    reports = score_results(results, [label], n_resamples=50)
    mean = sum(r.similarity[label] for r in results) / 3
    assert reports[label].similarity == pytest.approx(mean)
    table = format_table(reports)
    assert "Emb. sim." in table and f"{mean:.2f} [" in table and ENCODER_NAME in table  # a cosine, -1 to 1
    rows = list(csv.reader(io.StringIO(results_csv(results, [label]))))
    col = rows[0].index(f"{label} embedding similarity ({ENCODER_NAME})")
    assert rows[1][col] == f"{results[0].similarity[label]:.2f}"
    page = render_html(results, reports)
    assert "Emb. sim." in page and ENCODER_NAME in page


def test_similarity_can_be_left_out(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("guess\nx\n", encoding="utf-8")
    res = list(run_evaluation(None, EXAMPLES[:1], [SystemSpec(FILE, predictions_path=str(path), predictions_column="guess")],
                              similarity=False))
    assert res[0].similarity == {}
    reports = score_results(res, ["p.csv:guess"], n_resamples=10)
    assert reports["p.csv:guess"].similarity is None and "Emb. sim." not in format_table(reports)

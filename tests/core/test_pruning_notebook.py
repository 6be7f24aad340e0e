"""A pruning run exported to a notebook reruns offline with torch.nn.utils.prune and transformers (not the
app) and gives the app's perplexity, KL, top-1 agreement and greedy tokens."""

import pytest

from playground.core.base.errors import InputError
from playground.core.labs.notebook import build_notebook
from playground.core.lifecycle import precision as P
from playground.core.lifecycle.pruning_notebook import pruning_experiment
from playground.core.lifecycle.pruning_run import PruningRow, pruning_sweep
from tests.core.test_notebook import model_ref, run_script

TEXTS = ["Amanda baked cookies and will bring Jerry some tomorrow.", "Tom lost his keys."]


def test_the_pruning_notebook_reproduces_the_app(tiny_llama, tiny_llama_dir, tmp_path):
    m = tiny_llama
    rows = [r for r in pruning_sweep(m.model, m.tokenizer, "cpu", [("global", 0.5), ("heads", 0.5)], texts=TEXTS,
                                     rank_texts=TEXTS, new_tokens=4) if isinstance(r, PruningRow)]
    assert pruning_experiment(rows[0], TEXTS, P.DEFAULT_PROMPT, 4) is None  # the dense model is no experiment
    exps = [pruning_experiment(r, TEXTS, P.DEFAULT_PROMPT, 4) for r in rows[1:]]
    got = run_script(build_notebook(model_ref(m, tiny_llama_dir), exps), tmp_path)["pruning"]
    for row, nb in zip(rows[1:], got, strict=True):
        assert nb["method"] == row.method
        assert nb["perplexity"] == pytest.approx(row.perplexity, rel=1e-4)
        assert nb["kl"] == pytest.approx(row.kl, abs=1e-5) and nb["top1"] == pytest.approx(row.top1)
        assert [m.tokenizer.decode([t]) for t in nb["tokens"]] == row.completion
    assert got[0]["zeros"] == pytest.approx(0.5, abs=1e-3)  # torch's own global L1 pruning, as the app's masks
    assert got[1]["params"] > rows[2].params  # masked, not removed, in the notebook: said in its text


def test_an_empty_pruning_experiment_is_refused_plainly():
    with pytest.raises(InputError, match="no pruning run"):
        build_notebook({"kind": "local", "ref": "x"}, [{"kind": "pruning", "method": "global", "texts": []}])

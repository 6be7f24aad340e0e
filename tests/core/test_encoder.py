"""The bundled encoder (all-MiniLM-L6-v2) and sentence embeddings, against direct computations."""

from __future__ import annotations

import socket

import pytest
import torch

from playground.core.models.encoder import (
    ENCODER_MAX_TOKENS,
    find_bundled_encoder,
    load_encoder,
    mean_pool,
    pair_similarities,
    sentence_embeddings,
    sentence_similarity,
)
from playground.core.models.sources import ModelSource
from playground.core.models.loading import ENCODER_ONLY, load_model


def test_encoder_loads_from_the_package_with_no_network(monkeypatch):
    def no_network(*a, **k):
        raise OSError("network is off in this test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    loaded = load_model(ModelSource("encoder"), device="cpu")
    assert loaded.info.kind == ENCODER_ONLY
    assert loaded.info.num_layers == 6 and loaded.info.num_heads == 12
    assert 22e6 < loaded.info.parameters < 23.5e6
    assert "all-MiniLM-L6-v2" in loaded.info.name
    assert find_bundled_encoder().is_dir()


def test_parse_names_the_encoder():
    assert ModelSource.parse("encoder") == ModelSource("encoder")
    assert "bundled encoder" in ModelSource("encoder").display_name


def test_attention_rows_sum_to_one_and_are_not_causal():
    model, tok = load_encoder()
    enc = tok("The cat sat on the warm mat.", return_tensors="pt")
    model.set_attn_implementation("eager")
    try:
        with torch.no_grad():
            out = model(**enc, output_attentions=True)
    finally:
        model.set_attn_implementation("sdpa")
    assert len(out.attentions) == 6
    for layer in out.attentions:
        assert torch.allclose(layer.sum(-1), torch.ones_like(layer.sum(-1)), atol=1e-5)
        above = torch.triu(layer[0], diagonal=1)
        assert above.sum() > 1.0  # tokens look at later tokens: bidirectional


def test_embeddings_equal_a_direct_mean_pool():
    model, tok = load_encoder()
    texts = ["A short one.", "A somewhat longer sentence with more words in it."]
    emb = sentence_embeddings(texts)
    for i, text in enumerate(texts):  # one at a time: no padding at all
        enc = tok(text, return_tensors="pt")
        with torch.no_grad():
            v = model(**enc).last_hidden_state[0].mean(0)
        assert torch.allclose(emb.vectors[i], v / v.norm(), atol=1e-5)
    assert emb.truncated == []


def test_mean_pool_ignores_padding():
    hidden = torch.tensor([[[1.0, 1.0], [3.0, 3.0], [100.0, 100.0]]])
    assert torch.allclose(mean_pool(hidden, torch.tensor([[1, 1, 0]])), torch.tensor([[2.0, 2.0]]))


def test_paraphrase_scores_above_unrelated():
    para = sentence_similarity("The meeting was moved to Friday.", "They rescheduled the meeting for Friday.")
    unrelated = sentence_similarity("The meeting was moved to Friday.", "Bananas are rich in potassium.")
    assert para > unrelated + 0.3


def test_long_input_is_cut_and_said():
    long = "word " * 700
    emb = sentence_embeddings(["short", long])
    assert emb.truncated == [1]
    assert str(ENCODER_MAX_TOKENS) in emb.note() and "2" in emb.note()


def test_pair_similarities_match_pairwise():
    preds, refs = ["Tom is late.", "Ann buys milk."], ["Tom will be late.", "The sky is blue."]
    scores = pair_similarities(preds, refs).vectors
    for i in range(2):
        assert scores[i].item() == pytest.approx(sentence_similarity(preds[i], refs[i]), abs=1e-5)


def test_tiny_bert_loads_as_encoder_only(tiny_bert_dir, tiny_bert_mlm_dir):
    plain = load_model(ModelSource("local", str(tiny_bert_dir)), device="cpu")
    mlm = load_model(ModelSource("local", str(tiny_bert_mlm_dir)), device="cpu")
    assert plain.info.kind == mlm.info.kind == ENCODER_ONLY
    assert type(mlm.model).__name__ == "BertForMaskedLM"
    assert type(plain.model).__name__ == "BertModel"


def test_bert_folder_without_tokenizer_says_so(tiny_bert_dir, tmp_path):
    import shutil

    from playground.core.base.errors import ModelLoadError

    folder = tmp_path / "no-tok"
    folder.mkdir()
    for f in ("config.json", "model.safetensors"):
        shutil.copy(tiny_bert_dir / f, folder / f)
    with pytest.raises(ModelLoadError, match="tokenizer"):
        load_model(ModelSource("local", str(folder)), device="cpu")


def test_fill_mask_matches_direct_logits(tiny_bert_mlm_dir):
    from playground.core.models.encoder import fill_mask, has_masked_lm_head
    from playground.core.base.errors import InputError

    loaded = load_model(ModelSource("local", str(tiny_bert_mlm_dir)), device="cpu")
    assert has_masked_lm_head(loaded)
    out = fill_mask(loaded, "Paris is the [MASK] of France.", top_k=3)
    enc = loaded.tokenizer("Paris is the [MASK] of France.", return_tensors="pt")
    pos = enc["input_ids"][0].tolist().index(loaded.tokenizer.mask_token_id)
    with torch.no_grad():
        best = int(loaded.model(**enc).logits[0, pos].argmax())
    assert out.guesses[0][0][0] == loaded.tokenizer.decode([best]).strip()
    assert len(out.guesses[0]) == 3 and out.guesses[0][0][1] >= out.guesses[0][1][1]
    with pytest.raises(InputError, match="MASK"):
        fill_mask(loaded, "no gap")


def test_sentence_map_shapes_and_matrix():
    from playground.core.models.encoder import sentence_map

    texts = ["A cat sleeps.", "A kitten is sleeping.", "Stock prices fell."]
    matrix, coords, emb = sentence_map(texts)
    assert matrix.shape == (3, 3) and coords.shape == (3, 2)
    assert matrix[0, 0] == pytest.approx(1.0, abs=1e-5)
    assert matrix[0, 1] == pytest.approx(sentence_similarity(texts[0], texts[1]), abs=1e-5)
    assert matrix[0, 1] > matrix[0, 2]


def test_the_loaders_take_transformers_names_under_one_lock(monkeypatch):
    """transformers 5 resolves names lazily and two threads resolving at once can fail ("cannot import name
    'AutoModel'"); the decoder and encoder loaders, which run on two workers at start-up, resolve through one lock."""
    import threading

    import transformers

    from playground.core.models import imports

    assert imports.transformers_names("AutoModel", "AutoTokenizer") == (transformers.AutoModel,
                                                                       transformers.AutoTokenizer)
    held = []

    class Spy:
        def __enter__(self):
            held.append(threading.get_ident())

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(imports, "_lock", Spy())
    from playground.core.models.encoder import _cache, load_encoder

    _cache.clear()
    load_encoder()
    assert held, "the encoder loader resolved its transformers names without the lock"

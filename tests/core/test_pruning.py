"""Pruning core: the magnitude masks against torch.nn.utils.prune, head and layer removal against masking
the same heads and layers, importance, sizes, the sweep, and the bad inputs of issue 32."""

import copy
import math

import pytest
import torch

from playground.core.base.errors import InputError
from playground.core.lifecycle import pruning as PR
from playground.core.lifecycle import pruning_structure as PS
from playground.core.lifecycle.pruning_run import Magnitudes, PruningRow, at_pruned, prune, pruning_sweep

TEXTS = ["Amanda baked cookies and will bring Jerry some tomorrow.",
         "The meeting moved to Friday because the room was taken.",
         "Tom lost his keys."]


@pytest.fixture(scope="module")
def tiny(tiny_llama_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(str(tiny_llama_dir), dtype=torch.float32).eval()
    return model, AutoTokenizer.from_pretrained(str(tiny_llama_dir))


def ids_of(tok, text=TEXTS[0]):
    return tok(text, return_tensors="pt").input_ids


@pytest.mark.parametrize("sparsity", [0.3, 0.5, 0.9])
def test_global_mask_equals_torch_global_unstructured(tiny, sparsity):
    from torch.nn.utils import prune

    model, _ = tiny
    ours = PR.magnitude_masks([m.weight for _, m in PR.prunable_linears(model)], sparsity, "global")
    theirs = copy.deepcopy(model)
    params = [(m, "weight") for _, m in PR.prunable_linears(theirs)]
    prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=sparsity)
    for mask, (module, _) in zip(ours, params, strict=True):
        assert torch.equal(mask, module.weight_mask.bool())
    # a global cut is not the same share in every matrix: the oracle's masks differ between matrices
    shares = {round(float(m.float().mean()), 3) for m in ours}
    assert len(shares) > 1


def test_per_layer_mask_equals_torch_l1_unstructured(tiny):
    from torch.nn.utils import prune

    model, _ = tiny
    ours = PR.magnitude_masks([m.weight for _, m in PR.prunable_linears(model)], 0.5, "layer")
    theirs = copy.deepcopy(model)
    for mask, (_, module) in zip(ours, PR.prunable_linears(theirs), strict=True):
        prune.l1_unstructured(module, "weight", amount=0.5)
        assert torch.equal(mask, module.weight_mask.bool())


def test_unstructured_zeros_change_neither_size_nor_shape(tiny):
    from playground.core.lifecycle.precision import weight_bytes

    model, _ = tiny
    pruned, cut = PR.prune_unstructured(model, 0.5)
    n = sum(m.weight.numel() for _, m in PR.prunable_linears(model))
    assert PR.zero_share(pruned) == pytest.approx(round(0.5 * n) / n)
    assert weight_bytes(pruned) == weight_bytes(model) and PR.parameter_count(pruned) == PR.parameter_count(model)
    kept = [m.weight.detach().abs() for _, m in PR.prunable_linears(pruned)]
    assert min(float(w[w > 0].min()) for w in kept) >= cut  # everything under the cut went
    assert PR.zero_share(model) == 0  # the original is untouched
    assert torch.equal(pruned.lm_head.weight, model.lm_head.weight)  # the tied embedding / LM head stays whole


def test_sparse_stored_bytes_equal_torch_csr_with_int32_indices(tiny):
    from playground.core.lifecycle.precision import weight_bytes

    model, _ = tiny
    pruned, _ = PR.prune_unstructured(model, 0.7)
    expected = weight_bytes(pruned)
    for _, m in PR.prunable_linears(pruned):
        csr = m.weight.detach().to_sparse_csr()
        crow, col = csr.crow_indices().int(), csr.col_indices().int()
        as_int32 = torch.sparse_csr_tensor(crow, col, csr.values(), size=csr.shape)
        stored = sum(t.numel() * t.element_size() for t in (as_int32.crow_indices(), as_int32.col_indices(),
                                                             as_int32.values()))
        expected += stored - m.weight.numel() * m.weight.element_size()
    assert PR.sparse_stored_bytes(pruned) == expected
    dense, _ = PR.prune_unstructured(model, 0.0)
    assert PR.sparse_stored_bytes(dense) > weight_bytes(dense)  # stored sparse with no zeros costs more


@pytest.mark.parametrize("bad", [-0.1, 0.995, 1.0, 50, "half", float("nan"), None])
def test_sparsity_outside_0_to_99_percent_is_refused_plainly(bad):
    with pytest.raises(InputError) as err:
        PR.check_sparsity(bad)
    assert "between 0 and 99%" in err.value.hint


def test_sparsity_is_a_fraction_and_the_message_a_percentage():
    assert PR.check_sparsity(0.5) == 0.5 and PR.check_sparsity("0.99") == 0.99 and PR.check_sparsity(0) == 0.0
    with pytest.raises(InputError, match="150% is outside 0-99%"):
        PR.check_sparsity(1.5)
    with pytest.raises(InputError, match="Unknown pruning method"):
        PR.check_method("random")
    assert PR.check_method("magnitude") == "global"


def gated_logits(model, ids, head_gates, layer_gates):
    with torch.no_grad(), PS.gates(model, head_gates, layer_gates):
        return model(input_ids=ids).logits


def test_removed_heads_give_the_logits_of_the_masked_heads(tiny):
    model, tok = tiny
    ids = ids_of(tok)
    # tiny Llama: 4 query heads sharing 2 key/value heads; removing head 0 leaves groups of 1 and 2
    plan = {0: [0], 1: [1, 3]}
    heads = [torch.tensor([0.0, 1, 1, 1]), torch.tensor([1.0, 0, 1, 0])]
    expected = gated_logits(model, ids, heads, torch.ones(2))
    pruned = PS.remove_heads(copy.deepcopy(model), plan)
    assert PS.head_counts(pruned) == [3, 2]
    assert pruned.model.layers[0].self_attn.k_proj.out_features == 3 * 8  # kv head 1 repeated for the groups
    with torch.no_grad():
        assert torch.allclose(pruned(input_ids=ids).logits, expected, atol=1e-5)
    assert PR.parameter_count(pruned) < PR.parameter_count(model)
    # decoding with the KV cache runs on the new shapes
    from playground.core.lifecycle.precision import greedy_tokens

    tokens, _ = greedy_tokens(pruned, tok, ids, 5)
    with torch.no_grad():
        full = pruned.generate(ids, max_new_tokens=5, do_sample=False)[0, ids.shape[1]:].tolist()
    assert tokens == full


def test_dropped_layers_give_the_logits_of_the_skipped_layers(tiny):
    model, tok = tiny
    ids = ids_of(tok)
    expected = gated_logits(model, ids, [torch.ones(4), torch.ones(4)], torch.tensor([0.0, 1.0]))
    pruned = PS.drop_layers(copy.deepcopy(model), [0])
    assert len(pruned.model.layers) == 1 and pruned.config.num_hidden_layers == 1
    assert pruned.model.layers[0].self_attn.layer_idx == 0
    with torch.no_grad():
        assert torch.allclose(pruned(input_ids=ids).logits, expected, atol=1e-5)
        pruned.generate(ids, max_new_tokens=3, do_sample=False)  # the cache follows the renumbered layers


def test_every_head_of_a_layer_or_every_layer_is_refused_plainly(tiny):
    model, _ = tiny
    with pytest.raises(InputError) as err:
        PS.remove_heads(copy.deepcopy(model), {1: [0, 1, 2, 3]})
    assert "layer 2" in err.value.message and "layers" in err.value.hint
    with pytest.raises(InputError, match="no head 5"):
        PS.remove_heads(copy.deepcopy(model), {0: [4]})
    with pytest.raises(InputError, match="no model"):
        PS.drop_layers(copy.deepcopy(model), [0, 1])


def test_plans_keep_a_head_per_layer_and_a_layer_and_say_so():
    imp = PS.Importance(heads=[[0.1, 0.5, 0.2, 0.3], [0.9, 0.05, 0.01, 0.02]], layers=[0.4, 0.1], loss=1.0,
                        exact=True)
    plan, note = PS.plan_heads(imp, 0.25)
    assert plan == {1: [2, 3]} and note == ""  # the two least important heads overall
    plan, note = PS.plan_heads(imp, 0.9)
    assert plan == {0: [0, 2, 3], 1: [1, 2, 3]} and "6 of 8" in note  # each layer keeps its best head
    drop, note = PS.plan_layers(imp, 0.5)
    assert drop == [1] and note == ""
    drop, note = PS.plan_layers(imp, 0.99)
    assert drop == [1] and "One layer always stays" in note


def test_exact_importance_is_the_loss_change_of_the_pruned_model(tiny):
    model, tok = tiny
    imp = PS.score_importance(model, tok, TEXTS, exact=True)
    batches = PS.dialogue_batches(tok, TEXTS)
    with torch.no_grad():
        base = PS._loss(model, batches, "cpu")
        without = PS._loss(PS.remove_heads(copy.deepcopy(model), {1: [2]}), batches, "cpu")
        no_layer = PS._loss(PS.drop_layers(copy.deepcopy(model), [0]), batches, "cpu")
    assert imp.loss == pytest.approx(base)
    assert imp.heads[1][2] == pytest.approx(without - base, abs=1e-5)
    assert imp.layers[0] == pytest.approx(no_layer - base, abs=1e-5)


def test_estimated_importance_finds_a_head_that_does_nothing(tiny):
    model, tok = tiny
    silent = copy.deepcopy(model)
    with torch.no_grad():
        silent.model.layers[0].self_attn.o_proj.weight[:, 8:16] = 0  # head 1 of layer 1 writes nothing
    imp = PS.score_importance(silent, tok, TEXTS)
    assert not imp.exact and imp.heads[0][1] == 0
    assert all(s > 0 for i, row in enumerate(imp.heads) for h, s in enumerate(row) if (i, h) != (0, 1))
    plan, _ = PS.plan_heads(imp, 1 / 8)
    assert plan == {0: [1]}  # the silent head goes first
    assert all(p.grad is None and p.requires_grad for p in silent.parameters())  # the model is left as it was


def test_structured_pruning_refuses_another_architecture(tiny_t5):
    with pytest.raises(InputError, match="Llama-style"):
        PS.decoder_layers(tiny_t5.model)


def test_sweep_measures_the_dense_model_and_each_run(tiny):
    model, tok = tiny
    items = list(pruning_sweep(model, tok, "cpu", [("magnitude", 0.5), ("heads", 0.5), ("layers", 0.5)],
                               texts=TEXTS, rank_texts=TEXTS, new_tokens=4))
    assert isinstance(items[0], Magnitudes) and isinstance(items[1], PS.Importance)
    rows = [r for r in items if isinstance(r, PruningRow)]
    dense, unstructured, heads, layers = rows
    assert dense.method == "dense" and dense.kl == pytest.approx(0, abs=1e-6) and dense.top1 == 1
    assert unstructured.params == dense.params and unstructured.weight_bytes == dense.weight_bytes
    assert unstructured.zeros == pytest.approx(0.5, abs=1e-3) and unstructured.kl > 0
    assert unstructured.sparse_bytes < dense.sparse_bytes
    assert heads.params < dense.params and heads.weight_bytes < dense.weight_bytes
    assert layers.params < heads.params and "1 of 2 layers dropped" in layers.removed
    assert len(heads.picture) == 2 and sum(map(sum, heads.picture)) == 4  # 4 of 8 heads kept
    assert all(len(r.completion) == 4 and math.isfinite(r.perplexity) for r in rows)


def test_at_pruned_gives_a_model_every_tab_can_use(tiny_llama):
    pruned = at_pruned(tiny_llama, "layers", 0.5)
    assert pruned.info.num_layers == 1 and pruned.info.parameters < tiny_llama.info.parameters
    assert pruned.extras["precision_of"] is tiny_llama and pruned.extras["pruning"]["method"] == "layers"
    again = at_pruned(pruned, "global", 0.3)  # always pruned from the model as loaded
    assert again.info.num_layers == 2 and again.extras["precision_of"] is tiny_llama
    _, row = prune(tiny_llama.model, "global", 0.3)
    assert row.picture and "q_proj" in row.picture_title

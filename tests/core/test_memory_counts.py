"""Issue 29, items 1 and 2: LoRA's count equals peft's for every architecture (an encoder-decoder's
cross-attention included), and FP16 / BF16 memory follows the app's trainer (mixed precision)."""

from __future__ import annotations

import pytest

from playground.core.finetune.memory import (
    ModelShape,
    estimate_all_methods,
    estimate_training_memory,
    trainable_parameters,
)


def _tiny(arch: str):
    import torch
    from transformers import (
        BartConfig,
        BartForConditionalGeneration,
        LlamaConfig,
        LlamaForCausalLM,
        T5Config,
        T5ForConditionalGeneration,
    )

    torch.manual_seed(0)
    if arch == "llama":
        return LlamaForCausalLM(LlamaConfig(vocab_size=256, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                            num_attention_heads=4, num_key_value_heads=2,
                                            max_position_embeddings=64, tie_word_embeddings=True))
    if arch == "t5":
        return T5ForConditionalGeneration(T5Config(vocab_size=256, d_model=32, d_kv=8, d_ff=64, num_layers=2,
                                                   num_decoder_layers=3, num_heads=4, decoder_start_token_id=0))
    return BartForConditionalGeneration(BartConfig(vocab_size=256, d_model=32, encoder_layers=2, decoder_layers=3,
                                                   encoder_attention_heads=4, decoder_attention_heads=4,
                                                   encoder_ffn_dim=64, decoder_ffn_dim=64,
                                                   max_position_embeddings=64))


def _peft_counts(model, targets, rank, task):
    import copy

    from peft import LoraConfig, get_peft_model

    peft_model = get_peft_model(copy.deepcopy(model), LoraConfig(r=rank, lora_alpha=2 * rank, target_modules=targets,
                                                                 task_type=task))
    return peft_model.get_nb_trainable_parameters()


CASES = [("llama", None, "CAUSAL_LM"), ("t5", None, "SEQ_2_SEQ_LM"), ("t5", ["q", "v"], "SEQ_2_SEQ_LM"),
         ("bart", None, "SEQ_2_SEQ_LM"), ("bart", ["q_proj", "v_proj", "fc1"], "SEQ_2_SEQ_LM")]


@pytest.mark.parametrize("arch,targets,task", CASES, ids=lambda v: v if isinstance(v, str) else "-".join(v or ["auto"]))
def test_lora_count_equals_peft(arch, targets, task):
    from playground.core.finetune.methods import detect_lora_targets

    model = _tiny(arch)
    targets = targets or detect_lora_targets(model)
    shape = ModelShape.from_model(model, targets)
    for rank in (4, 8):
        trainable, total = _peft_counts(model, targets, rank, task)
        assert trainable_parameters(shape, "lora", lora_rank=rank) == trainable
        est = estimate_training_memory(shape, "lora", "float32", lora_rank=rank)
        assert (est.trainable_parameters, est.total_parameters) == (trainable, total)


def test_a_config_alone_counts_like_peft_on_the_meta_device():
    # T5-base's shape and FLAN-T5-base's (gated): the figures, peft's count on the meta device.
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForSeq2SeqLM, T5Config

    for cfg, targets, rank, expected in (
            (T5Config(d_model=768, d_ff=3072, num_layers=12, num_heads=12, d_kv=64), ["q", "v"], 8, 884_736),
            (T5Config(d_model=768, d_ff=2048, num_layers=12, num_heads=12, d_kv=64, feed_forward_proj="gated-gelu",
                      tie_word_embeddings=False), ["q", "v"], 32, 3_538_944)):
        with torch.device("meta"):
            meta = AutoModelForSeq2SeqLM.from_config(cfg)
        params = sum(p.numel() for p in meta.parameters())
        peft_count = get_peft_model(meta, LoraConfig(r=rank, target_modules=targets, task_type="SEQ_2_SEQ_LM")) \
            .get_nb_trainable_parameters()[0]
        assert peft_count == expected
        shape = ModelShape.from_config(cfg, params, tuple(targets))
        assert trainable_parameters(shape, "lora", lora_rank=rank) == expected


# --- item 2: FP16 / BF16 as the app's trainer keeps them ----------------------------------------------

def test_full_finetuning_at_bf16_counts_fp32_master_weights_and_the_pure_half_line():
    from playground.core.finetune.memory import precision_note
    from tests.core.test_memory import SMOL_PARAMS, smol_shape

    shape = smol_shape()
    mixed = estimate_training_memory(shape, "full", "bfloat16", 1, 512)  # the default: the app's trainer
    pure = estimate_training_memory(shape, "full", "bfloat16", 1, 512, mixed_precision=False)
    p = SMOL_PARAMS
    assert (mixed.weights, mixed.gradients, mixed.optimizer) == (p * 4 + p * 2, p * 4, p * 8)  # 18 B/param
    assert (pure.weights, pure.gradients, pure.optimizer) == (p * 2, p * 2, p * 4)  # 8 B/param
    assert mixed.activations == pure.activations  # both compute in 16 bits
    fp32 = estimate_training_memory(shape, "full", "float32", 1, 512)
    assert fp32.weights == p * 4 and fp32.notes["working_copy"] == 0
    note = precision_note(shape, "bfloat16", 1, 512)
    assert "mixed precision" in note and "Pure BF16" in note and "18 bytes per parameter" in note \
        and "8 bytes per parameter" in note
    assert precision_note(shape, "float32") == ""
    ests = estimate_all_methods(shape, "bfloat16", 1, 512)
    assert ests["full"].total == mixed.total


def test_bf16_estimate_matches_a_tiny_model_trained_under_autocast():
    """Mixed precision as the app's trainer runs it (FP32 weights, CPU autocast to BF16): exact
    weights / gradients / AdamW bytes, and the total (saved tensors included) within 10%."""
    import torch
    import torch.nn.functional as F

    from tests.core.test_memory import _tiny as tiny_llama

    for method in ("full", "lora"):
        model, shape = tiny_llama(method)
        ids = torch.randint(0, 256, (2, 48), generator=torch.Generator().manual_seed(1))
        params = {p.untyped_storage().data_ptr() for p in model.parameters()}
        saved: dict[int, int] = {}

        def pack(t):
            if t.untyped_storage().data_ptr() not in params:
                saved.setdefault(t.untyped_storage().data_ptr(), t.untyped_storage().nbytes())
            return t

        trainable = [p for p in model.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(trainable, lr=1e-3)
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            with torch.autocast("cpu", dtype=torch.bfloat16):
                logits = model(input_ids=ids).logits
            F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), ids.reshape(-1)).backward()
        opt.step()
        weights = sum(p.numel() * p.element_size() for p in model.parameters())
        grads = sum(p.grad.numel() * p.grad.element_size() for p in trainable)
        states = sum(v.numel() * v.element_size() for st in opt.state.values() for k, v in st.items() if k != "step")
        est = estimate_training_memory(shape, method, "bfloat16", 2, 48, lora_rank=4)
        assert est.weights - est.notes["working_copy"] == weights
        assert (est.gradients, est.optimizer) == (grads, states)
        measured = weights + grads + states + sum(saved.values())
        assert est.total == pytest.approx(measured, rel=0.10), (method, est.total, measured)

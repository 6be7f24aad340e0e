"""The memory estimator: hand-computed numbers, and a tiny model whose memory is measured."""

from __future__ import annotations

import pytest

from playground.core.finetune.memory import (
    ModelShape,
    estimate_all_methods,
    estimate_training_memory,
    format_bytes,
    trainable_parameters,
    weights_by_format,
)

# SmolLM2-135M's published config (the bundled model).
SMOL = dict(vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
            num_attention_heads=9, num_key_value_heads=3, tie_word_embeddings=True)
# embeddings 49,152 x 576 = 28,311,552; per layer q 331,776 + k 110,592 + v 110,592 + o 331,776
# + gate/up/down 3 x 884,736 + two norms 1,152 = 3,540,096, x 30 = 106,202,880; final norm 576.
SMOL_PARAMS = 28_311_552 + 106_202_880 + 576


def smol_shape() -> ModelShape:
    from transformers import LlamaConfig

    return ModelShape.from_config(LlamaConfig(**SMOL), SMOL_PARAMS)


def test_smol_parameter_count_matches_the_real_model():
    assert SMOL_PARAMS == 134_515_008


def test_full_finetuning_equals_the_hand_computation():
    est = estimate_training_memory(smol_shape(), "full", "float32", batch_size=1, seq_len=512)
    assert est.weights == 538_060_032            # 134,515,008 x 4 bytes
    assert est.gradients == 538_060_032          # one float32 gradient per weight
    assert est.optimizer == 1_076_120_064        # AdamW: two float32 states per weight
    # Per token and layer: 8h + 2kv + 4f + heads + 2 = 4,608 + 384 + 6,144 + 11 = 11,147 values;
    # x 30 layers + 3h outside (1,728) = 336,138 values x 512 tokens x 4 bytes = 688,410,624;
    # plus float32 logits: 512 x 49,152 x 4 = 100,663,296.
    assert est.activations == 688_410_624 + 100_663_296
    assert est.total == 538_060_032 * 4 + 789_073_920
    assert est.trainable_share == 1.0


def test_lora_trains_068_percent_of_smollm2():
    shape = smol_shape()
    # per layer: r(576+576) + r(576+192) x 2 + r(576+576) with r = 8 -> 30,720; x 30 layers
    assert trainable_parameters(shape, "lora", lora_rank=8) == 921_600
    est = estimate_training_memory(shape, "lora", "float32", 1, 512, lora_rank=8)
    assert f"{est.trainable_share:.2%}" == "0.68%"
    assert est.gradients == 921_600 * 4 and est.optimizer == 921_600 * 8
    assert est.weights == SMOL_PARAMS * 4 + 921_600 * 4


def test_prompt_tuning_trains_one_vector_per_virtual_token():
    est = estimate_training_memory(smol_shape(), "prompt_tuning", "bfloat16", 1, 256, virtual_tokens=20,
                                   mixed_precision=False)
    assert est.trainable_parameters == 20 * 576
    assert est.weights == SMOL_PARAMS * 2 + 20 * 576 * 4  # pure bf16 base, float32 soft prompt
    assert est.gradients == 20 * 576 * 4


def test_weights_alone_at_each_format():
    sizes = weights_by_format(1_000_000_000)
    assert sizes == {"float32": 4_000_000_000, "float16": 2_000_000_000, "bfloat16": 2_000_000_000,
                     "int8": 1_000_000_000}
    assert format_bytes(4_000_000_000) == "3.73 GiB" and format_bytes(512 * 2**20) == "512 MiB"


def test_methods_order_and_growth():
    shape = smol_shape()
    ests = estimate_all_methods(shape, "float32", 4, 256)
    assert ests["full"].total > ests["lora"].total > ests["prompt_tuning"].weights
    assert ests["full"].gradients > 100 * ests["lora"].gradients
    one = estimate_training_memory(shape, "lora", "float32", 1, 256)
    assert ests["lora"].activations == pytest.approx(4 * one.activations, rel=1e-9)
    ckpt = estimate_training_memory(shape, "full", "float32", 4, 256, gradient_checkpointing=True)
    assert ckpt.activations < ests["full"].activations / 3
    assert ckpt.weights == ests["full"].weights


# --- measured on a tiny model ----------------------------------------------------------------

def _tiny(method: str):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    # A small vocabulary, so the layers (not the logits) dominate what is measured.
    cfg = LlamaConfig(vocab_size=256, hidden_size=64, intermediate_size=160, num_hidden_layers=4,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                      tie_word_embeddings=True, use_cache=False)
    model = LlamaForCausalLM(cfg)
    targets = ["q_proj", "k_proj", "v_proj", "o_proj"]
    shape = ModelShape.from_model(model, targets)
    if method == "lora":
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, lora_dropout=0.1, target_modules=targets,
                                                 task_type="CAUSAL_LM"))
    elif method == "prompt_tuning":
        from peft import PromptTuningConfig, get_peft_model

        model = get_peft_model(model, PromptTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=8))
    elif method == "full":
        model.requires_grad_(True)
    model.train()
    return model, shape


def _measure(model, ids):
    """(saved activation bytes of one forward, then weights / gradients / AdamW state bytes after a step)."""
    import torch
    import torch.nn.functional as F

    from playground.core.finetune.memory_measure import saved_tensor_bytes

    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=1e-3)

    def forward():
        logits = model(input_ids=ids).logits[:, -ids.shape[1]:]
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), ids.reshape(-1))

    activations, loss = saved_tensor_bytes(model, forward)  # every tensor autograd keeps, once per storage
    loss.backward()
    opt.step()
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    grads = sum(p.grad.numel() * p.grad.element_size() for p in trainable)
    states = sum(v.numel() * v.element_size() for st in opt.state.values() for k, v in st.items() if k != "step")
    return activations, weights, grads, states


@pytest.mark.parametrize("method", ["full", "lora", "prompt_tuning"])
def test_estimate_matches_a_measured_tiny_model(method):
    import torch

    model, shape = _tiny(method)
    batch, seq = 2, 48
    ids = torch.randint(0, 256, (batch, seq), generator=torch.Generator().manual_seed(1))
    activations, weights, grads, states = _measure(model, ids)
    est = estimate_training_memory(shape, method, "float32", batch, seq, lora_rank=4, lora_dropout=True,
                                   virtual_tokens=8)
    # Weights, gradients and optimizer states are exact counts.
    assert est.weights == weights
    assert est.gradients == grads
    assert est.optimizer == states
    # Activations are a formula: within 10% of what autograd really keeps.
    assert est.activations == pytest.approx(activations, rel=0.10), (est.activations, activations)

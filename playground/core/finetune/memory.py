"""What training a model costs in memory: weights, gradients, optimizer states and activations.

The course's rule of thumb, "1B parameters = 4 GB at 32-bit", is only the first of four parts.
Training also keeps a gradient for every weight it changes, AdamW keeps two running averages
per trained weight, and the forward pass keeps intermediate results (activations) for the
backward pass. Parameter-efficient methods (LoRA, prompt tuning) shrink the middle two parts to
almost nothing because they train a tiny fraction of the weights.

The estimates here are formulas a learner can follow by hand. The activation term counts the
tensors PyTorch saves for the backward pass of a decoder layer (measured on Llama-style models
with ``torch.autograd.graph.saved_tensors_hooks``, see tests/core/test_memory.py); it is an
estimate for other architectures. LoRA's parameters are counted from the model itself (every layer
peft would adapt, the decoder's cross-attention included), so they equal peft's own count: the
shape and the counts live in ``memory_shape``, re-exported here.

At FP16 / BF16 the estimate follows the app's trainer by default: mixed precision (FP32 weights,
gradients and AdamW states; the forward pass computes in 16 bits with a 16-bit copy of each weight
that autograd keeps for the backward pass). ``mixed_precision=False`` gives pure 16-bit training
(every number in 16 bits), which some trainers do and this app does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.core.finetune.memory_shape import (  # noqa: F401 (re-exported: callers import them from here)
    GATED_MLP_TYPES,
    LinearShape,
    ModelShape,
    ATTENTION_INPUT_NAMES,
    ATTENTION_NAMES,
    ATTENTION_OUTPUT_NAMES,
    MLP_INPUT_NAMES,
    adapted_modules,
    lora_parameters,
    method_facts,
    prompt_parameters,
    trainable_parameters,
)
from playground.core.base.units import format_bytes  # noqa: F401 (one unit system; callers import it from here too)
from playground.core.finetune.methods import METHOD_FACTS

#: Bytes per number in each storage format.
BYTES_PER_VALUE = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}
#: The formats the weights-alone bars show, widest first.
WEIGHT_FORMATS = ("float32", "float16", "bfloat16", "int8")
METHODS = ("full", "lora", "prompt_tuning")  # the explainer's bar order
METHOD_LABELS = {m: METHOD_FACTS[m].label for m in METHODS}
PARTS = ("weights", "gradients", "optimizer", "activations")
PART_LABELS = {"weights": "Weights", "gradients": "Gradients", "optimizer": "Optimizer states (AdamW)",
               "activations": "Activations"}
#: AdamW keeps two numbers per trained weight (running mean and running square of the gradient).
ADAM_STATES = 2
#: peft keeps adapter weights (LoRA matrices, soft prompts) in float32 even on a half-precision
#: model (its ``autocast_adapter_dtype`` default), so their gradients and states are float32 too.
ADAPTER_BYTES = 4
#: The loss is computed on float32 logits whatever the model's format.
LOGIT_BYTES = 4


@dataclass
class MemoryEstimate:
    """Bytes of each part of training memory for one method."""

    method: str
    weights: int
    gradients: int
    optimizer: int
    activations: int
    trainable_parameters: int
    total_parameters: int
    notes: dict = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.weights + self.gradients + self.optimizer + self.activations

    @property
    def trainable_share(self) -> float:
        """Trained parameters as a share of all parameters (base model plus any adapter)."""
        return self.trainable_parameters / max(1, self.total_parameters)

    def parts(self) -> list[tuple[str, int]]:
        return [(p, getattr(self, p)) for p in PARTS]


def weights_bytes(parameters: int, dtype: str) -> int:
    """Memory of the weights alone: parameters x bytes per value (1B at float32 = 4 GB)."""
    return parameters * BYTES_PER_VALUE[dtype]


def weights_by_format(parameters: int) -> dict[str, int]:
    """The weights alone at float32, float16, bfloat16 and int8."""
    return {fmt: weights_bytes(parameters, fmt) for fmt in WEIGHT_FORMATS}


def activation_values_per_token(shape: ModelShape, method: str, lora_rank: int = 8,
                                lora_dropout: bool = True, attention: str | None = None) -> dict[str, float]:
    """Numbers one token keeps for the backward pass, per layer and outside the layers.

    A frozen linear layer does not keep its input (its weight gets no gradient), so LoRA and
    prompt tuning keep less than full fine-tuning, although gradients still flow through every
    layer to reach the adapters or the soft prompt. Counted from the tensors autograd saves in a
    Llama-style layer (tests/core/test_memory_activations.py measures them).

    Parameters
    ----------
    attention
        "sdpa" (fused attention: a softmax statistic per head and token) or "eager" (the whole
        probability matrix, heads x tokens x tokens, per layer); default: the shape's.

    Returns
    -------
    dict
        ``layer``: values per token in one transformer layer; ``pairs``: values per (query, key)
        pair in one layer (eager attention's probabilities, 0 with sdpa); ``first_layer_less``:
        values per token the first layer of a stack does not keep when the embeddings are frozen
        (LoRA: no gradient flows below the first adapter); ``outside``: after the last layer
        (final norm; the logits are counted apart, in float32).
    """
    h, f, kv, a = shape.hidden_size, shape.intermediate_size, shape.kv_size, shape.num_heads
    q = shape.num_heads * shape.head_dim
    eager = (attention or shape.attention) == "eager"
    norms = 2  # the two normalisations' variances (one number per token each)
    mlp_full, mlp_frozen = (4 * f, 3 * f) if shape.gated_mlp else (2 * f, f)
    # sdpa keeps the query, keys, values, its output and a softmax statistic per head; eager keeps the
    # query, the keys and values repeated for every query head, and the probabilities (``pairs``)
    core = 3 * q if eager else 2 * q + 2 * kv + a
    facts = method_facts(method)
    first_less = 0
    if facts.trains_all:
        # norm inputs/outputs, projections' inputs (the attention output among them), the core, MLP
        layer = 4 * h + 2 * h + core + mlp_full + norms + (q if eager else 0)
    else:
        layer = 2 * h + core + mlp_frozen + norms  # the norms' inputs, the core, the frozen MLP
        if facts.adapts_layers:
            layer += adapter_values(shape.lora_layers, lora_rank, lora_dropout, eager)
            # below the first adapter nothing needs a gradient: the first norm keeps nothing, nor do
            # the dropouts of the layers reading the embeddings
            first_less = h + 1 + (sum(lin.in_features for lin in shape.lora_layers
                                      if lin.name in ATTENTION_INPUT_NAMES) if lora_dropout else 0)
    return {"layer": float(layer), "pairs": float(a if eager else 0), "first_layer_less": float(first_less),
            "outside": float(3 * h)}


def adapter_values(layers, rank: int, dropout: bool, eager: bool = False) -> int:
    """Values per token the LoRA branches of one layer keep: each branch keeps its rank-sized middle
    and its input; with dropout, its own dropped-out copy of the input and the dropout mask.

    Without dropout, branches reading the same tensor (query / key / value; gate / up) keep it
    once, and sdpa already keeps the attention output that the output projection reads.
    """
    if dropout:
        return sum(2 * lin.in_features + rank for lin in layers)
    inputs: dict[str, int] = {}
    for lin in layers:
        if lin.name in ATTENTION_INPUT_NAMES:
            inputs["attention input"] = lin.in_features
        elif lin.name in ATTENTION_OUTPUT_NAMES:
            inputs["attention output"] = lin.in_features if eager else 0
        elif lin.name in MLP_INPUT_NAMES:
            inputs["mlp input"] = lin.in_features
        else:
            inputs[lin.name] = lin.in_features
    return rank * len(layers) + sum(inputs.values())


def estimate_training_memory(shape: ModelShape, method: str, dtype: str = "float32", batch_size: int = 1,
                             seq_len: int = 512, *, lora_rank: int = 8, lora_dropout: bool = True,
                             virtual_tokens: int = 20, gradient_checkpointing: bool = False,
                             loss_tokens: int | None = None, target_len: int | None = None,
                             mixed_precision: bool = True, attention: str | None = None) -> MemoryEstimate:
    """Memory to train ``shape`` with one method, part by part.

    Parameters
    ----------
    shape
        The model's sizes (``ModelShape.from_model`` or ``from_config``).
    method
        ``full``, ``lora`` or ``prompt_tuning``.
    dtype
        The training format (float32, float16 or bfloat16); activations take it.
    mixed_precision
        At float16 / bfloat16: True (the app's trainer) keeps FP32 weights, gradients and AdamW
        states and computes in 16 bits, with a 16-bit copy of the weights kept for the backward
        pass (full fine-tuning: 4 + 2 + 4 + 8 = 18 bytes per parameter); False is pure 16-bit
        training, every number in 16 bits (full: 2 + 2 + 4 = 8 bytes per parameter).
    batch_size, seq_len
        Examples per forward pass and tokens per example (padded length).
    lora_rank, lora_dropout
        LoRA's rank and whether it uses dropout (dropout keeps a mask and a copy of each input).
    virtual_tokens
        Prompt tuning's soft-prompt length; it makes every sequence that much longer.
    gradient_checkpointing
        Keep only each layer's input and recompute the rest during the backward pass.
    loss_tokens
        Positions per example whose logits are computed (default: all ``seq_len``); a loss on
        the completion only can skip the prompt's logits.
    target_len
        Encoder-decoder models: tokens per target (default ``seq_len // 4``).
    attention
        "sdpa" or "eager" (which keeps each layer's heads x tokens x tokens probabilities); default:
        what the model uses (``ModelShape.attention``).

    Returns
    -------
    MemoryEstimate
        Bytes for weights, gradients, optimizer states and activations.
    """
    facts = method_facts(method)
    wb = BYTES_PER_VALUE[dtype]  # what activations (and, pure 16-bit, everything) take
    mixed = mixed_precision and wb < BYTES_PER_VALUE["float32"]
    stored = BYTES_PER_VALUE["float32"] if mixed else wb  # the weights as kept between steps
    trainable = trainable_parameters(shape, method, lora_rank, virtual_tokens)
    adapter = 0 if facts.trains_all else trainable
    weights = shape.parameters * stored + adapter * ADAPTER_BYTES
    working_copy = 0
    if mixed:
        # autocast casts each weight to 16 bits for its matrix product, and autograd keeps that copy
        # for the backward pass (measured: ~2 bytes per parameter, frozen weights included); with
        # gradient checkpointing only about one layer's copies live at a time.
        share = 1.0 / max(1, shape.num_layers + shape.num_decoder_layers) if gradient_checkpointing else 1.0
        working_copy = int(shape.parameters * share) * wb
        weights += working_copy
    trained_bytes = stored if facts.trains_all else ADAPTER_BYTES
    gradients = trainable * trained_bytes
    optimizer = ADAM_STATES * trainable * trained_bytes

    per = activation_values_per_token(shape, method, lora_rank, lora_dropout, attention)
    extra = virtual_tokens if facts.soft_prompt else 0
    pairs, first_less = per["pairs"], per["first_layer_less"]
    if shape.encoder_decoder:
        tgt = target_len if target_len is not None else max(1, seq_len // 4)
        enc_tokens, dec_tokens = seq_len + extra, tgt + extra
        # a decoder layer also attends to the encoder: one more attention block's worth
        dec_layer = per["layer"] + 4 * shape.hidden_size + 2 * shape.kv_size
        if facts.adapts_layers:  # LoRA adapts the same names in the cross-attention
            dec_layer += adapter_values([lin for lin in shape.lora_layers if lin.name in ATTENTION_NAMES], lora_rank,
                                        lora_dropout, pairs > 0)
        # (values of one layer, its tokens, values for all its query-key pairs)
        layer_values = [(per["layer"], enc_tokens, pairs * enc_tokens ** 2)] * shape.num_layers + \
                       [(dec_layer, dec_tokens, pairs * dec_tokens * (dec_tokens + enc_tokens))] * \
                       max(shape.num_decoder_layers, 0)
        stacks = [enc_tokens] + ([dec_tokens] if shape.num_decoder_layers > 0 else [])
        logit_positions = loss_tokens if loss_tokens is not None else tgt
        out_tokens = dec_tokens
    else:
        tokens = seq_len + extra
        layer_values = [(per["layer"], tokens, pairs * tokens ** 2)] * shape.num_layers
        stacks = [tokens]
        logit_positions = loss_tokens if loss_tokens is not None else seq_len
        out_tokens = tokens
    if gradient_checkpointing:
        # each layer keeps its input; the backward pass rebuilds one layer's activations at a time
        kept = sum(shape.hidden_size * t for _, t, _ in layer_values)
        kept += max(v * t + p for v, t, p in layer_values) if layer_values else 0
    else:
        kept = sum(v * t + p for v, t, p in layer_values) - first_less * sum(stacks)
    values = kept + per["outside"] * out_tokens
    activations = int(batch_size * (values * wb + logit_positions * shape.vocab_size * LOGIT_BYTES))
    return MemoryEstimate(method, weights, gradients, optimizer, activations, trainable,
                          shape.parameters + adapter,
                          {"dtype": dtype, "batch_size": batch_size, "seq_len": seq_len,
                           "gradient_checkpointing": gradient_checkpointing, "mixed_precision": mixed,
                           "working_copy": working_copy})


def estimate_all_methods(shape: ModelShape, dtype: str = "float32", batch_size: int = 1, seq_len: int = 512,
                         **kwargs) -> dict[str, MemoryEstimate]:
    """``estimate_training_memory`` for full fine-tuning, LoRA and prompt tuning, side by side."""
    return {m: estimate_training_memory(shape, m, dtype, batch_size, seq_len, **kwargs) for m in METHODS}


def precision_note(shape: ModelShape, dtype: str, batch_size: int = 1, seq_len: int = 512, **kwargs) -> str:
    """At FP16 / BF16: one sentence on what the app's trainer keeps (mixed precision) and the
    pure 16-bit line beside it ('' at FP32)."""
    if BYTES_PER_VALUE[dtype] >= BYTES_PER_VALUE["float32"]:
        return ""
    kwargs.pop("mixed_precision", None)
    mixed = estimate_training_memory(shape, "full", dtype, batch_size, seq_len, mixed_precision=True, **kwargs)
    pure = estimate_training_memory(shape, "full", dtype, batch_size, seq_len, mixed_precision=False, **kwargs)
    p = max(1, shape.parameters)
    label = {"float16": "FP16", "bfloat16": "BF16"}.get(dtype, dtype)
    per = (mixed.weights + mixed.gradients + mixed.optimizer) / p
    per_pure = (pure.weights + pure.gradients + pure.optimizer) / p
    return (f"At {label} the app's trainer uses mixed precision: FP32 weights, gradients and AdamW states, "
            f"16-bit computation with a 16-bit copy of the weights kept for the backward pass: full "
            f"fine-tuning needs {format_bytes(mixed.total)} (about {per:.0f} bytes per parameter before "
            f"activations). Pure {label} training (every number in 16 bits, as some trainers do; this app "
            f"does not) would need {format_bytes(pure.total)} (about {per_pure:.0f} bytes per parameter).")

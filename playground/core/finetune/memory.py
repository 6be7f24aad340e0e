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
peft would adapt, the decoder's cross-attention included), so they equal peft's own count.

At FP16 / BF16 the estimate follows the app's trainer by default: mixed precision (FP32 weights,
gradients and AdamW states; the forward pass computes in 16 bits with a 16-bit copy of each weight
that autograd keeps for the backward pass). ``mixed_precision=False`` gives pure 16-bit training
(every number in 16 bits), which some trainers do and this app does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
#: Model families whose feed-forward block is gated (three matrices: gate, up, down).
GATED_MLP_TYPES = ("llama", "mistral", "mixtral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3", "phi3",
                   "olmo", "olmo2", "granite", "smollm3", "cohere")


@dataclass(frozen=True)
class LinearShape:
    """One linear layer LoRA adapts: its name, input and output sizes."""

    name: str
    in_features: int
    out_features: int


@dataclass(frozen=True)
class ModelShape:
    """The sizes of a model that decide its memory.

    ``lora_layers`` lists, for ONE transformer layer, the linear layers LoRA would adapt; every
    layer of the model is assumed to hold the same ones.
    """

    parameters: int
    num_layers: int
    hidden_size: int
    intermediate_size: int
    num_heads: int
    num_kv_heads: int
    vocab_size: int
    gated_mlp: bool = True
    encoder_decoder: bool = False
    num_decoder_layers: int = 0
    lora_layers: tuple[LinearShape, ...] = ()
    #: Sum of in + out features over EVERY module LoRA adapts in the model (counted from the model:
    #: an encoder-decoder's cross-attention too); 0 when unknown (then per layer x layers).
    lora_in_out: int = 0
    #: How many modules that is.
    lora_modules: int = 0

    @property
    def head_dim(self) -> int:
        return self.hidden_size // max(1, self.num_heads)

    @property
    def kv_size(self) -> int:
        """Width of the keys (and of the values): fewer heads than the queries with grouped-query attention."""
        return self.num_kv_heads * self.head_dim

    @staticmethod
    def from_config(config, parameters: int, lora_targets: tuple[str, ...] = ("q_proj", "k_proj", "v_proj",
                                                                             "o_proj")) -> "ModelShape":
        """Shape of a Llama-style model from its transformers config (no weights needed).

        Parameters
        ----------
        config
            A transformers config with ``hidden_size``, ``num_hidden_layers`` ...
        parameters
            The model's parameter count (tied embeddings counted once).
        lora_targets
            Which of q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj LoRA adapts.
        """
        cfg = config.get_text_config() if hasattr(config, "get_text_config") else config
        h = int(_first(cfg, "hidden_size", "d_model", "n_embd"))
        heads = int(_first(cfg, "num_attention_heads", "num_heads", "n_head"))
        kv_heads = int(_first(cfg, "num_key_value_heads", default=heads))
        f = int(_first(cfg, "intermediate_size", "d_ff", "n_inner", default=4 * h))
        head_dim = int(getattr(cfg, "head_dim", None) or h // heads)
        q, kv = heads * head_dim, kv_heads * head_dim
        sizes = {"q_proj": (h, q), "k_proj": (h, kv), "v_proj": (h, kv), "o_proj": (q, h),
                 "gate_proj": (h, f), "up_proj": (h, f), "down_proj": (f, h)}
        lora = tuple(LinearShape(n, *sizes[n]) for n in lora_targets if n in sizes)
        enc_dec = bool(getattr(cfg, "is_encoder_decoder", False))
        shape = ModelShape(
            parameters=int(parameters), num_layers=int(_first(cfg, "num_hidden_layers", "num_layers", "n_layer")),
            hidden_size=h, intermediate_size=f, num_heads=heads, num_kv_heads=kv_heads,
            vocab_size=int(cfg.vocab_size), gated_mlp=_is_gated(cfg), encoder_decoder=enc_dec,
            num_decoder_layers=int(_first(cfg, "num_decoder_layers", "decoder_layers", default=-1)) if enc_dec else 0,
            lora_layers=lora)
        if shape.num_decoder_layers < 0:
            shape = _replace(shape, num_decoder_layers=shape.num_layers)
        meta = _meta_model(config) if lora_targets else None
        if meta is not None:
            found = adapted_modules(meta, lora_targets)
            shape = _replace(shape, lora_in_out=sum(i + o for _, i, o in found), lora_modules=len(found))
        return shape

    @staticmethod
    def from_model(model, lora_targets: list[str] | tuple[str, ...] = ()) -> "ModelShape":
        """Shape of a loaded model; LoRA layer sizes are read from its linear layers of those names."""
        import torch

        params = sum(p.numel() for p in model.parameters())  # parameters() yields tied tensors once
        base = model.get_base_model() if hasattr(model, "get_base_model") else model
        shape = ModelShape.from_config(base.config, params, ())
        found: dict[str, LinearShape] = {}
        adapted = adapted_modules(base, lora_targets)
        for full_name, i, o in adapted:
            leaf = full_name.rsplit(".", 1)[-1]
            found.setdefault(leaf, LinearShape(leaf, i, o))
        gated = any(n.endswith(("gate_proj", "wi_0", "w1")) for n, _ in base.named_modules()) or shape.gated_mlp
        return _replace(shape, lora_layers=tuple(found[n] for n in lora_targets if n in found), gated_mlp=gated,
                        lora_in_out=sum(i + o for _, i, o in adapted), lora_modules=len(adapted))


def _io(module) -> tuple[int, int] | None:
    """(in, out) sizes of a layer LoRA can adapt (a peft-wrapped one: of its base layer), else None."""
    import torch

    base = getattr(module, "base_layer", module)
    if isinstance(base, torch.nn.Linear):
        return base.in_features, base.out_features
    if isinstance(base, torch.nn.Embedding):
        return base.num_embeddings, base.embedding_dim
    if type(base).__name__ == "Conv1D" and getattr(base, "weight", None) is not None:
        return tuple(base.weight.shape)  # GPT-2's Conv1D keeps (in, out)
    return None


def adapted_modules(model, targets) -> list[tuple[str, int, int]]:
    """(name, in, out) of every module LoRA adapts for these target names, as peft matches them.

    peft adapts each module whose name is a target or ends with "." + a target, wherever it sits:
    in an encoder-decoder that includes the decoder's cross-attention (T5's EncDecAttention, BART's
    encoder_attn), which a per-layer count misses.
    """
    targets = tuple(targets or ())
    if not targets:
        return []
    out = []
    for name, module in model.named_modules():
        if not name or not any(name == t or name.endswith("." + t) for t in targets):
            continue
        io = _io(module)
        if io is not None:
            out.append((name, int(io[0]), int(io[1])))
    return out


def _meta_model(config):
    """The model of ``config`` on the meta device (shapes only, no memory), or None if transformers
    cannot build it."""
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

        auto = AutoModelForSeq2SeqLM if getattr(config, "is_encoder_decoder", False) else AutoModelForCausalLM
        with torch.device("meta"):
            return auto.from_config(config)
    except Exception:  # an architecture transformers does not know: the per-layer formula stands
        return None


#: Attention projections' names (a decoder's cross-attention has them too).
_ATTENTION_NAMES = ("q", "k", "v", "o", "q_proj", "k_proj", "v_proj", "o_proj", "out_proj")


def _replace(shape: ModelShape, **kw) -> ModelShape:
    from dataclasses import replace

    return replace(shape, **kw)


def _first(cfg, *names: str, default=None):
    for name in names:
        value = getattr(cfg, name, None)
        if value:
            return value
    if default is None:
        raise ValueError(f"the model config has none of {', '.join(names)}")
    return default


def _is_gated(cfg) -> bool:
    ff = str(getattr(cfg, "feed_forward_proj", "") or "")
    return getattr(cfg, "model_type", "") in GATED_MLP_TYPES or ff.startswith("gated")


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


def lora_parameters(shape: ModelShape, rank: int) -> int:
    """Parameters LoRA adds: per adapted module an A (rank x in) and a B (out x rank) matrix.

    Counted over every module of the model that LoRA adapts (``ModelShape.lora_in_out``), which is
    peft's own count; a shape without that count assumes the same layers in every block.
    """
    if shape.lora_modules:
        return rank * shape.lora_in_out
    per_layer = sum(rank * (lin.in_features + lin.out_features) for lin in shape.lora_layers)
    return per_layer * (shape.num_layers + shape.num_decoder_layers)


def prompt_parameters(shape: ModelShape, virtual_tokens: int) -> int:
    """Parameters of a soft prompt: one embedding vector per virtual token (per stack for encoder-decoders)."""
    stacks = 2 if shape.encoder_decoder else 1  # peft gives the encoder and the decoder their own prompt
    return virtual_tokens * shape.hidden_size * stacks


def trainable_parameters(shape: ModelShape, method: str, lora_rank: int = 8, virtual_tokens: int = 20) -> int:
    """How many parameters a method trains (full fine-tuning: all of them)."""
    facts = _facts(method)
    if facts.trains_all:
        return shape.parameters
    if facts.soft_prompt:
        return prompt_parameters(shape, virtual_tokens)
    return lora_parameters(shape, lora_rank)


def _facts(method: str):
    if method not in METHOD_FACTS:
        raise ValueError(f"unknown method {method!r}")
    return METHOD_FACTS[method]


def weights_bytes(parameters: int, dtype: str) -> int:
    """Memory of the weights alone: parameters x bytes per value (1B at float32 = 4 GB)."""
    return parameters * BYTES_PER_VALUE[dtype]


def weights_by_format(parameters: int) -> dict[str, int]:
    """The weights alone at float32, float16, bfloat16 and int8."""
    return {fmt: weights_bytes(parameters, fmt) for fmt in WEIGHT_FORMATS}


def activation_values_per_token(shape: ModelShape, method: str, lora_rank: int = 8,
                                lora_dropout: bool = True) -> dict[str, float]:
    """Numbers one token keeps for the backward pass, per layer and outside the layers.

    A frozen linear layer does not keep its input (its weight gets no gradient), so LoRA and
    prompt tuning keep less than full fine-tuning, although gradients still flow through every
    layer to reach the adapters or the soft prompt.

    Returns
    -------
    dict
        ``layer``: values per token in one transformer layer; ``outside``: after the last layer
        (final norm; the logits are counted apart, in float32).
    """
    h, f, kv, a = shape.hidden_size, shape.intermediate_size, shape.kv_size, shape.num_heads
    # attention: softmax statistics per head and the two normalisations' variances
    common = a + 2
    mlp_full, mlp_frozen = (4 * f, 3 * f) if shape.gated_mlp else (2 * f, f)
    facts = _facts(method)
    if facts.trains_all:
        # norm inputs/outputs, q, attention output, projections' inputs, k, v, MLP
        layer = 8 * h + 2 * kv + mlp_full + common
    else:
        layer = 4 * h + 2 * kv + mlp_frozen + common
        if facts.adapts_layers:
            # each adapted layer keeps its (dropped-out) input and dropout mask, and the rank-sized middle
            layer += sum((2 if lora_dropout else 1) * lin.in_features + lora_rank for lin in shape.lora_layers)
    return {"layer": float(layer), "outside": float(3 * h)}


def estimate_training_memory(shape: ModelShape, method: str, dtype: str = "float32", batch_size: int = 1,
                             seq_len: int = 512, *, lora_rank: int = 8, lora_dropout: bool = True,
                             virtual_tokens: int = 20, gradient_checkpointing: bool = False,
                             loss_tokens: int | None = None, target_len: int | None = None,
                             mixed_precision: bool = True) -> MemoryEstimate:
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

    Returns
    -------
    MemoryEstimate
        Bytes for weights, gradients, optimizer states and activations.
    """
    facts = _facts(method)
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

    per = activation_values_per_token(shape, method, lora_rank, lora_dropout)
    extra = virtual_tokens if facts.soft_prompt else 0
    if shape.encoder_decoder:
        tgt = target_len if target_len is not None else max(1, seq_len // 4)
        enc_tokens, dec_tokens = seq_len + extra, tgt + extra
        # a decoder layer also attends to the encoder: one more attention block's worth
        dec_layer = per["layer"] + 4 * shape.hidden_size + 2 * shape.kv_size
        if facts.adapts_layers:  # LoRA adapts the same names in the cross-attention
            dec_layer += sum((2 if lora_dropout else 1) * lin.in_features + lora_rank for lin in shape.lora_layers
                             if lin.name in _ATTENTION_NAMES)
        layer_values = [(per["layer"], enc_tokens)] * shape.num_layers + \
                       [(dec_layer, dec_tokens)] * max(shape.num_decoder_layers, 0)
        logit_positions = loss_tokens if loss_tokens is not None else tgt
        out_tokens = dec_tokens
    else:
        tokens = seq_len + extra
        layer_values = [(per["layer"], tokens)] * shape.num_layers
        logit_positions = loss_tokens if loss_tokens is not None else seq_len
        out_tokens = tokens
    if gradient_checkpointing:
        # each layer keeps its input; the backward pass rebuilds one layer's activations at a time
        kept = sum(shape.hidden_size * t for _, t in layer_values)
        kept += max(v * t for v, t in layer_values) if layer_values else 0
    else:
        kept = sum(v * t for v, t in layer_values)
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


def format_bytes(n: float) -> str:
    """Bytes in the unit a person reads best: 512 MB, 1.3 GB (powers of 1024, as memory is sold)."""
    for unit, size in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if abs(n) >= size:
            value = n / size
            return f"{value:.1f} {unit}" if value < 10 else f"{value:,.0f} {unit}"
    return f"{int(n)} B"

"""A model's sizes as the memory estimate needs them, and the parameters each method trains.

``ModelShape`` holds the sizes that decide training memory (layers, widths, heads, vocabulary) and
the modules LoRA adapts, counted from the model itself (every layer peft would adapt, an
encoder-decoder's cross-attention included), so LoRA's count equals peft's own.
``playground.core.finetune.memory`` turns a shape into bytes, part by part.
"""

from __future__ import annotations

from dataclasses import dataclass

from playground.core.finetune.methods import METHOD_FACTS

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
    #: "sdpa" (fused attention: keeps a softmax statistic per head and token) or "eager" (keeps the
    #: whole heads x tokens x tokens probability matrix for the backward pass).
    attention: str = "sdpa"

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
            lora_layers=lora, attention=attention_kind(config))
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
ATTENTION_NAMES = ("q", "k", "v", "o", "q_proj", "k_proj", "v_proj", "o_proj", "out_proj")
#: Layers that read a block's normalised input: the query / key / value projections read the same
#: tensor, as do a gated MLP's gate and up projections (LoRA without dropout keeps that input once).
ATTENTION_INPUT_NAMES = ("q", "k", "v", "q_proj", "k_proj", "v_proj", "query", "key", "value", "qkv_proj",
                         "c_attn", "Wqkv", "query_key_value")
ATTENTION_OUTPUT_NAMES = ("o", "o_proj", "out_proj")
MLP_INPUT_NAMES = ("gate_proj", "up_proj", "wi", "wi_0", "wi_1", "fc1", "c_fc", "w1", "w3", "fc_in",
                   "dense_h_to_4h")


def attention_kind(config) -> str:
    """"eager" when the model computes attention as plain matrix products (it then keeps the
    probabilities for the backward pass), else "sdpa" (PyTorch's fused attention, transformers'
    default; flash attention keeps the same)."""
    cfg = config.get_text_config() if hasattr(config, "get_text_config") else config
    return "eager" if getattr(cfg, "_attn_implementation", None) == "eager" else "sdpa"


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
    facts = method_facts(method)
    if facts.trains_all:
        return shape.parameters
    if facts.soft_prompt:
        return prompt_parameters(shape, virtual_tokens)
    return lora_parameters(shape, lora_rank)


def method_facts(method: str):
    if method not in METHOD_FACTS:
        raise ValueError(f"unknown method {method!r}")
    return METHOD_FACTS[method]


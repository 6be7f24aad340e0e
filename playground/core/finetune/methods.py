"""The three ways to fine-tune: LoRA, full fine-tuning and prompt tuning (soft prompts).

Each turns a plain transformers model into the model that is trained, and says how many of its
parameters learn. LoRA and prompt tuning go through peft, so what is saved is a standard peft
adapter (adapter_config.json + adapter_model.safetensors).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from playground.core.base.errors import InputError


@dataclass(frozen=True)
class MethodFacts:
    """What the rest of the app needs to know about one method, in one place (no branches on its name)."""

    name: str             # the job file's method.name
    label: str            # how the app names it
    learning_rate: float  # "auto": a rate that works for it on small models (AdamW)
    artifact: str         # what it saves, and the run folder's subfolder: "adapter" or "model"
    trains_all: bool      # every weight learns (no adapter: a whole model is saved)
    soft_prompt: bool     # a soft prompt the base model reads (no weight of the model changes)
    share_format: str     # how its trainable share is written (a tiny share needs more digits)
    adapts_layers: bool   # it adds weights beside chosen layers (LoRA's target_modules)
    tip: str              # one or two sentences for a tooltip


#: The per-method facts, in the order the wizard offers them.
METHOD_FACTS = {f.name: f for f in (
    MethodFacts("lora", "LoRA", 3e-4, "adapter", False, False, ".2%", True,
                "LoRA: two small matrices A (rank × in) and B (out × rank) beside each adapted layer; the layer "
                "computes W·x + (alpha/rank)·B·A·x. Only A and B learn."),
    MethodFacts("prompt_tuning", "Prompt tuning", 3e-2, "adapter", False, True, ".4%", False,
                "Prompt tuning: a few learned vectors (virtual tokens) are put before every prompt. The model "
                "itself does not change."),
    MethodFacts("full", "Full fine-tuning", 3e-5, "model", True, False, ".0%", False,
                "Full fine-tuning: every weight learns. Needs about four times the weights' memory plus "
                "activations."),
)}

#: Attention projections to adapt, per architecture (model_type). All four projections of
#: attention adapt better than peft's default of q and v alone, for little extra cost.
LORA_TARGETS = {
    "llama": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "mistral": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "qwen2": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "qwen3": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "gemma": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "gemma2": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "phi3": ["qkv_proj", "o_proj"],
    "gpt2": ["c_attn", "c_proj"],
    "gpt_neox": ["query_key_value", "dense"],
    "opt": ["q_proj", "k_proj", "v_proj", "out_proj"],
    "bart": ["q_proj", "k_proj", "v_proj", "out_proj"],
    "t5": ["q", "k", "v", "o"],
    "mt5": ["q", "k", "v", "o"],
}
_SKIP = ("lm_head", "embed", "wte", "wpe", "shared")


@dataclass
class MethodInfo:
    method: str
    trainable: int
    total: int
    target_modules: list = field(default_factory=list)
    details: dict = field(default_factory=dict)

    @property
    def share(self) -> float:
        return self.trainable / max(1, self.total)


def _linear_leaf_names(model) -> list[str]:
    import torch

    names = set()
    for full, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) or type(module).__name__ == "Conv1D":
            leaf = full.rsplit(".", 1)[-1]
            if not any(s in full for s in _SKIP):
                names.add(leaf)
    return sorted(names)


def detect_lora_targets(model) -> list[str]:
    """Names of the modules LoRA should adapt in this model.

    Known architectures use the table above; others fall back to peft's own table, and then to
    every linear layer except the output head and embeddings.
    """
    present = set(_linear_leaf_names(model))
    model_type = getattr(model.config, "model_type", "")
    candidates = LORA_TARGETS.get(model_type)
    if candidates is None:
        from peft.utils import (
            TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING as peft_table,
        )

        candidates = list(peft_table.get(model_type, []))
    found = [n for n in candidates if n in present]
    return found or sorted(present)


def count_parameters(model) -> tuple[int, int]:
    """(trainable, total) parameters, counting shared (tied) tensors once."""
    seen, trainable, total = set(), 0, 0
    for p in model.parameters():
        if id(p) in seen:
            continue
        seen.add(id(p))
        total += p.numel()
        if p.requires_grad:
            trainable += p.numel()
    return trainable, total


def apply_method(model, cfg, model_folder: str = "", encoder_decoder: bool = False):
    """Prepare ``model`` for training with the configured method (``cfg``: the job's FinetuneConfig,
    which imports this module's facts, so it is not imported back here).

    Returns
    -------
    (model, MethodInfo)
        The model to train (a peft model for LoRA and prompt tuning) and what it trains.
    """
    if cfg.training.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if hasattr(model.config, "use_cache"):
        model.config.use_cache = False  # no KV cache while training: it only costs memory
    task = "SEQ_2_SEQ_LM" if encoder_decoder else "CAUSAL_LM"
    return _APPLY[cfg.method.name](model, cfg, task, model_folder)


def _apply_full(model, cfg, task, model_folder):
    for p in model.parameters():
        p.requires_grad_(True)
    trainable, total = count_parameters(model)
    return model, MethodInfo("full", trainable, total, details={"note": "every weight learns"})


def _apply_lora(model, cfg, task, model_folder):
    from peft import get_peft_model

    from playground.core.finetune.lora import lora_config

    lc = cfg.method.lora
    targets = lc.target_modules
    if targets == "auto" or not targets:
        targets = detect_lora_targets(model)
    elif isinstance(targets, str):
        targets = [t.strip() for t in targets.split(",") if t.strip()]
    present = set(_linear_leaf_names(model))
    unknown = [t for t in targets if t not in present]
    if unknown:
        raise InputError(f"This model has no layer called {', '.join(map(repr, unknown))} to adapt with LoRA.",
                         f"Its linear layers are: {', '.join(sorted(present))}. Or use target_modules = \"auto\".")
    model = get_peft_model(model, lora_config(rank=lc.rank, alpha=lc.alpha, dropout=lc.dropout,
                                              target_modules=list(targets), task_type=task))
    trainable, total = model.get_nb_trainable_parameters()
    n_modules = sum(1 for n, _ in model.named_modules() if n.endswith(".lora_A"))
    return model, MethodInfo("lora", trainable, total, list(targets),
                             {"rank": lc.rank, "alpha": lc.alpha, "dropout": lc.dropout, "adapted_layers": n_modules})


def _apply_prompt_tuning(model, cfg, task, model_folder):
    from peft import PromptTuningConfig, get_peft_model

    pt = cfg.method.prompt_tuning
    kwargs = {"task_type": task, "num_virtual_tokens": pt.virtual_tokens}
    if pt.init == "text" and model_folder and Path(model_folder).is_dir():
        kwargs.update(prompt_tuning_init="TEXT", prompt_tuning_init_text=pt.init_text,
                      tokenizer_name_or_path=str(model_folder))
    else:
        kwargs.update(prompt_tuning_init="RANDOM")
    model = get_peft_model(model, PromptTuningConfig(**kwargs))
    trainable, total = model.get_nb_trainable_parameters()
    return model, MethodInfo("prompt_tuning", trainable, total, [],
                             {"virtual_tokens": pt.virtual_tokens, "init": kwargs["prompt_tuning_init"].lower()})


_APPLY = {"full": _apply_full, "lora": _apply_lora, "prompt_tuning": _apply_prompt_tuning}


def num_virtual_tokens(model) -> int:
    """Soft-prompt length a peft prompt-tuning model puts before the input (0 otherwise)."""
    cfg = getattr(model, "active_peft_config", None)
    if cfg is not None and getattr(cfg, "is_prompt_learning", False):
        return int(cfg.num_virtual_tokens)
    return 0


def save_trained(model, tokenizer, folder: Path, method: str) -> None:
    """Write the trained weights to ``folder``: a peft adapter, or the full model with its tokenizer."""
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(folder), safe_serialization=True)
    if METHOD_FACTS[method].trains_all:  # a whole model: it loads on its own, tokenizer included
        tokenizer.save_pretrained(str(folder))


def load_trained_weights(model, folder: Path, method: str) -> None:
    """Put the weights saved by ``save_trained`` back into a model built the same way."""
    from safetensors.torch import load_file

    if METHOD_FACTS[method].trains_all:
        state = {}
        for f in sorted(folder.glob("*.safetensors")):
            state.update(load_file(str(f)))
        missing, unexpected = model.load_state_dict(state, strict=False)
        tied = {k for k in missing if "lm_head" in k or "embed" in k}
        if unexpected or set(missing) - tied:
            raise InputError(f"The checkpoint in {folder} does not match this model.",
                             "Resume with the job file the run was started with.")
        return
    from peft.utils import set_peft_model_state_dict

    result = set_peft_model_state_dict(model, load_file(str(folder / "adapter_model.safetensors")))
    if getattr(result, "unexpected_keys", None):
        raise InputError(f"The adapter in {folder} does not match this model.",
                         "Resume with the job file the run was started with.")

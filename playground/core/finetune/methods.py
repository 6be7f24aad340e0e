"""The three ways to fine-tune: LoRA, full fine-tuning and prompt tuning (soft prompts).

Each turns a plain transformers model into the model that is trained, and says how many of its
parameters learn. LoRA and prompt tuning go through peft, so what is saved is a standard peft
adapter (adapter_config.json + adapter_model.safetensors).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from playground.core.errors import InputError
from playground.core.finetune.config import FinetuneConfig

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


def apply_method(model, cfg: FinetuneConfig, model_folder: str = "", encoder_decoder: bool = False):
    """Prepare ``model`` for training with the configured method.

    Returns
    -------
    (model, MethodInfo)
        The model to train (a peft model for LoRA and prompt tuning) and what it trains.
    """
    method = cfg.method.name
    if cfg.training.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if hasattr(model.config, "use_cache"):
        model.config.use_cache = False  # no KV cache while training: it only costs memory
    task = "SEQ_2_SEQ_LM" if encoder_decoder else "CAUSAL_LM"
    if method == "full":
        for p in model.parameters():
            p.requires_grad_(True)
        trainable, total = count_parameters(model)
        return model, MethodInfo("full", trainable, total, details={"note": "every weight learns"})
    from peft import LoraConfig, PromptTuningConfig, get_peft_model

    if method == "lora":
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
        peft_cfg = LoraConfig(task_type=task, r=lc.rank, lora_alpha=lc.alpha, lora_dropout=lc.dropout,
                              target_modules=list(targets), bias="none")
        model = get_peft_model(model, peft_cfg)
        trainable, total = model.get_nb_trainable_parameters()
        n_modules = sum(1 for n, _ in model.named_modules() if n.endswith(".lora_A"))
        return model, MethodInfo("lora", trainable, total, list(targets),
                                 {"rank": lc.rank, "alpha": lc.alpha, "dropout": lc.dropout,
                                  "adapted_layers": n_modules})
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


def num_virtual_tokens(model) -> int:
    """Soft-prompt length a peft prompt-tuning model puts before the input (0 otherwise)."""
    cfg = getattr(model, "active_peft_config", None)
    if cfg is not None and getattr(cfg, "is_prompt_learning", False):
        return int(cfg.num_virtual_tokens)
    return 0


def save_trained(model, tokenizer, folder: Path, method: str) -> None:
    """Write the trained weights to ``folder``: a peft adapter, or the full model with its tokenizer."""
    folder.mkdir(parents=True, exist_ok=True)
    if method == "full":
        model.save_pretrained(str(folder), safe_serialization=True)
        tokenizer.save_pretrained(str(folder))
    else:
        model.save_pretrained(str(folder), safe_serialization=True)


def load_trained_weights(model, folder: Path, method: str) -> None:
    """Put the weights saved by ``save_trained`` back into a model built the same way."""
    from safetensors.torch import load_file

    if method == "full":
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

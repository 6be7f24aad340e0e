"""An align run's precision (issue 35): float32, or BF16 where the device multiplies BF16 natively.

At BF16 the completions (and the monitor's greedy summaries) are sampled from a BF16 copy of the
policy, and the log-probability passes and the backward run under BF16 autocast; the policy's own
weights, its LoRA and AdamW stay FP32 (``RunPrecision``). Sampling is two thirds of a GRPO step on
the CPU, and decoding a group at BF16 takes about half the FP32 time there (bench/align.py).
"""

from __future__ import annotations

from playground.core.base.errors import InputError


def align_precision(precision: str, device: str) -> str:
    """The precision an align run uses: model.precision's "auto" is BF16 where the device multiplies BF16
    natively (as fine-tuning's), else FP32 ("no"). FP16 is refused (its gradients would need loss
    scaling)."""
    from playground.core.finetune.mixed import resolve_precision

    if precision == "fp16":
        raise InputError("Align runs at float32 or bf16, not fp16.",
                         'Set model.precision to "auto", "no" (float32) or "bf16".')
    resolved = resolve_precision(precision, device)
    return "no" if resolved == "fp16" else resolved


def precision_note(chosen: str, device: str = "cpu") -> str:
    """What a run at ``chosen`` does here, in a sentence ("auto" resolved for this machine)."""
    try:
        resolved = align_precision(chosen, device)
    except InputError:  # refused at Start, in plain words
        return ""
    how = "BF16: completions from a BF16 copy of the policy, FP32 LoRA weights" if resolved == "bf16" else "float32"
    why = ""
    if chosen == "auto":
        why = " (auto: this CPU multiplies BF16 natively)" if resolved == "bf16" else " (auto: no native BF16 here)"
    return f"Runs at {how}{why}."


class RunPrecision:
    """A run's precision: ``name`` ("no" or "bf16"), ``passes()`` (the context of its log-probability
    passes), ``current()`` (the model its completions are sampled from now: None for the policy)."""

    def __init__(self, name: str, device: str, policy, samples: bool) -> None:
        self.name, self.device, self.policy = name, device, policy
        import torch

        self.copy = RolloutCopy(policy, torch.bfloat16) if name == "bf16" and samples else None

    def passes(self):
        from playground.core.finetune.mixed import training_autocast

        return training_autocast(self.device, self.name)  # at float32 ("no"): autocast off, a no-op

    def current(self):
        """The BF16 copy with the policy's adapter as it is now (None at float32)."""
        if self.copy is None:
            return None
        self.copy.refresh(self.policy)  # the copy follows the last update (a few milliseconds)
        return self.copy.model


class RolloutCopy:
    """A lower-precision copy of the policy that the rollouts are sampled from (issue 35).

    Sampling is two thirds of a GRPO step on the CPU, and decoding a group at BF16, where the CPU
    multiplies BF16 natively, takes about half the FP32 time. The copy is the policy with its LoRA
    merged in, at ``dtype``; ``refresh()`` writes the adapter's current weights into it (only the
    adapted layers change between steps). The log-probabilities, the KL and the update still come
    from the FP32 policy, as trl does when vLLM samples for it: the sampled tokens come from a
    distribution rounded to BF16, which the run's report names.
    """

    def __init__(self, model, dtype) -> None:
        import copy

        self.dtype = dtype
        self._adapted = _adapted_layers(model)
        # The copy is made with the adapter's layers as plain Linear (their base weights), then each
        # refresh puts base + delta into them.
        base = model.get_base_model() if hasattr(model, "get_base_model") else model
        # Each floating tensor is copied straight to ``dtype`` (no FP32 copy of the model on the way;
        # tied weights stay tied: one tensor, one copy).
        import torch

        memo = {}
        for t in list(base.parameters()) + list(base.buffers()):
            if id(t) not in memo:
                low = t.detach().to(dtype) if t.is_floating_point() else t.detach().clone()
                memo[id(t)] = torch.nn.Parameter(low, requires_grad=False) if isinstance(t, torch.nn.Parameter) else low
        self.model = _unwrap_lora(copy.deepcopy(base, memo)).eval()
        self.model.requires_grad_(False)
        self._targets = dict(self.model.named_modules())
        self.refresh(model)

    def refresh(self, model) -> None:
        """Write the policy's adapted weights (base + LoRA delta) into the copy."""
        import torch

        with torch.no_grad():
            for name, layer in self._adapted:
                merged = layer.get_base_layer().weight.detach().float()
                for adapter in layer.active_adapters:
                    if adapter in layer.lora_A:
                        merged = merged + layer.get_delta_weight(adapter).float()
                self._targets[name].weight.copy_(merged.to(self.dtype))


def _adapted_layers(model) -> list:
    """(name in the base model, LoRA layer) of every adapted layer of a peft model ([] without one)."""
    try:
        from peft.tuners.lora import LoraLayer
    except ImportError:  # pragma: no cover - peft is a dependency
        return []
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return [(name, mod) for name, mod in base.named_modules() if isinstance(mod, LoraLayer)]


def _unwrap_lora(model):
    """``model`` with every LoRA layer replaced by its base layer (in place; the copy's, not the policy's)."""
    from peft.tuners.lora import LoraLayer

    for name, mod in list(model.named_modules()):
        if isinstance(mod, LoraLayer):
            parent_name, _, child = name.rpartition(".")
            parent = model.get_submodule(parent_name) if parent_name else model
            setattr(parent, child, mod.get_base_layer())
    return model

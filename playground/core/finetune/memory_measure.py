"""Measuring what the activation estimate predicts: the bytes autograd saves for the backward pass.

``saved_tensor_bytes`` runs one forward pass (and its loss) under
``torch.autograd.graph.saved_tensors_hooks`` and counts every tensor autograd keeps, once per storage
(several nodes often keep the same tensor), the model's own parameters left out (they are the
Weights part of the estimate). The tests and ``bench/memory_estimate.py`` compare it with
``memory.estimate_training_memory(...).activations``.
"""

from __future__ import annotations

from collections.abc import Callable


def saved_tensor_bytes(model, forward: Callable[[], object]) -> tuple[int, object]:
    """(bytes autograd keeps for the backward pass of ``forward()``, what ``forward()`` returned).

    Parameters
    ----------
    model
        The model whose parameters are left out of the count.
    forward
        Runs the forward pass and the loss; its result (the loss) is returned, so a caller can
        go on with ``backward()``.
    """
    import torch

    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    saved: dict[int, int] = {}

    def pack(t):
        storage = t.untyped_storage()
        if storage.data_ptr() not in params:
            saved.setdefault(storage.data_ptr(), storage.nbytes())
        return t  # the graph holds it, so no later tensor reuses its address

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        result = forward()
    return sum(saved.values()), result


def estimate_for_run(model, cfg, examples, precision: str, encoder_decoder: bool, targets=()):
    """The Method step's estimate at a run's own settings: its micro-batch, its longest example (a
    micro-batch pads to its longest), the positions its loss reads and its number format.

    ``model`` is the model as trained (a peft model for LoRA and prompt tuning); ``examples`` the
    tokenized training examples; ``precision`` accelerate's ("no", "bf16", "fp16").
    """
    from dataclasses import replace

    from playground.core.finetune.dataset import IGNORE
    from playground.core.finetune.memory import ModelShape, estimate_training_memory

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    method = cfg.method.name
    shape = ModelShape.from_model(base, list(targets) if method == "lora" else [])
    params = sum(p.numel() for n, p in base.named_parameters() if "lora_" not in n)  # peft put its own in
    shape = replace(shape, parameters=params)
    lengths = [len(ex.input_ids) for ex in examples] or [1]
    labelled = [sum(1 for t in ex.labels if t != IGNORE) for ex in examples] or [1]
    kwargs = dict(lora_rank=cfg.method.lora.rank, lora_dropout=cfg.method.lora.dropout > 0,
                  virtual_tokens=cfg.method.prompt_tuning.virtual_tokens,
                  gradient_checkpointing=cfg.training.gradient_checkpointing)
    if encoder_decoder:
        kwargs["target_len"] = max(len(ex.labels) for ex in examples) if examples else 1
    else:
        kwargs["loss_tokens"] = max(labelled)
    dtype = {"bf16": "bfloat16", "fp16": "float16"}.get(str(precision), "float32")
    return estimate_training_memory(shape, method, dtype, cfg.training.micro_batch_size, max(lengths), **kwargs)


def run_memory(model, cfg, examples, precision: str, encoder_decoder: bool, targets, meter) -> dict:
    """A run's memory, like for like with the estimate and for the whole process.

    ``training_bytes`` counts what the estimate counts: on a GPU, torch's peak allocation during the
    training steps; on the CPU, the weights plus what the training steps added to the resident
    size (``meter.mark()`` was called before the first step). ``process_peak_bytes`` is the run's
    whole peak: on the CPU the process's resident size (Python, the libraries, the app, the data,
    the base model's summaries scored before training...). Memory is reported, never a reason to fail: {} on an error.
    """
    try:
        weights = sum(p.numel() * p.element_size() for p in model.parameters())
        added = meter.phase_added()
        gpu = bool(meter.cuda)
        figures = {"device": "cuda" if gpu else "cpu", "weights_bytes": int(weights),
                   "steps_added_bytes": int(added),
                   "training_bytes": int(meter.phase_peak() if gpu else weights + added),
                   "process_peak_bytes": int(meter.peak())}
        est = estimate_for_run(model, cfg, examples, precision, encoder_decoder, targets)
        figures.update(estimate_bytes=int(est.total), estimate_batch=int(est.notes["batch_size"]),
                       estimate_tokens=int(est.notes["seq_len"]))
        return figures
    except Exception:  # an architecture the estimate does not know: the measured figures alone
        return figures if "figures" in locals() else {}


def describe_run_memory(training: dict) -> str:
    """One paragraph, plain text, saying what each memory figure of a run counts and why the
    process peak is far above the estimate. ``training`` is the report's "training" section."""
    from playground.core.finetune.memory import format_bytes

    m = training.get("memory") or {}
    peak = int(training.get("peak_memory_bytes", 0) or 0)
    if not m:  # a report from before these figures: say what the one figure counts
        return (f"Peak memory {format_bytes(peak)}: the whole process at its highest (Python, the libraries, the "
                "app with its own copy of the model, the data, the summaries), not only the training tensors "
                "that the Method step's estimate counts.")
    est = (f"; the Method step's estimate counts the same things: {format_bytes(m['estimate_bytes'])} at this run's "
           f"settings (batch {m['estimate_batch']} × {m['estimate_tokens']} tokens)" if m.get("estimate_bytes") else "")
    if m.get("device") == "cuda":
        return (f"Training itself: {format_bytes(m['training_bytes'])}, torch's peak GPU allocation during the "
                f"training steps (weights, gradients, AdamW states, activations and the backward pass's "
                f"temporaries){est}. Over the whole run (loading, scoring the summaries) the peak was "
                f"{format_bytes(m['process_peak_bytes'])}.")
    return (f"Training itself: {format_bytes(m['training_bytes'])}, the weights ({format_bytes(m['weights_bytes'])}) "
            f"plus {format_bytes(m['steps_added_bytes'])} the training steps added (gradients, AdamW states, "
            f"activations, the backward pass's temporaries){est}. The process peaked at "
            f"{format_bytes(m['process_peak_bytes'])}: that also holds Python and the libraries, the app with its "
            f"own copy of the model (when run from the app), the data and the base model's summaries written before "
            f"training, none of which the estimate counts.")

"""Memory given back (issue 35, part 2): copies no longer used are really freed (a weak reference to them
dies), a LoRA copy shares the base's frozen weights (same outputs as peft's own copy), going back to FP32
holds one model, an encoder unused is let go, and the breakdown counts each storage once."""

import copy
import gc
import weakref


def _lora_copy(tiny_llama, seed=3):
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    return get_peft_model(copy.deepcopy(tiny_llama.model),
                          LoraConfig(r=4, lora_alpha=16, target_modules=["q_proj", "v_proj"], init_lora_weights=False))


def _ids():
    import torch

    return torch.tensor([[1, 5, 9, 42, 7]])


def test_a_lora_copy_shares_the_frozen_weights_and_answers_as_before(tiny_llama):
    import torch

    from playground.core.models.sharing import share_frozen_weights

    lora = _lora_copy(tiny_llama).eval()
    with torch.no_grad():
        want = lora(_ids()).logits.clone()
    frozen = {n: p for n, p in lora.named_parameters() if not p.requires_grad}
    trained = {n: p.untyped_storage().data_ptr() for n, p in lora.named_parameters() if p.requires_grad}
    base_ptrs = {p.untyped_storage().data_ptr() for p in tiny_llama.model.parameters()}
    assert not any(p.untyped_storage().data_ptr() in base_ptrs for p in frozen.values())  # a deep copy first

    saved = share_frozen_weights(lora, tiny_llama.model)
    assert saved == sum(p.numel() * p.element_size() for p in tiny_llama.model.parameters())
    assert all(p.untyped_storage().data_ptr() in base_ptrs for p in frozen.values())
    # the adapter's own weights keep their storage, and the copy answers exactly as before
    assert {n: p.untyped_storage().data_ptr() for n, p in lora.named_parameters() if p.requires_grad} == trained
    with torch.no_grad():
        assert torch.equal(lora(_ids()).logits, want)
    assert share_frozen_weights(lora, tiny_llama.model) == 0  # already shared


def test_a_prompt_tuned_copy_shares_its_whole_model(tiny_llama):
    import torch
    from peft import PromptTuningConfig, TaskType, get_peft_model

    from playground.core.models.sharing import share_frozen_weights

    tuned = get_peft_model(copy.deepcopy(tiny_llama.model),
                           PromptTuningConfig(task_type=TaskType.CAUSAL_LM, num_virtual_tokens=4)).eval()
    with torch.no_grad():
        want = tuned(_ids()).logits.clone()
    total = sum(p.untyped_storage().nbytes() for p in tiny_llama.model.parameters())
    assert share_frozen_weights(tuned, tiny_llama.model) == total  # only the soft prompt stays its own
    with torch.no_grad():
        assert torch.equal(tuned(_ids()).logits, want)


def test_trained_or_changed_weights_are_never_shared(tiny_llama):
    import torch

    from playground.core.models.sharing import share_frozen_weights

    full = copy.deepcopy(tiny_llama.model)  # a full fine-tune: every weight trainable
    assert share_frozen_weights(full, tiny_llama.model) == 0
    changed = copy.deepcopy(tiny_llama.model).requires_grad_(False)
    with torch.no_grad():
        changed.model.layers[0].mlp.up_proj.weight.add_(0.5)  # a merged adapter changed this one
    changed_bytes = changed.model.layers[0].mlp.up_proj.weight.untyped_storage().nbytes()
    total = sum(p.untyped_storage().nbytes() for p in tiny_llama.model.parameters())
    assert share_frozen_weights(changed, tiny_llama.model) == total - changed_bytes
    up = changed.model.layers[0].mlp.up_proj.weight
    assert up.untyped_storage().data_ptr() != tiny_llama.model.model.layers[0].mlp.up_proj.weight.data_ptr()


def test_lighter_results_drop_gradients_and_close_the_job(tiny_llama):
    from playground.core.finetune.events import DoneEvent, StageEvent
    from playground.core.models.sharing import lighter_results

    lora = _lora_copy(tiny_llama)
    lora(_ids(), labels=_ids()).loss.backward()
    assert any(p.grad is not None for p in lora.parameters())
    closed = []

    def job():
        try:
            yield StageEvent("train", "training")
            yield DoneEvent("run", "run/adapter", {}, lora, None, type("L", (), {"model": lora})())
        finally:
            closed.append(True)

    events = list(lighter_results(job(), tiny_llama.model))
    assert [type(e).__name__ for e in events] == ["StageEvent", "DoneEvent"] and closed == [True]
    assert all(p.grad is None for p in lora.parameters())
    q = lora.base_model.model.model.layers[0].self_attn.q_proj.base_layer.weight
    assert q.untyped_storage().data_ptr() == tiny_llama.model.model.layers[0].self_attn.q_proj.weight.data_ptr()
    stopped = lighter_results(job(), tiny_llama.model)
    next(stopped)
    stopped.close()  # a Stop closes the wrapper: the job is closed with it, at once
    assert closed == [True, True]


class _Holder:
    """A copy kept by an object that refers back to itself (as peft models and training jobs do)."""

    def __init__(self, model) -> None:
        self.model, self.me = model, self


def test_a_copy_frozen_by_a_load_and_dropped_in_a_cycle_is_freed_by_release(tiny_llama):
    from playground.core.base.memory import release_unused
    from playground.core.base.runtime import quiet_loading

    with quiet_loading():  # as a model load does: survivors are frozen at the end
        holder = _Holder(copy.deepcopy(tiny_llama.model))
    dead = weakref.ref(holder.model)
    del holder
    gc.collect()
    assert dead() is not None, "a frozen cycle is skipped by gc.collect (why release_unused unfreezes)"
    release_unused()
    assert dead() is None


def test_garbage_made_while_loading_is_not_frozen(tiny_llama):
    from playground.core.base.runtime import quiet_loading

    with quiet_loading():
        holder = _Holder(copy.deepcopy(tiny_llama.model))
        dead = weakref.ref(holder.model)
        del holder  # unreachable before the load ends: collected, not frozen for ever
    assert dead() is None


def test_going_back_to_fp32_holds_one_model(tiny_llama):
    from playground.core.lifecycle.precision import at_precision

    bf16 = at_precision(tiny_llama, "bf16")
    assert bf16.extras["precision_of"] is tiny_llama and bf16.model is not tiny_llama.model
    dead = weakref.ref(bf16.model)
    back = at_precision(bf16, "fp32")
    assert back is tiny_llama
    del bf16
    gc.collect()
    assert dead() is None


def test_an_idle_encoder_is_let_go_and_one_still_used_is_given_back(tmp_path, tiny_llama):
    from playground.core.models import encoder

    key = (str(tmp_path), "cpu")
    model, tok = copy.deepcopy(tiny_llama.model), tiny_llama.tokenizer
    encoder._cache[key] = (model, tok)
    encoder._last_used[key] = 0.0
    try:
        assert encoder.load_encoder(tmp_path)[0] is model  # cached: not loaded again
        assert encoder.release_idle_encoders(3600) == 0  # just used
        assert encoder.release_idle_encoders(0) >= 1
        assert key not in encoder._cache and any(m is model for m in encoder.encoders_alive())
        assert encoder.load_encoder(tmp_path)[0] is model  # still held here: the same copy, no second one
        encoder.release_idle_encoders(0)
        dead = weakref.ref(model)
        del model
        gc.collect()
        assert dead() is None and not any(m is None for m in encoder.encoders_alive())
    finally:
        encoder._cache.pop(key, None)
        encoder._released.pop(key, None)


def test_the_breakdown_counts_each_storage_once_in_order(tiny_llama):
    from playground.core.base.memory import Held, format_breakdown, held_breakdown, hold, holdings
    from playground.core.base.units import format_bytes

    m = tiny_llama.model
    weights = sum({t.untyped_storage().data_ptr(): t.untyped_storage().nbytes()  # tied weights once, buffers too
                   for t in list(m.parameters()) + list(m.buffers())}.values())
    lora = _lora_copy(tiny_llama)
    lora_bytes = sum(t.untyped_storage().nbytes()  # the adapter and its own buffers (rotary frequencies)
                     for t in [p for p in lora.parameters() if p.requires_grad] + list(lora.buffers()))
    from playground.core.models.sharing import share_frozen_weights

    share_frozen_weights(lora, tiny_llama.model)
    lines = held_breakdown([("model", tiny_llama), ("fine-tune result", lora)], rss=10 * weights)
    assert lines[:2] == [Held("model", weights), Held("fine-tune result", lora_bytes)]
    assert lines[2] == Held("other", 10 * weights - weights - lora_bytes)
    assert format_breakdown(lines).startswith(f"model {format_bytes(weights)}, fine-tune result ")
    hold("aligned copy", lora)
    assert ("aligned copy", lora) in holdings()
    dead = weakref.ref(lora)
    del lora
    gc.collect()
    assert dead() is None and all(label != "aligned copy" for label, _ in holdings())


def test_no_resident_figure_means_no_other_line(tiny_llama):
    from playground.core.base.memory import held_breakdown, resident_bytes

    assert [h.label for h in held_breakdown([("model", tiny_llama)], None)] == ["model"]
    assert resident_bytes() > 0

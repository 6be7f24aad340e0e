"""Making the student: the teacher with fewer layers (every other one, as DistilBERT was made), the
same tokenizer, embeddings and output head; and the checks that a student fits its teacher.
"""

from __future__ import annotations

import copy
import re

from playground.core.base.errors import InputError


def parameter_count(model) -> int:
    """Parameters, each tied (shared) tensor counted once."""
    seen, total = set(), 0
    for p in model.parameters():
        if id(p) not in seen:
            seen.add(id(p))
            total += p.numel()
    return total


def layer_count(model) -> int:
    cfg = model.config
    n = getattr(cfg, "num_hidden_layers", None) or getattr(cfg, "n_layer", None)
    if not n:
        raise InputError("This model does not say how many layers it has, so no student can be cut from it.",
                         "Load a decoder-only model such as the bundled one (Llama-like).")
    return int(n)


def kept_layers(total: int, keep: int = 0) -> list[int]:
    """Which of ``total`` layers a student keeps: every other one (0) or ``keep`` spread evenly from
    the first to the last."""
    if keep <= 0:
        return list(range(0, total, 2))
    if keep > total:
        raise InputError(f"A student of {keep} layers would be larger than its teacher ({total} layers).",
                         f"Choose at most {total - 1} layers (0 keeps every other one: {len(range(0, total, 2))}).")
    if keep == total:
        raise InputError(f"A student of {keep} layers is the teacher itself ({total} layers): nothing is made smaller.",
                         f"Choose fewer than {total} layers.")
    if keep == 1:
        return [total - 1]
    return sorted({round(i * (total - 1) / (keep - 1)) for i in range(keep)})


def _layer_prefix(state: dict, total: int) -> str:
    """The state-dict prefix of the numbered decoder layers (``model.layers.`` for Llama)."""
    counts: dict[str, set] = {}
    for key in state:
        m = re.match(r"(.*?\.)(\d+)\.", key)
        if m:
            counts.setdefault(m.group(1), set()).add(int(m.group(2)))
    for prefix, found in counts.items():
        if found == set(range(total)):
            return prefix
    raise InputError("The teacher's layers could not be found by number, so no student can be cut from it.",
                     "Load a decoder-only model such as the bundled one (Llama-like).")


def make_student(teacher, keep: int = 0):
    """A new model with ``keep`` of the teacher's layers (0: every other one), their weights copied.

    The embeddings, final norm and output head are the teacher's too, so the student starts close to
    it and reads the same tokens. The teacher is left untouched.

    Returns
    -------
    (student, kept layer indices)
    """
    import torch
    from transformers import AutoModelForCausalLM

    total = layer_count(teacher)
    keep_idx = kept_layers(total, keep)
    cfg = copy.deepcopy(teacher.config)
    cfg.num_hidden_layers = len(keep_idx)
    if isinstance(getattr(cfg, "layer_types", None), list):
        cfg.layer_types = [cfg.layer_types[i] for i in keep_idx]
    for attr in ("quantization_config",):
        if hasattr(cfg, attr):
            delattr(cfg, attr)
    state = teacher.state_dict()
    prefix = _layer_prefix(state, total)
    new_of = {old: new for new, old in enumerate(keep_idx)}
    out = {}
    for key, value in state.items():
        if key.startswith(prefix):
            num, rest = key[len(prefix):].split(".", 1)
            if int(num) not in new_of:
                continue
            key = f"{prefix}{new_of[int(num)]}.{rest}"
        out[key] = value.detach().clone()
    with torch.device("cpu"):
        student = AutoModelForCausalLM.from_config(cfg, dtype=next(teacher.parameters()).dtype)
    missing, unexpected = student.load_state_dict(out, strict=False)
    tied = {k for k in missing if "lm_head" in k or "embed" in k}
    if unexpected or set(missing) - tied:
        raise InputError("The student could not take the teacher's weights "
                         f"({len(unexpected)} unexpected, {len(set(missing) - tied)} missing).",
                         "Distillation supports decoder-only models built like the bundled one.")
    if getattr(cfg, "tie_word_embeddings", False):
        student.tie_weights()
    student.generation_config = copy.deepcopy(teacher.generation_config)
    return student, keep_idx


def same_tokenizer(a, b) -> bool:
    """Whether two tokenizers turn text into the same ids (same vocabulary and special tokens)."""
    if a is b:
        return True
    if len(a) != len(b) or a.all_special_tokens != b.all_special_tokens:
        return False
    return a.get_vocab() == b.get_vocab()


def check_pair(teacher, teacher_tokenizer, student, student_tokenizer) -> None:
    """Refuse, in plain words, a student that cannot learn from this teacher: a different tokenizer
    (the two distributions would be over different tokens) or a student no smaller than its teacher."""
    if not same_tokenizer(teacher_tokenizer, student_tokenizer) or \
            teacher.config.vocab_size != student.config.vocab_size:
        raise InputError("The teacher and the student use different tokenizers, so their next-token "
                         "distributions are over different tokens and cannot be compared.",
                         "Make the student from the teacher (leave the student model empty), or pick a student "
                         "that shares the teacher's tokenizer.")
    t, s = parameter_count(teacher), parameter_count(student)
    if s >= t:
        raise InputError(f"The student ({s:,} parameters) is not smaller than its teacher ({t:,}).",
                         "Distillation makes a smaller model: keep fewer layers, or pick a smaller student.")

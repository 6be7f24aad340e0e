"""Draft models for speculative decoding: the target's own first layers, a local folder, a student.

Whatever the draft, it must speak the target's language token for token: the same tokenizer and the
same vocabulary (the same number of scores per step), or its guesses would name other tokens.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

from playground.core.base.errors import InputError, PlaygroundError
from playground.core.decoding.speculative_settings import draft_label, layers_of
from playground.core.models.loading import DECODER_ONLY, LoadedModel, describe_model


@dataclass
class DraftModel:
    """A draft ready to propose tokens, and what the learner should know about it."""

    loaded: LoadedModel
    spec: str                      # as named: 'layers:8' or a folder
    label: str                     # 'first 8 layers' or the folder's name
    layers: int | None = None      # N for a self-speculative draft
    notes: list[str] = field(default_factory=list)  # plain remarks ('larger than the target: pointless')

    @property
    def parameters(self) -> int:
        return self.loaded.info.parameters


def _decoder_layers(model):
    """(owner module, attribute name, ModuleList) of the decoder's layer stack, or None."""
    import torch.nn as nn

    inner = model.get_decoder() if hasattr(model, "get_decoder") else None
    for owner in (inner, getattr(model, "model", None), getattr(model, "transformer", None)):
        if owner is None:
            continue
        for name in ("layers", "h", "blocks"):
            stack = getattr(owner, name, None)
            if isinstance(stack, nn.ModuleList) and len(stack):
                return owner, name, stack
    return None


def _shallow(module):
    """A new module object sharing every parameter and child of ``module`` (its child table copied,
    so a child swapped on the copy leaves the original as it was)."""
    twin = copy.copy(module)
    twin._modules = dict(module._modules)
    return twin


def first_layers_view(target: LoadedModel, n: int) -> LoadedModel:
    """The target cut after its first ``n`` decoder layers, then its final norm and its head.

    No weight is copied: the view's modules are the target's own (the same tensors), only the list
    of layers it runs is shorter, and its config says ``n`` layers (so its KV cache holds ``n``).

    Raises
    ------
    InputError
        When ``n`` is outside 1..layers, or the model's layer stack cannot be found.
    """
    model = target.model
    found = _decoder_layers(model)
    total = int(target.info.num_layers or (len(found[2]) if found else 0))
    if found is None or target.info.kind != DECODER_ONLY:
        raise InputError(f"{target.info.name} has no decoder layer stack the app knows how to cut.",
                         "Use a folder as the draft instead (a smaller model with the same tokenizer).")
    if not 1 <= n <= total:
        raise InputError(f"The draft must use from 1 to {total} of the target's layers (asked for {n}).",
                         f"Try layers:{max(1, total // 4)}: a quarter of the model.")
    import torch.nn as nn

    owner, name, stack = found
    view = _shallow(model)
    config = copy.copy(model.config)
    config.num_hidden_layers = n
    if isinstance(getattr(config, "layer_types", None), list):
        config.layer_types = config.layer_types[:n]
    view.config = config
    inner_view = view
    if owner is not model:
        inner_view = _shallow(owner)
        inner_view.config = config
        for attr, child in model._modules.items():
            if child is owner:
                view._modules[attr] = inner_view
    inner_view._modules[name] = nn.ModuleList(list(stack)[:n])
    info = describe_model(view, target.tokenizer, f"{target.info.name} · first {n} of {total} layers",
                          target.info.folder)
    # describe_model counts every parameter reachable: the cut layers are gone, the rest are shared.
    return LoadedModel(model=view, tokenizer=target.tokenizer, info=info, source=target.source,
                       extras={"draft_of": target.info.name, "layers": n, "shares_weights": True})


def check_same_vocabulary(target: LoadedModel, draft: LoadedModel, name: str) -> None:
    """Refuse a draft whose tokens are not the target's (another tokenizer, or another vocabulary size).

    Raises
    ------
    InputError
        Saying which part differs.
    """
    if draft.info.kind != DECODER_ONLY:
        raise InputError(f"The draft {name} is {draft.info.kind}: a draft must be a decoder-only model.",
                         "Choose a causal language model with the target's tokenizer.")
    t_out, d_out = _output_size(target.model), _output_size(draft.model)
    if target.tokenizer is not draft.tokenizer:
        t_vocab, d_vocab = target.tokenizer.get_vocab(), draft.tokenizer.get_vocab()
        if t_vocab != d_vocab:
            differ = sum(1 for k, v in d_vocab.items() if t_vocab.get(k) != v) + abs(len(t_vocab) - len(d_vocab))
            raise InputError(
                f"The draft {name} uses another tokenizer ({len(d_vocab):,} tokens, {differ:,} of them different "
                f"from the target's {len(t_vocab):,}): its token ids would mean other words, so the target could "
                "not check its guesses.",
                "Choose a draft trained with the target's tokenizer (e.g. a smaller model of the same family, "
                "a distilled student, or layers:N).")
    if t_out != d_out:
        raise InputError(f"The draft {name} scores {d_out:,} tokens per step and the target {t_out:,}: their "
                         "vocabularies differ, so the probabilities cannot be compared token by token.",
                         "Choose a draft with the target's vocabulary.")


def _output_size(model) -> int:
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    if head is not None and getattr(head, "weight", None) is not None:
        return int(head.weight.shape[0])
    return int(model.config.get_text_config().vocab_size)


def load_draft(target: LoadedModel, spec: str, handle=None) -> DraftModel:
    """The draft named by ``spec`` ('layers:N' or a folder), checked against the target.

    A draft as large as the target or larger is allowed (it still gives the target's output) and a
    note says it is pointless: speculative decoding pays off only when the draft is much cheaper.

    Raises
    ------
    InputError
        A missing folder, another tokenizer or vocabulary, a layer count out of range.
    """
    spec = str(spec).strip()
    n = layers_of(spec)
    notes: list[str] = []
    if n is not None:
        loaded = first_layers_view(target, n)
        total = target.info.num_layers
        if n == total:
            notes.append(f"The draft runs all {total} layers: it is the target itself. Every token is accepted "
                         "and nothing is saved; it is pointless except as a check.")
        return DraftModel(loaded, spec, draft_label(spec), n, notes)
    folder = Path(spec).expanduser()
    if not folder.is_dir():
        raise InputError(f"There is no model folder at {spec}.",
                         "Name a folder holding config.json, weights and tokenizer files, or use layers:N.")
    from playground.core.models.loading import load_model
    from playground.core.models.sources import ModelSource

    try:
        loaded = load_model(ModelSource("local", str(folder)), device=target.device, handle=handle)
    except PlaygroundError as exc:
        raise InputError(f"The draft could not be loaded: {exc.message}", exc.hint) from None
    check_same_vocabulary(target, loaded, folder.name)
    draft = DraftModel(loaded, spec, draft_label(spec), None, notes)
    if loaded.info.parameters >= target.info.parameters:
        notes.append(f"The draft ({loaded.info.parameters / 1e6:.1f}M parameters) is not smaller than the target "
                     f"({target.info.parameters / 1e6:.1f}M): allowed, and the output is still the target's, but "
                     "pointless, since each draft step costs as much as a target step.")
    return draft


def student_choices() -> list[tuple[str, str]]:
    """(label, folder) of every distilled student saved by the Lifecycle tab, newest first.

    The distillation store may be absent from this build: then there are none.
    """
    try:
        from playground.core.distill.store import list_students
    except ImportError:
        return []
    try:
        folders = list_students()
    except OSError:
        return []
    return [(draft_label(str(f)), str(f)) for f in folders]

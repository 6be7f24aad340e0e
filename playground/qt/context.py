"""What every panel shares: the model session, the task runner and the settings."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from playground.core.models.sources import ModelSource
from playground.core.models.loading import LoadedModel, ModelSession
from playground.core.base.settings import Settings
from playground.qt.runner import Task, TaskRunner
from playground.qt.task_slot import TaskSlot

MODEL_LOADING = "The model is still loading. Try again in a moment."


class AppContext(QObject):
    """Shared state. Panels read ``session.current`` and listen to the signals below."""

    sig_model_changed = Signal(object)
    """the new LoadedModel, after a load succeeded"""
    sig_model_loading = Signal(str)
    """the display name of the model a load has started for"""
    sig_model_load_failed = Signal(str, str)
    """(message, hint) of a failed load; the previous model stays"""
    sig_error = Signal(str, str, str)
    """(title, message, hint) any panel wants shown to the user"""
    sig_busy = Signal(str, object)
    """(message, fraction or None) of the long work running; ('', None) when idle"""
    sig_adapter_changed = Signal(object)
    """the attached fine-tuned LoadedModel (None when detached); see ``session.adapter_on``"""

    def __init__(self, settings: Settings | None = None, runner: TaskRunner | None = None) -> None:
        super().__init__()
        self.session = ModelSession()
        self.settings = settings or Settings()
        self.runner = runner or TaskRunner(parent=self)
        self.load_task: Task | None = None
        self.load_slot = TaskSlot(self.runner, parent=self)  # a newer load supersedes the one running

    def ready_model(self, say) -> LoadedModel | None:
        """The current model, or None after ``say(MODEL_LOADING)`` while none is loaded yet."""
        loaded = self.session.current
        if loaded is None:
            say(MODEL_LOADING)
        return loaded

    def load_model(self, source: ModelSource, device: str = "auto", dtype: str = "auto") -> Task:
        """Load a model in the background; replace the session's model only on success."""
        from playground.core.models.loading import load_model

        task = self.load_slot.start(f"load {source.display_name}",
                                    lambda h: load_model(source, device=device, dtype=dtype, handle=h),
                                    on_progress=lambda p, m: self.sig_busy.emit(m, p), on_done=self._on_loaded,
                                    on_failed=self._on_load_failed, on_finished=lambda t: self.sig_busy.emit("", None))
        self.load_task = task
        self.sig_model_loading.emit(source.display_name)
        return task

    def _on_loaded(self, loaded: LoadedModel) -> None:
        had_adapter = self.session.adapter is not None
        self.session.set(loaded)  # a new model drops the adapter trained for the old one
        if had_adapter:
            self.sig_adapter_changed.emit(None)
        self.settings.set("model", {"source": loaded.source.to_dict(), "device": loaded.info.device,
                                    "dtype": loaded.info.dtype})
        self.sig_model_changed.emit(loaded)

    def _on_load_failed(self, message: str, hint: str) -> None:
        self.sig_model_load_failed.emit(message, hint)
        self.sig_error.emit("The model could not be loaded", message, hint)

    def set_adapter(self, adapted: LoadedModel | None, on: bool = True) -> None:
        """Attach a fine-tuned model (None detaches) and tell every tab the model in use changed."""
        self.session.set_adapter(adapted, on)
        self.sig_adapter_changed.emit(adapted)
        if self.session.current is not None:
            self.sig_model_changed.emit(self.session.current)

    def use_adapter(self, on: bool) -> None:
        """Switch every tab between the fine-tuned model and the base model."""
        if on == self.session.adapter_on or self.session.adapter is None:
            return
        self.session.use_adapter(on)
        self.sig_adapter_changed.emit(self.session.adapter)
        self.sig_model_changed.emit(self.session.current)

    def only_switched(self, old: LoadedModel | None, new: LoadedModel | None) -> bool:
        """True when going from ``old`` to ``new`` at most flips the Adapter switch (same base model).

        Tabs keep what they computed across a flip (or an adapter attached beside the base), marked
        with ``origin(old)``, instead of wiping it.
        """
        pair = {id(self.session.base), id(self.session.adapter)}
        return old is not None and new is not None and (old is new or {id(old), id(new)} <= pair)

    def origin(self, loaded: LoadedModel | None) -> str:
        """Which model a result was computed with, in words: 'base model X' or 'adapter <run> on X'."""
        if loaded is None:
            return "no model"
        if loaded is not self.session.adapter and "adapter_dir" not in loaded.extras:
            return f"base model {loaded.info.name}"
        base = self.session.base
        name = loaded.extras.get("adapter_name") or "fine-tuned"
        return f"adapter {name} on {base.info.name if base is not None else loaded.info.name}"

    def origin_html(self, loaded: LoadedModel | None, again: str) -> str:
        """Rich text: 'computed with <origin>', then, in orange, the model the bar selects now when it
        is another one, and ``again`` (how to recompute with it)."""
        import html

        text = f"computed with {html.escape(self.origin(loaded))}"
        current = self.session.current
        if current is not None and loaded is not None and current is not loaded:
            text += (f" <span style='color:#8a5a00'>(the model bar now selects "
                     f"{html.escape(self.origin(current))}: {html.escape(again)})</span>")
        return text

    def report_error(self, title: str, message: str, hint: str = "") -> None:
        self.sig_error.emit(title, message, hint)

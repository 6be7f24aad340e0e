"""What every panel shares: the model session, the task runner and the settings."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from playground.core.models.sources import ModelSource
from playground.core.models.loading import LoadedModel, ModelSession
from playground.core.base.settings import Settings
from playground.core.base.settings_schema import AdapterSection, ModelSection
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
    sig_notice = Signal(str)
    """a sentence for the status bar (e.g. the adapter attached again at start-up)"""

    def __init__(self, settings: Settings | None = None, runner: TaskRunner | None = None) -> None:
        super().__init__()
        self.session = ModelSession()
        self.settings = settings or Settings()
        self.runner = runner or TaskRunner(parent=self)
        self.load_task: Task | None = None
        self.load_slot = TaskSlot(self.runner, parent=self)  # a newer load supersedes the one running
        self._load_notices: list[str] = []  # said once the load's busy line is cleared
        from playground.qt.memory import MemoryKeeper

        self.memory = MemoryKeeper(self, parent=self)  # gives memory back when long work ends (issue 35)

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
                                    on_failed=self._on_load_failed, on_finished=self._on_load_finished)
        self.load_task = task
        self.sig_model_loading.emit(source.display_name)
        return task

    def _on_loaded(self, loaded: LoadedModel) -> None:
        dropped, old_base = self.session.adapter, self.session.base
        self.session.set(loaded)  # a new model drops the adapter trained for the old one
        if dropped is not None:
            self.sig_adapter_changed.emit(None)
            self._load_notices.append(adapter_dropped_notice(dropped, old_base, loaded))
        self.settings.put(ModelSection(source=loaded.source.to_dict(), device=loaded.info.device,
                                       dtype=loaded.info.dtype))
        remembered = self.settings.section(AdapterSection)
        if remembered.dir and remembered.base != loaded.source.to_dict():
            self.settings.put(AdapterSection())  # another model: the adapter trained for the old one is not kept
        self.sig_model_changed.emit(loaded)

    def _on_load_finished(self, _task) -> None:
        self.sig_busy.emit("", None)  # clears the status bar: the notices come after it
        notices, self._load_notices = self._load_notices, []
        for line in notices:
            self.sig_notice.emit(line)

    def _on_load_failed(self, message: str, hint: str) -> None:
        self.sig_model_load_failed.emit(message, hint)
        self.sig_error.emit("The model could not be loaded", message, hint)

    def set_adapter(self, adapted: LoadedModel | None, on: bool = True) -> None:
        """Attach a fine-tuned model (None detaches) and tell every tab the model in use changed."""
        self.session.set_adapter(adapted, on)
        self._remember_adapter()
        self.sig_adapter_changed.emit(adapted)
        if self.session.current is not None:
            self.sig_model_changed.emit(self.session.current)

    def use_adapter(self, on: bool) -> None:
        """Switch every tab between the fine-tuned model and the base model."""
        if on == self.session.adapter_on or self.session.adapter is None:
            return
        self.session.use_adapter(on)
        self._remember_adapter()
        self.sig_adapter_changed.emit(self.session.adapter)
        self.sig_model_changed.emit(self.session.current)

    def _remember_adapter(self) -> None:
        """Keep the attached run (its folder, the switch) in the settings, for the next start.

        Only a run saved on disk is kept (an adapter in memory only has nothing to load again)."""
        adapted, base = self.session.adapter, self.session.base
        extras = adapted.extras if adapted is not None else {}
        if adapted is None or base is None or not extras.get("adapter_dir"):
            self.settings.put(AdapterSection())
            return
        self.settings.put(AdapterSection(dir=extras["adapter_dir"], name=extras.get("adapter_name", ""),
                                         run_dir=extras.get("run_dir", ""), method=extras.get("method", "lora"),
                                         on=self.session.adapter_on, base=base.source.to_dict()))

    def restore_adapter(self) -> Task | None:
        """Attach again, in the background, the run the last session had attached to this base model.

        A folder that is gone, or weights that no longer fit, are said in the status bar and forgotten:
        the base model stays in use. Returns the loading task, or None when there is nothing to restore.
        """
        saved = self.settings.section(AdapterSection)
        base = self.session.base
        if not saved.dir or base is None or self.session.adapter is not None:
            return None
        if saved.base != base.source.to_dict():
            return None
        from pathlib import Path

        from playground.core.finetune.attach import load_attachable, named_for_run

        name = saved.name or Path(saved.dir).name
        folder, run_dir, method, on = saved.dir, saved.run_dir or saved.dir, saved.method, saved.on

        def done(trained) -> None:
            if self.session.base is not base or self.session.adapter is not None:
                return  # the user loaded another model or attached another run meanwhile
            self.set_adapter(named_for_run(base, trained, folder, run_dir, method), on=on)
            switch = "on" if on else "off (the base model is in use)"
            notice.append(f"The adapter {name} from your last session is attached again; its switch is {switch}.")

        def failed(message: str, hint: str) -> None:
            self.settings.put(AdapterSection())
            notice.append(f"The adapter {name} could not be attached again; the base model is in use. {message}")

        def finished(_task) -> None:
            self.sig_busy.emit("", None)  # clears the status bar: the notice comes after it
            for line in notice:
                self.sig_notice.emit(line)

        notice: list[str] = []
        self.sig_busy.emit(f"Attaching the adapter {name} again…", None)
        return self.load_slot.start(f"attach {name}", lambda h: load_attachable(base, folder, method, h),
                                    on_done=done, on_failed=failed, on_finished=finished)

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


def adapter_dropped_notice(adapter: LoadedModel, old_base: LoadedModel | None, loaded: LoadedModel) -> str:
    """What the status bar says when a model change detaches the adapter: which one, why, how to get it back."""
    name = adapter.extras.get("adapter_name") or adapter.info.name
    base = old_base.info.name if old_base is not None else "the previous model"
    return (f"The adapter {name} was detached: it was trained on {base}, and {loaded.info.name} is loaded now. "
            f"To use it again, load {base} and press 'Use in playground' on its run's Fine-tune result.")

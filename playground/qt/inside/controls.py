"""The memory limit for attention and what to do past it, remembered in the settings; the line that says
where a text stands against it."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QWidget

from playground.core.base.settings_schema import InsideSection
from playground.qt.binding import Draft, add_rows, persist


class AnalysisControls(QWidget):
    """The ``inside`` settings section's two rows, bound to a draft that saves itself."""

    sig_changed = Signal()
    """the limit or the choice past it changed"""

    def __init__(self, settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.draft = Draft(InsideSection(), self)
        persist(self.draft, settings)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        rows = add_rows(form, self.draft, "limit_mb", "over_limit")
        self.limit_spin, self.policy_combo = rows["limit_mb"], rows["over_limit"]
        self.draft.sig_changed.connect(lambda _path: self.sig_changed.emit())

    def limit_bytes(self) -> int:
        return int(self.draft.value.limit_mb) * 2**20

    def over_limit(self) -> str:
        return self.draft.value.over_limit

    def save(self) -> None:
        """Kept for callers: the draft already stores itself in the settings on every change."""
        self.settings.put(self.draft.value)


def memory_status(loaded, n: int, has_attention: bool, limit: int, policy: str) -> str:
    """The status line for a text of ``n`` tokens: the context it takes and the attention memory it needs
    against the limit (red past it), or that the model has no attention maps to show."""
    from playground.core.attention import attention_shapes, format_bytes
    from playground.core.attention.memory import attention_bytes

    if not has_attention:
        return (f"<span style='color:#b00020'>{n:,} tokens · {loaded.info.name} has no attention layers, so there "
                "are no attention maps to show. The tokens and embeddings still work.</span>")
    shapes = attention_shapes(loaded.model.config, loaded.info, n, n if loaded.is_encoder_decoder else 0)
    need = attention_bytes(shapes)
    over = need > limit
    window = loaded.info.context_window
    colour = "#b00020" if over or n > window else "palette(text)"
    extra = " (past the limit: " + ("it will be downsampled)" if policy == "downsample"
                                     else "raise the limit or choose 'downsample')") if over else ""
    return (f"<span style='color:{colour}'>{n:,} tokens / {window:,} context · attention "
            f"needs about {format_bytes(need)}{extra}</span>")

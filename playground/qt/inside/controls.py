"""The memory limit for attention and what to do past it, remembered in the settings; the line that says
where a text stands against it."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QSpinBox, QWidget

from playground.core.attention.memory import DEFAULT_LIMIT_BYTES

SETTINGS_KEY = "inside"


class AnalysisControls(QWidget):
    sig_changed = Signal()
    """the limit or the choice past it changed"""

    def __init__(self, settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        saved = settings.get(SETTINGS_KEY, {}) or {}
        self.limit_spin = QSpinBox()
        self.limit_spin.setRange(1, 1_000_000)
        self.limit_spin.setSuffix(" MiB")
        self.limit_spin.setSingleStep(128)
        self.limit_spin.setToolTip("The most memory the attention weights may take. They need layers × heads × "
                                   "tokens² × 4 bytes: doubling the text makes them four times bigger.")
        self.policy_combo = QComboBox()
        self.policy_combo.addItem("Refuse", "refuse")
        self.policy_combo.addItem("Downsample", "downsample")
        self.policy_combo.setToolTip("Past the limit: refuse, or pool groups of neighbouring tokens into one row "
                                     "and column so the map fits (each row still sums to 1).")
        try:
            self.limit_spin.setValue(int(saved.get("limit_mb", DEFAULT_LIMIT_BYTES // 2**20)))
            index = self.policy_combo.findData(saved.get("over_limit", "downsample"))
            self.policy_combo.setCurrentIndex(max(0, index))
        except (TypeError, ValueError):
            self.limit_spin.setValue(DEFAULT_LIMIT_BYTES // 2**20)
        self.limit_spin.valueChanged.connect(self.sig_changed)
        self.policy_combo.currentIndexChanged.connect(self.sig_changed)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Attention memory limit", self.limit_spin)
        form.addRow("Past the limit", self.policy_combo)

    def limit_bytes(self) -> int:
        return int(self.limit_spin.value()) * 2**20

    def over_limit(self) -> str:
        return self.policy_combo.currentData()

    def save(self) -> None:
        self.settings.set(SETTINGS_KEY, {"limit_mb": self.limit_spin.value(), "over_limit": self.over_limit()})


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

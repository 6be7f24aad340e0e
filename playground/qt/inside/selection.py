"""The row that chooses what the attention views show: which map, which layer, which head."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSlider, QWidget


class SelectionBar(QWidget):
    """Map, layer and head. Emits ``sig_changed`` whenever the choice changes."""

    sig_changed = Signal()
    """the map, layer or head changed (slider drags emit many: the panel debounces)"""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.maps: dict = {}
        self.map_combo = QComboBox()
        # As wide as its longest map name ("Cross-attention (decoder → encoder)"), never cut.
        self.map_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.map_combo.setToolTip("Decoder-only models have one self-attention. Encoder-decoder models have "
                                  "the encoder's, the decoder's, and cross-attention from decoder to encoder.")
        self.layer_slider = QSlider(Qt.Orientation.Horizontal)
        self.layer_slider.setToolTip("Layers run one after another; early layers see surface patterns, later "
                                     "ones more abstract relations.")
        self.layer_label = QLabel("Layer –")
        self.layer_label.setMinimumWidth(90)
        self.head_combo = QComboBox()
        self.head_combo.setToolTip("One head, the mean of all heads of the layer, or the rollout: attention "
                                   "multiplied through the layers so far (with the residual path).")
        self.map_combo.currentIndexChanged.connect(self._on_map_changed)
        self.head_combo.currentIndexChanged.connect(self.sig_changed)
        self.layer_slider.valueChanged.connect(self._on_layer_moved)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Map"))
        row.addWidget(self.map_combo)
        row.addWidget(self.layer_label)
        row.addWidget(self.layer_slider, 1)
        row.addWidget(QLabel("Head"))
        row.addWidget(self.head_combo)

    def set_maps(self, maps: dict) -> None:
        """Offer the maps of a new result (name -> AttentionMap), keeping layer and head if they exist."""
        from playground.core.attention import MAP_TITLES

        self.maps = maps
        widgets = (self.map_combo, self.head_combo, self.layer_slider)
        for w in widgets:
            w.blockSignals(True)
        self.map_combo.clear()
        for name in maps:
            self.map_combo.addItem(MAP_TITLES.get(name, name), name)
        self._fit_to(next(iter(maps.values())))
        for w in widgets:
            w.blockSignals(False)

    def clear(self) -> None:
        self.maps = {}
        for combo in (self.map_combo, self.head_combo):
            combo.blockSignals(True)
            combo.clear()
            combo.blockSignals(False)

    def _fit_to(self, amap) -> None:
        """Heads and layers of one map; the head choice is kept when it still exists."""
        keep = self.head_combo.currentData()
        self.head_combo.clear()
        for h in range(amap.num_heads):
            self.head_combo.addItem(f"Head {h}", h)
        self.head_combo.addItem("Mean of heads", "mean")
        if amap.is_square:
            self.head_combo.addItem("Rollout (layers 0…this)", "rollout")
        index = self.head_combo.findData(keep)
        self.head_combo.setCurrentIndex(max(index, 0))
        self.layer_slider.setRange(0, amap.num_layers - 1)
        self.layer_slider.setValue(min(self.layer_slider.value(), amap.num_layers - 1))
        self._update_layer_label()

    def _on_map_changed(self, _index: int) -> None:
        amap = self.maps.get(self.map_combo.currentData())
        if amap is not None:
            for w in (self.head_combo, self.layer_slider):
                w.blockSignals(True)
            self._fit_to(amap)
            for w in (self.head_combo, self.layer_slider):
                w.blockSignals(False)
        self.sig_changed.emit()

    def _on_layer_moved(self, _value: int) -> None:
        self._update_layer_label()
        self.sig_changed.emit()

    def _update_layer_label(self) -> None:
        self.layer_label.setText(f"Layer {self.layer_slider.value()} of 0–{self.layer_slider.maximum()}")

    def choose_head(self, head) -> None:
        index = self.head_combo.findData(head)
        if index >= 0:
            self.head_combo.setCurrentIndex(index)

    def selection(self) -> tuple[str, int, int | str]:
        """(map name, layer, head) where head is an int, 'mean' or 'rollout'."""
        return self.map_combo.currentData() or "self", self.layer_slider.value(), self.head_combo.currentData()

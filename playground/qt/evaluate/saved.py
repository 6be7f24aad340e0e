"""The Evaluate tab's settings kept between starts (the ``evaluate`` section of the settings schema)."""

from __future__ import annotations

from playground.core.evaluation.datasets import SPLITS
from playground.core.evaluation.run import ADAPTER, FILE, K_SHOT, ZERO_SHOT


def state(panel) -> dict:
    """What the tab's controls hold now, as the ``evaluate`` settings section."""
    data = panel.data_combo.currentData()
    systems = [{"kind": r.kind, "enabled": r.is_enabled(), "shots": r.shots_spin.value(),
                "path": r.path_edit.text().strip()} for r in panel.system_rows]
    return {"data": data if data in SPLITS else "test", "count": panel.count_spin.value(),
            "max_new_tokens": panel.max_tokens.value(), "tokenizer": panel.tokenizer_combo.currentData(),
            "use_stemmer": panel.stemmer_check.isChecked(), "template": panel.template_combo.currentData() or "",
            "use_chat_template": panel.chat_check.isChecked(), "systems": systems}


def save(panel) -> None:
    panel.context.settings.set("evaluate", state(panel))


def restore(panel) -> None:
    """Put the saved settings back; a value that no longer fits (a removed template, a bad kind) is skipped."""
    saved = panel.context.settings.get("evaluate", {}) or {}

    def choose(combo, value) -> None:
        i = combo.findData(value)
        if i >= 0:
            combo.setCurrentIndex(i)

    if "data" in saved:
        choose(panel.data_combo, saved["data"])
    for spin, key in ((panel.count_spin, "count"), (panel.max_tokens, "max_new_tokens")):
        if isinstance(saved.get(key), int):
            spin.setValue(saved[key])
    if "tokenizer" in saved:
        choose(panel.tokenizer_combo, saved["tokenizer"])
    if isinstance(saved.get("use_stemmer"), bool):
        panel.stemmer_check.setChecked(saved["use_stemmer"])
    if isinstance(saved.get("template"), str):
        choose(panel.template_combo, saved["template"])
    if isinstance(saved.get("use_chat_template"), bool):
        panel.chat_check.setChecked(saved["use_chat_template"])
    for row, item in zip(panel.system_rows, saved.get("systems") or []):
        if not isinstance(item, dict) or item.get("kind") not in (ADAPTER, FILE, K_SHOT, ZERO_SHOT):
            continue
        choose(row.kind_combo, item["kind"])
        if isinstance(item.get("shots"), int):
            row.shots_spin.setValue(item["shots"])
        if isinstance(item.get("path"), str) and item["path"]:
            row.set_path(item["path"])
            if row.kind == ADAPTER:
                panel._prompt_from = item["path"]  # its prompt settings were restored above, as saved
        row.enabled_check.setChecked(bool(item.get("enabled")))

from playground.qt.model_dialog import ModelDialog


def test_dialog_choices(qtbot, tmp_path):
    d = ModelDialog(recent_folders=[])
    qtbot.addWidget(d)
    source, device, dtype = d.choice()
    assert source.kind == "bundled" and device == "auto" and dtype == "auto"
    qtbot.keyClicks(d.folder_edit, str(tmp_path))
    d.dtype_combo.setCurrentText("bfloat16")
    d.pickle_check.setChecked(True)
    source, device, dtype = d.choice()
    assert (source.kind, source.ref, source.allow_pickle, dtype) == ("local", str(tmp_path), True, "bfloat16")
    qtbot.keyClicks(d.hub_edit, "google/flan-t5-small")
    source, _, _ = d.choice()
    assert (source.kind, source.ref) == ("hub", "google/flan-t5-small")


def test_scanning_an_empty_cache_says_so(qtbot):
    d = ModelDialog()
    qtbot.addWidget(d)
    d._scan_cache()
    assert d.cache_combo.count() == 0
    assert "no models" in d.cache_combo.placeholderText()

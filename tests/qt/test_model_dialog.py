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


def test_a_symlink_loop_chosen_in_change_model_ends_in_a_plain_message(qtbot, app_context, tmp_path):
    """Issue 20, item 6: the Change-model path raised a traceback for a loop; now the load fails
    with a plain message the window shows, and the app keeps running."""
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    d = ModelDialog(recent_folders=[])
    qtbot.addWidget(d)
    qtbot.keyClicks(d.folder_edit, str(loop))
    source, device, dtype = d.choice()  # raised RuntimeError before the fix
    assert source.kind == "local"
    with qtbot.waitSignal(app_context.sig_model_load_failed, timeout=30000) as blocker:
        app_context.load_model(source, device=device, dtype=dtype)
    message, _hint = blocker.args
    assert "loop" in message and "RuntimeError" not in message

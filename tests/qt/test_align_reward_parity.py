"""The Align tab's step 2 and `playground align` (method.name = "reward_model") are one path: the
same job, seed and pairs give the same reward model, head weights and all."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt


def _head(path):
    from safetensors.torch import load_file

    return load_file(str(path))


@pytest.mark.parametrize("mode, backbone, steps", [("full", "policy", 2), ("quick", "encoder", 30)])
def test_the_tab_and_the_cli_train_the_same_reward_model(qtbot, context_with_tiny_llama, tiny_llama_dir, tmp_path,
                                                         mode, backbone, steps):
    import torch

    from playground.core.align.job import run_align
    from playground.core.align.presets import reward_model_job
    from playground.qt.align import AlignPanel

    panel = AlignPanel(context_with_tiny_llama)
    qtbot.addWidget(panel)
    rw = panel.reward
    rw.pairs.setValue(6)
    rw.test_pairs.setValue(4)
    rw.mine.setChecked(False)  # on by default; a job file has no learner labels to add
    rw.backbone.setCurrentIndex(rw.backbone.findData(backbone))
    rw.mode.setCurrentIndex(rw.mode.findData(mode))
    rw.full_steps.setValue(steps)  # shown (disabled) in quick mode: the draft is what the tab trains
    rw.draft.set("job.training.max_steps", steps)
    qtbot.mouseClick(rw.train, Qt.LeftButton)
    qtbot.waitUntil(lambda: rw.score_btn.isEnabled(), timeout=180_000)
    tab = _head(rw.saved_path)

    cfg = reward_model_job(mode, backbone)  # the same job, as a job file would say it
    cfg.model.source = str(tiny_llama_dir)
    cfg.data.max_train_examples, cfg.data.max_test_examples = 6, 4
    cfg.training.max_steps = steps
    cfg.output.dir = str(tmp_path / "cli")
    done = list(run_align(cfg))[-1]
    cli = _head(tmp_path / "cli" / "reward_head.safetensors")

    assert float(cli["weight"].abs().sum()) > 0  # it trained: the head starts at zero
    for key in ("weight", "bias", "mean", "std"):
        assert torch.allclose(tab[key], cli[key], atol=1e-6), key
    assert done.report["steps"] == steps == rw.report.steps
    assert done.report["test_accuracy"] == rw.report.test_accuracy
    if mode == "full":  # the rates the job names, which the tab reports
        assert (done.report["learning_rate"], done.report["head_learning_rate"], done.report["batch_pairs"]) \
            == (1e-4, 1e-3, 4)
        assert "at learning rate 0.0001 and the head at 0.001" in rw.result.text()

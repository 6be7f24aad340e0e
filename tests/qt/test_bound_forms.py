"""The generation forms are bound to typed drafts made from one declaration, and remember themselves."""

import argparse
import dataclasses

from playground.cli.settings_options import add_generation_options, generation_from_args
from playground.core.decoding.settings import GenerationSettings, SamplingSettings
from playground.core.prompting.history import History
from playground.core.prompting.prompt_settings import PromptSettings
from playground.qt.generate.panel import GeneratePanel
from playground.qt.prompt.panel import PromptPanel
from playground.qt.sampling.panel import SamplingPanel


def _help(cls, name):
    return {f.name: f for f in dataclasses.fields(cls)}[name].metadata["help"]


def test_generate_starts_from_the_defaults_the_cli_uses(qtbot, app_context):
    panel = GeneratePanel(app_context)
    qtbot.addWidget(panel)
    parser = argparse.ArgumentParser()
    add_generation_options(parser)
    assert panel.draft.value == GenerationSettings() == generation_from_args(parser.parse_args([]))
    # the rows teach with the fields' own help (written once, in core)
    assert panel.temperature.toolTip() == _help(SamplingSettings, "temperature")
    assert panel.max_tokens.toolTip() == _help(GenerationSettings, "max_new_tokens")


def test_generate_form_edits_its_draft_and_a_restart_shows_it(qtbot, app_context):
    panel = GeneratePanel(app_context)
    qtbot.addWidget(panel)
    panel.mode.setCurrentIndex(1)
    panel.temperature.setValue(0.4)
    panel.max_tokens.setValue(17)
    assert panel.settings_from_controls() == GenerationSettings.make(max_new_tokens=17, do_sample=True,
                                                                     temperature=0.4)
    again = GeneratePanel(app_context)
    qtbot.addWidget(again)
    assert (again.mode.currentIndex(), again.temperature.value(), again.max_tokens.value()) == (1, 0.4, 17)
    assert again.temperature.isEnabled()


def test_sampling_sliders_share_the_declaration_and_persist(qtbot, context_with_tiny_llama):
    panel = SamplingPanel(context_with_tiny_llama)
    qtbot.addWidget(panel)
    c = panel.controls
    assert c.top_p.toolTip() == _help(SamplingSettings, "top_p")
    c.top_k.setValue(12)
    c.top_p.setValue(80)
    assert (c.settings().top_k, c.settings().top_p) == (12, 0.8)
    assert c.top_k_value.text() == "12" and c.top_p_value.text() == "0.80"
    c.greedy_radio.click()
    assert not c.top_k.isEnabled() and c.settings().do_sample is False
    again = SamplingPanel(context_with_tiny_llama)
    qtbot.addWidget(again)
    assert again.controls.settings() == c.settings()
    assert again.controls.greedy_radio.isChecked()


def test_prompt_form_is_bound_and_remembered(qtbot, context_with_tiny_llama, tmp_path):
    panel = PromptPanel(context_with_tiny_llama, history=History(tmp_path / "h.sqlite3"))
    qtbot.addWidget(panel)
    assert panel.draft.value == PromptSettings()
    panel.shots_spin.setValue(2)
    panel.seed_spin.setValue(5)
    panel.max_tokens.setValue(33)
    panel.template_combo.setCurrentIndex(panel.template_combo.count() - 1)  # the free template
    assert panel.free_edit.isEnabled()
    v = panel.draft.value
    assert (v.shots, v.seed, v.generation.max_new_tokens, v.template) == (2, 5, 33, "__free__")
    assert panel.settings().max_new_tokens == 33 and panel.settings().do_sample is False
    assert panel.shots_spin.toolTip() == _help(PromptSettings, "shots")
    again = PromptPanel(context_with_tiny_llama, history=History(tmp_path / "h2.sqlite3"))
    qtbot.addWidget(again)
    assert (again.shots_spin.value(), again.seed_spin.value(), again.max_tokens.value()) == (2, 5, 33)
    assert again.free_edit.isEnabled()

"""One declaration per generation setting: the GUI, the CLI and the settings file share its defaults."""

import argparse
import dataclasses
import json

import pytest

from playground.cli.settings_options import add_generation_options, generation_from_args
from playground.core.base.settings import Settings
from playground.core.base.settings_schema import SETTINGS_VERSION, WindowSection
from playground.core.decoding.settings import (
    DEFAULT_GENERATION,
    DEFAULT_SAMPLING,
    GenerationSettings,
    SamplingSettings,
)


def _cli(*argv):
    p = argparse.ArgumentParser()
    add_generation_options(p)
    return generation_from_args(p.parse_args(list(argv)))


def test_the_cli_and_the_settings_file_start_from_the_one_set_of_defaults(tmp_path):
    from_file = Settings(tmp_path / "none.json").section(GenerationSettings)
    assert _cli() == from_file == GenerationSettings() == DEFAULT_GENERATION
    assert DEFAULT_GENERATION.sampling == DEFAULT_SAMPLING
    # The defaults themselves (a change here is a change for every tab and the CLI: say why in settings.py).
    assert (DEFAULT_SAMPLING.do_sample, DEFAULT_SAMPLING.temperature, DEFAULT_SAMPLING.top_k,
            DEFAULT_SAMPLING.top_p, DEFAULT_SAMPLING.seed) == (False, 1.0, 0, 1.0, 0)


def test_cli_flags_fill_the_same_type():
    s = _cli("--sample", "--temperature", "0.7", "--top-k", "40", "--top-p", "0.9", "--seed", "5",
             "--max-new-tokens", "12")
    assert s == GenerationSettings.make(max_new_tokens=12, do_sample=True, temperature=0.7, top_k=40, top_p=0.9,
                                        seed=5)
    assert _cli("--greedy").do_sample is False


def test_cli_help_is_the_fields_help(capsys):
    p = argparse.ArgumentParser()
    add_generation_options(p)
    text = " ".join(p.format_help().split())
    for f in dataclasses.fields(SamplingSettings):
        assert " ".join(f.metadata["help"].split()) in text, f.name
    assert "default 64" in text and "1 to 4096" in text


def test_settings_sections_are_the_settings_types(tmp_path):
    s = Settings(tmp_path / "s.json")
    s.put(GenerationSettings.make(max_new_tokens=9, do_sample=True, temperature=0.4))
    s.save()
    again = Settings(tmp_path / "s.json")
    assert again.section(GenerationSettings) == GenerationSettings.make(max_new_tokens=9, do_sample=True,
                                                                        temperature=0.4)
    # the Sampling tab's section starts with sampling on, and says why in the schema
    assert again.section(SamplingSettings) == dataclasses.replace(DEFAULT_SAMPLING, do_sample=True)


def test_a_bad_field_inside_a_nested_section_falls_back_alone(tmp_path):
    p = tmp_path / "s.json"
    p.write_text(json.dumps({"version": SETTINGS_VERSION, "values": {
        "generation": {"max_new_tokens": 20, "sampling": {"temperature": "hot", "top_k": 3}}}}))
    s = Settings(p)
    assert "generation.sampling.temperature" in s.load_problem
    g = s.section(GenerationSettings)
    assert (g.max_new_tokens, g.top_k, g.temperature) == (20, 3, DEFAULT_SAMPLING.temperature)


def test_a_version_1_file_is_migrated(tmp_path):
    p = tmp_path / "s.json"
    p.write_text(json.dumps({"version": 1, "values": {
        "theme": "dark", "zoom": 1.25, "window_geometry": "abc", "welcome_seen": True,
        "generation": {"max_new_tokens": 30, "do_sample": True, "temperature": 0.5, "top_n": 20},
        "finetune_active_run": "/runs/a", "finetune_job": {"model": {}}}}))
    s = Settings(p)
    assert s.load_problem == ""
    assert s.section(WindowSection) == WindowSection(theme="dark", zoom=1.25, geometry="abc", welcome_seen=True)
    assert s.section(GenerationSettings) == GenerationSettings.make(max_new_tokens=30, do_sample=True,
                                                                    temperature=0.5)
    from playground.core.base.settings_schema import FinetuneSection

    assert s.section(FinetuneSection) == FinetuneSection(job={"model": {}}, active_run="/runs/a")
    s.save()
    assert json.loads(p.read_text())["version"] == SETTINGS_VERSION


def test_a_type_without_a_section_is_refused(tmp_path):
    with pytest.raises(KeyError):
        Settings(tmp_path / "s.json").section(dict)


def test_flat_and_nested_layouts_read_the_same():
    g = GenerationSettings.make(max_new_tokens=7, do_sample=True, top_k=3)
    assert GenerationSettings.from_dict(g.to_dict()) == g
    assert GenerationSettings.from_dict(dataclasses.asdict(g)) == g


def test_a_value_that_would_not_load_again_is_not_written(tmp_path):
    s = Settings(tmp_path / "s.json")
    s.put(GenerationSettings.make(max_new_tokens=9, temperature=float("nan")))
    s.save()
    again = Settings(tmp_path / "s.json")
    assert again.load_problem == ""
    assert again.section(GenerationSettings) == GenerationSettings.make(max_new_tokens=9)

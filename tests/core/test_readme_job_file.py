"""The job file the README documents is the one the code reads: every key, with its default."""

from __future__ import annotations

import re
from pathlib import Path

from playground.core.finetune import FinetuneConfig, load_config

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_job_file() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### The job file"):]
    return re.search(r"```toml\n(.*?)```", section, re.S).group(1)


def test_the_readme_job_file_parses_and_shows_the_defaults(tmp_path):
    job = tmp_path / "job.toml"
    job.write_text(readme_job_file(), encoding="utf-8")
    documented = load_config(job).validate().to_dict()
    defaults = FinetuneConfig().to_dict()
    # output.dir is resolved against the job file's folder; everything else must match exactly
    assert Path(documented["output"].pop("dir")) == tmp_path / Path(defaults["output"].pop("dir"))
    assert documented == defaults


def test_every_section_of_the_job_is_documented():
    documented = set(re.findall(r"^\[([a-z_.]+)\]", readme_job_file(), re.M))
    sections = {name for name, value in FinetuneConfig().to_dict().items() if isinstance(value, dict)}
    assert sections <= documented


def readme_comments() -> dict[str, str]:
    """``section.key`` -> the README's comment on that key (continuation lines joined)."""
    out, section, last = {}, None, None
    for line in readme_job_file().splitlines():
        if m := re.match(r"^\[([a-z_.]+)\]", line):
            section, last = m.group(1), None
        elif (m := re.match(r"^([a-z_]+) = .*?\s# ?(.*)$", line)) and section != "data.columns":
            last = f"{section}.{m.group(1)}"
            out[last] = m.group(2).strip()
        elif (m := re.match(r"^\s+# ?(.*)$", line)) and last:
            out[last] += " " + m.group(1).strip()
        else:
            last = None
    return out


def field_helps() -> dict[str, str]:
    import dataclasses

    out = {}

    def walk(obj, prefix):
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if dataclasses.is_dataclass(value):
                walk(value, f"{prefix}{f.name}.")
            elif "help" in f.metadata:
                out[prefix + f.name] = f.metadata["help"]

    walk(FinetuneConfig(), "")
    return out


def test_the_readme_comments_are_the_fields_help():
    """One text: the help on each config field is the README's comment on that key, both ways."""
    comments, helps = readme_comments(), field_helps()
    assert len(comments) >= 30
    assert comments == helps

"""Files the app writes: atomic, and readable by others unless they are the user's own settings."""

import os
import stat

from playground.core.base.paths import atomic_write_text
from playground.core.base.settings import Settings


def test_handouts_and_exports_are_readable_by_others_and_settings_stay_private(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "handout.html", "<p>hi</p>")
        settings = Settings(tmp_path / "settings.json")
        settings.set("theme", "dark")
        settings.save()
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "handout.html").stat().st_mode) == 0o644
    assert (tmp_path / "handout.html").read_text() == "<p>hi</p>"
    assert stat.S_IMODE((tmp_path / "settings.json").stat().st_mode) == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]

"""The small base every part of the core stands on: errors, handles, paths, settings, versions."""

"""Widgets and helpers more than one tab uses (tab packages never import each other)."""
